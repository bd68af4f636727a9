# Why a plan is refused (plan::PlanError), in English. Every message here must exist in
# plan.ru.ftl and plan.tg.ftl with the same variables. Glossary: docs/glossary.md.
# `{ $text }` is what was typed, quoted.
plan-not-a-step = { $text } is not a step (remind, tier1..tier9, release)
plan-not-action-delay = { $text } is not ACTION:DELAY (like tier1:2h)
plan-not-a-duration = { $text } is not a duration (like 10s, 90m, 2h, 1d, 1h30m)
plan-not-a-window = { $text } is not a window (like 09:00-11:00, or mon-fri/09:00-11:00)
plan-window-ends-when-it-starts = window { $text } ends when it starts: give a window like 09:00-11:00, or 22:00-02:00 across midnight
plan-not-a-day = { $text } is not a day of the week: give mon, tue, wed, thu, fri, sat, sun (or пн..вс, душанбе..якшанбе), a range like mon-fri, or a list like mon,wed,fri
plan-windows-need-zone = daily windows need a time zone (tz)
plan-every-or-windows = give either an interval (every) or daily windows, not both
plan-interval-too-short = the check-in interval must be at least 1s
plan-no-window = a daily schedule needs at least one window
plan-window-same-time = a window must end at another time of day than it starts
plan-window-no-days = a window needs at least one day of the week (leave the days out for every day)
plan-unknown-zone = { $text } is not a known time zone (like Asia/Dushanbe)
plan-not-positive = grace and reminders must be positive
plan-no-steps = the plan needs at least one step
plan-step-before-miss = a step cannot come before the check-in is missed
plan-step-twice = the step { $step } appears twice
