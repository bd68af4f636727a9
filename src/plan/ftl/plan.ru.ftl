# Why a plan is refused (plan::PlanError), in Russian. Glossary: docs/glossary.md.
plan-not-a-step = { $text } — не шаг плана (remind, tier1..tier9, release)
plan-not-action-delay = { $text } — не ШАГ:ЗАДЕРЖКА (например, tier1:2h)
plan-not-a-duration = { $text } — не длительность (например, 10s, 90m, 2h, 1d, 1h30m: s — секунды, m — минуты, h — часы, d — дни)
plan-not-a-window = { $text } — не окно (например, 09:00-11:00 или пн-пт/09:00-11:00)
plan-window-ends-when-it-starts = окно { $text } заканчивается тогда же, когда начинается: укажите окно вроде 09:00-11:00 или 22:00-02:00 (через полночь)
plan-not-a-day = { $text } — не день недели: укажите пн, вт, ср, чт, пт, сб, вс (или mon..sun, душанбе..якшанбе), промежуток вроде пн-пт или список вроде пн,ср,пт
plan-windows-need-zone = для ежедневных окон нужен часовой пояс (tz)
plan-every-or-windows = укажите либо интервал (every), либо ежедневные окна, но не то и другое
plan-interval-too-short = интервал между отметками должен быть не меньше 1s (одной секунды)
plan-no-window = для ежедневного расписания нужно хотя бы одно окно
plan-window-same-time = окно должно заканчиваться в другое время суток, чем начинается
plan-window-no-days = у окна должен быть хотя бы один день недели (не указывайте дни, если окно на каждый день)
plan-unknown-zone = { $text } — неизвестный часовой пояс (например, Asia/Dushanbe)
plan-not-positive = запас времени и напоминания должны быть больше нуля
plan-no-steps = в плане нужен хотя бы один шаг
plan-step-before-miss = шаг не может наступить раньше, чем пропущена отметка
plan-step-twice = шаг { $step } указан дважды
