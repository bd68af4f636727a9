# Дар конфигуратсияи нозир чӣ нодуруст аст (watch::config::ConfigProblem), бо забони тоҷикӣ.
# Glossary: docs/glossary.md. Бахшҳо, калидҳо, қиматҳо ва байрақҳо (`[delivery]`, `timeout`,
# `public_url`, `--metrics-listen`) ҳамон тавре навишта мешаванд, ки оператор менависад.
config-delivery-duration = [delivery]: { $problem }
config-delivery-key-duration = [delivery]: { $key }: { $problem }
config-smtp = [smtp]: суроғаи сервери SMTP мувофиқ нест: { $detail }
config-needs-url = [{ $section }]: url (суроғаи сервер) нишон дода нашудааст
config-no-data-dir = ҷузвдони маълумоти платформа дар ин ҷо маълум нест; --data DIR-ро диҳед
config-proxy = танзимоти прокси ([proxy]) нодуруст аст: { $detail }
config-no-connections = [connections]: total ва per_address бояд на камтар аз 1 бошанд
config-metrics-on-listen = нишондиҳандаҳоро дар суроғаи ошкорои нозир { $listen }, ки тасдиқи ҳузур ба он меояд, додан мумкин нест: дар --metrics-listen порти дигар диҳед (масалан, 127.0.0.1:8471)
config-metrics-readable = нишондиҳандаҳоро дар { $addr } бегонагон хонда метавонанд: суроғаи loopback-ро диҳед (масалан, 127.0.0.1:8471) ё, агар файрвол ин суроғаро аз дигарон пӯшида нигоҳ дорад, --metrics-public-ро илова кунед (`public = true` дар [metrics])
config-in-metrics = [metrics]: { $problem }
config-plan = яке аз нақшаҳои конфигуратсия: { $problem }
config-plan-number = [[plan]] рақами { $number }: { $problem }
config-public-url = public_url { $url } суроғаи http:// ё https:// нест
config-secret-unreadable = { $file }: файли махфии { $path }-ро хондан нашуд: { $reason }
config-secret-empty = { $file }: файли махфии { $path } холӣ аст
