# Что не так в конфигурации наблюдателя (watch::config::ConfigProblem), по-русски.
# Glossary: docs/glossary.md. Разделы, ключи, значения и флаги (`[delivery]`, `timeout`,
# `public_url`, `--metrics-listen`) пишутся так, как их пишет оператор.
config-delivery-duration = [delivery]: { $problem }
config-delivery-key-duration = [delivery]: { $key }: { $problem }
config-smtp = [smtp]: адрес SMTP-сервера не подходит: { $detail }
config-needs-url = [{ $section }]: не указан url (адрес сервера)
config-no-data-dir = каталог данных платформы здесь неизвестен; укажите --data DIR
config-proxy = настройки прокси ([proxy]) неверны: { $detail }
config-no-connections = [connections]: total и per_address должны быть не меньше 1
config-metrics-on-listen = метрики нельзя отдавать на публичном адресе наблюдателя { $listen }, куда приходят отметки: укажите в --metrics-listen другой порт (например, 127.0.0.1:8471)
config-metrics-readable = метрики на { $addr } смогут читать посторонние: укажите адрес loopback (например, 127.0.0.1:8471) или, если этот адрес закрыт файрволом, добавьте --metrics-public (`public = true` в [metrics])
config-in-metrics = [metrics]: { $problem }
config-plan = один из планов в конфигурации: { $problem }
config-plan-number = [[plan]] № { $number }: { $problem }
config-public-url = public_url { $url } — не адрес http:// или https://
config-secret-unreadable = { $file }: не удаётся прочитать секретный файл { $path }: { $reason }
config-secret-empty = { $file }: секретный файл { $path } пуст
