# posbon history: что видел каждый наблюдатель, по строке на событие (русский).
# Термины: docs/glossary.md.

place-laptop = ноутбука
place-phone = телефона { $id }

did-checkin = отметка с { $place }
did-unlock = хранилище открыто (с { $place })
did-status = просмотр состояния с { $place }
did-history = просмотр истории с { $place }
did-plan = план изменён с { $place }
did-pause = пауза с { $place }
did-resume = пауза снята с { $place }
did-contacts = контакты отправлены с { $place }
did-test-alert = запрошены проверочные оповещения с { $place }
did-bundle-put = запечатанный пакет сохранён с { $place }
did-bundle-remove = запечатанный пакет удалён с { $place }
did-phone-invite = ссылка для телефона создана с { $place }
did-phone-list = список телефонов запрошен с { $place }
did-phone-remove = телефон удалён с { $place }
did-phone-enrolled = подключение { $place }
did-pin-guessing = неверный PIN снова и снова с { $place }: поднята тихая тревога
did-end-pretend = `duress over` с { $place }: мнимый мир завершён
did-duress-retract = `duress retract` с { $place }
did-unenrol = запрошено отключение от наблюдателя с { $place }
did-other = { $what } с { $place }

step-fired = сработал шаг: { $step }
alert = оповещение { $step } ({ $alert }) для { $contact } через { $channel }: { $settled }
alert-delivered = доставлено { $when }
alert-given-up = ДОСТАВКА ПРЕКРАЩЕНА { $when }
alert-pending = ЕЩЁ НЕ ДОСТАВЛЕНО (наблюдатель продолжает попытки)
ack = { $contact } берёт на себя («Беру на себя», оповещение { $alert }, по ссылке из { $channel })
download = { $contact } скачал(а) переданный пакет { $bundle } (по ссылке из { $channel })

duress-marked = ПРИНУЖДЕНИЕ: { $text }
pretend-marked = { $text } (в мнимом мире, показанном под принуждением)

nothing-yet = пока ничего
