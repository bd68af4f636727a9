# Командная строка posbon: русский. Все сообщения и подстановки — как в en.ftl (это проверяет
# тест). Словарь терминов: docs/glossary.md.
prompt-passphrase = Парольная фраза
prompt-new-passphrase = Новая парольная фраза
prompt-duress-passphrase = Фраза под принуждением
prompt-backup-passphrase = Парольная фраза резервной копии
prompt-key-passphrase = Парольная фраза { $path }
prompt-again = { $what } (ещё раз)
passphrase-empty = парольная фраза пуста
passphrases-differ = фразы не совпадают; ничего не изменилось
created-vault = хранилище создано в { $dir }
type-body = Введите текст; закончите нажатием Ctrl-D на отдельной строке.
updated-record = запись { $id } изменена
attached = файл { $name } ({ $size }) добавлен к записи { $id }
wrote = записано в { $path }
imported = { $count ->
    [one] импортирована { $count } запись
    [few] импортировано { $count } записи
   *[many] импортировано { $count } записей
}
checked-in = { $url }: отметка принята; { $deadline }
plan-set = { $url }: план задан; { $deadline }
deadline-next = следующий срок { $time }
deadline-paused = пауза до { $time }
deadline-none = план ещё не задан
weekday-mon = пн
weekday-tue = вт
weekday-wed = ср
weekday-thu = чт
weekday-fri = пт
weekday-sat = сб
weekday-sun = вс
days-every = каждый день
plan-window = окно для отметки: { $days } { $from }-{ $to }
plan-window-night = окно для отметки: { $days } { $from }-{ $to } (закрывается на следующий день)
plan-no-window = без окна: { $days }; в такой день срока нет, следующий срок — в ближайший день с окном
status-plan = план: { $plan }
status-none = нет
status-last-checkin = последняя отметка: { $time }
status-never = ни разу
status-fired = выполнен шаг: { $step } (срок { $due }, выполнен { $fired })
status-duress-seen = фраза или PIN под принуждением последний раз: { $time }
not-enrolled = хранилище не подключено ни к одному наблюдателю: сначала выполните `posbon enrol URL КОД`
watchers-failed-all = { $total ->
    [one] наблюдатель не ответил или отказал
   *[other] { $failed } из { $total } наблюдателей не ответили или отказали
}
watchers-failed-some = { $failed } из { $total } наблюдателей не ответили или отказали; остальные ответили (см. выше)
error-wrong-passphrase = неверная парольная фраза или ключ восстановления (ничего не изменилось)
error-no-vault = в { $dir } нет хранилища (создайте его: `posbon init`)
error-in-use = хранилище в { $dir } занято другой программой posbon; дождитесь, пока она закончит
error-no-record = нет записи с id { $id }
error-ambiguous-id = начало id { $id } подходит к нескольким записям; введите больше знаков
error-tampered = запись { $id } повреждена или подделана: её подлинность не подтверждается
