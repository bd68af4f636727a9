# What is wrong with a watcher config (watch::config::ConfigProblem), in English: also the
# problem's `Display`, which scripts and the tests read. Every message here must exist in
# config.ru.ftl and config.tg.ftl with the same variables. Glossary: docs/glossary.md.
# Sections, keys, values and flags (`[delivery]`, `timeout`, `public_url`, `--metrics-listen`)
# stay as the operator writes them, in every language.
# `{ $problem }` is already said in the reader's language (why a duration or a plan is refused,
# from src/plan/ftl/, or a metrics message below); `{ $detail }` and `{ $reason }` come in
# English from elsewhere (the e-mail channel, the proxy list, the system's reason a file does
# not read); `{ $url }` is what was typed, quoted.
config-delivery-duration = [delivery]: { $problem }
config-delivery-key-duration = [delivery]: { $key }: { $problem }
config-smtp = [smtp]: { $detail }
config-needs-url = [{ $section }] needs a url
config-no-data-dir = no platform data directory is known here; give --data DIR
config-proxy = { $detail }
config-no-connections = [connections]: total and per_address must be at least 1
config-metrics-on-listen = metrics cannot be served on the public listen address { $listen }: give --metrics-listen another port (such as 127.0.0.1:8471)
config-metrics-readable = metrics on { $addr } could be read by others: use a loopback address (such as 127.0.0.1:8471), or add --metrics-public (`public = true` under [metrics]) if a firewall keeps that address private
config-in-metrics = [metrics]: { $problem }
config-plan = a plan in the config: { $problem }
config-plan-number = [[plan]] number { $number }: { $problem }
config-public-url = public_url { $url } is not an http:// or https:// address
config-secret-unreadable = { $file }: cannot read the secret file { $path }: { $reason }
config-secret-empty = { $file }: the secret file { $path } is empty
