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
enrol-bundles-sending = { $count ->
    [one] отправляю запечатанный вами пакет вашим наблюдателям, и новому тоже: он запечатывается заново из записей в их нынешнем виде, для тех же людей (как `posbon release update`), чтобы у всех наблюдателей была одна версия
    [few] отправляю { $count } запечатанных вами пакета вашим наблюдателям, и новому тоже: каждый запечатывается заново из записей в их нынешнем виде, для тех же людей (как `posbon release update`), чтобы у всех наблюдателей была одна версия
   *[many] отправляю { $count } запечатанных вами пакетов вашим наблюдателям, и новому тоже: каждый запечатывается заново из записей в их нынешнем виде, для тех же людей (как `posbon release update`), чтобы у всех наблюдателей была одна версия
}
enrol-bundle-stored = пакет { $id } ({ $name }): запечатан заново как версия { $version } и сохранён у всех наблюдателей
enrol-bundle-stored-but = пакет { $id } ({ $name }): запечатан заново как версия { $version } и сохранён у всех наблюдателей, кроме названных ниже
enrol-bundle-released = { $url } уже передал пакет { $id } ({ $name }) получателям: он хранит переданную версию, пока действуют её ссылки
enrol-bundle-lacks = у { $url } нет пакета { $id } ({ $name }): выполните `posbon release update { $id }`, когда он будет отвечать
enrol-bundle-old-copy = у { $url } осталась прежняя версия пакета { $id } ({ $name }): выполните `posbon release update { $id }`, когда он будет отвечать
enrol-bundle-not-sealed = у { $url } нет пакета { $id } ({ $name }): его не удалось запечатать заново ({ $reason }); исправьте это и выполните `posbon release update { $id }` или отзовите пакет: `posbon release remove { $id }`
enrolled-without-bundles = вы подключены к { $url }, но у него нет всех запечатанных вами пакетов (см. выше): передача материалов от него прошла бы без них
enrolled-bundles-unsent = вы подключены к { $url }, но запечатанные пакеты отправить не удалось: выполните `posbon release update ID` для каждого (см. `posbon release list`)
unenrolled-locally = { $url }: забыт только здесь. Наблюдателю НЕ сообщили: если он ещё работает, он продолжает следить за вами и оповестит ваших контактов, когда вы перестанете у него отмечаться. Попросите его оператора удалить вас.
unenrol-local-still-watching = { $url } только что ответил и всё ещё знает вас: он продолжает следить за вами и оповестит ваших контактов. Попросите его оператора удалить вас (от отвечающего наблюдателя отключаются командой `posbon unenrol URL` без --local: тогда он вас забывает)
unenrol-local-not-known = { $url } только что ответил как незнакомцу: он вас уже не знал
unenrol-local-no-answer = { $url } сейчас не ответил: { $reason }
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
