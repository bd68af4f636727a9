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
unenrolled = { $url }: отключено; этот наблюдатель больше не знает ни Вас, ни Ваших телефонов, ни Ваших пакетов, а это хранилище больше не знает его
unenrol-unverified = { $url } ответил как незнакомцу (возможно, его оператор Вас удалил), но этот ответ не подписан и мог быть подделан: здесь ничего не забыто. Когда оператор подтвердит, что удалил Вас, забудьте наблюдателя только здесь: `posbon unenrol --local { $url }`
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

# --- contacts, release, keys, records, passphrase, session, fields, editor, output, proxy (cli-words)
cannot-read = не удаётся прочитать { $path }
cannot-write = не удаётся записать { $path }
cannot-create = не удаётся создать { $path }
cannot-sync = не удаётся сохранить на диск { $path }
cannot-open-vault = не удаётся открыть хранилище в { $dir }
cannot-create-vault = не удаётся создать хранилище в { $dir }
error-damaged = хранилище повреждено: { $why }
contact-needs-fields = для контакта нужны имя, язык, круг и способ связи: укажите их в --fields-file FILE («-» — стандартный ввод) или запустите команду в терминале, чтобы ответить на вопросы; параметры командной строки тоже работают, но их видят другие пользователи, а оболочка сохраняет их в истории
contact-added = контакт { $name } добавлен
contact-replaced = контакт { $name } заменён
contact-removed = контакт { $name } удалён
contact-unknown = контакта с именем { $name } нет
contact-time-zone = часовой пояс: { $tz }
contact-email-attach = к письмам прикладываются переданные пакеты
contact-sealing-key = ключ для запечатанных пакетов: { $key }
contacts-none = контактов пока нет: добавьте контакт командой `posbon contact add`, она спросит все данные по очереди
contact-instructions = инструкции:
instructions-stdin = не удаётся прочитать инструкции со стандартного ввода
instructions-set = { $count ->
    [one] инструкции заданы ({ $count } символ)
    [few] инструкции заданы ({ $count } символа)
   *[many] инструкции заданы ({ $count } символов)
}
test-alerts-sending = отправляю проверочные оповещения; каждый наблюдатель отвечает, когда ответят все службы (не дольше { $seconds } с: шлюзу Signal может понадобиться минута)
test-alert-accepted = { $url }: { $contact } { $channel }: принято
test-alert-failed = { $url }: { $contact } { $channel }: ОШИБКА: { $reason }
test-alert-not-accepted = не принято
telegram-note = обратите внимание: telegram:{ $chat } — { $step }
telegram-person = это человек: он должен один раз открыть бота каждого наблюдателя и нажать «Start», иначе Telegram не пропустит оповещение («bot can't initiate conversation with a user»)
telegram-group = это группа: бот каждого наблюдателя должен быть её участником; если группа станет супергруппой, её id изменится (наблюдатель это отследит; обновите контакт)
telegram-channel = это канал или супергруппа: бот каждого наблюдателя должен быть администратором с правом публикации (канал) или участником (супергруппа)
telegram-username = @имя ведёт только в канал или публичную группу, но не к человеку (для человека укажите его числовой id); бот каждого наблюдателя должен быть в нём администратором
contact-ask-intro = Контакт вводится здесь, чтобы его данные не попали в историю Вашей оболочки.
contact-ask-stopped = ввод прерван, контакт не заполнен до конца; ничего не сохранено
contact-ask-name = Имя
contact-ask-lang = Язык его оповещений (tg, ru, en)
contact-ask-tier = Круг (1 — редактор, 2 — юристы, ...; несколько — через запятую; 0 — Вы сами)
contact-bad-tier = круг — это число от 0 до 9
contact-ask-role = Роль (редактор, юрист, семья, ...; Enter — пропустить)
contact-ask-tz = Часовой пояс (например, Asia/Dushanbe; Enter — как в Вашем плане)
contact-ask-ways = Как с ним связаться и его ключи для запечатанных пакетов — по одному в строке, в виде ВИД: ЗНАЧЕНИЕ ({ $kinds }); пустая строка завершает ввод:
contact-ask-way-again = это не ВИД: ЗНАЧЕНИЕ, где ВИД — одно из: { $kinds }; введите ещё раз
contacts-saved-not-enrolled = сохранено в хранилище; каждый наблюдатель получит это, когда Вы к нему подключитесь
contacts-saved-not-synced = сохранено в хранилище, но ещё не у всех наблюдателей: выполните `posbon contact sync`, когда они будут доступны
contacts-sent = { $count ->
    [one] { $url }: отправлен { $count } контакт
    [few] { $url }: отправлено { $count } контакта
   *[many] { $url }: отправлено { $count } контактов
}
verify-short-fingerprint = --watcher { $given } — это 64-битный отпечаток ключа, короткая форма из posbon 0.1, слишком короткая, чтобы ей доверять; попросите у оператора наблюдателя или у журналиста полный отпечаток (32 шестнадцатеричные цифры, например 1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d)
verify-not-a-watcher = --watcher { $given } — это не отпечаток ключа наблюдателя (вида 1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d) и не его открытый ключ; узнайте его у оператора наблюдателя по телефону
verify-stdin = не удаётся прочитать оповещение со стандартного ввода
verify-not-genuine = НЕ ПОДЛИННОЕ: не действуйте по этому оповещению, пока не подтвердите его по телефону
verify-genuine = ПОДЛИННОЕ: подписано наблюдателем { $fingerprint }
verify-subject = о ком
verify-step = шаг
verify-issued = отправлено
verify-title = заголовок
verify-text-outside = ВНИМАНИЕ: в сообщении есть текст вне подписанного оповещения (пометка о пересылке, подпись внизу или приписка): его подлинность ничем не подтверждена. Действуйте только по тексту, напечатанному ниже.
verify-begin = ----- подписанное оповещение: подлинность подтверждена только у этого текста -----
verify-end = ----- конец подписанного оповещения -----
release-key-note = отпечаток Вашего ключа запечатывания: им подписан каждый пакет, который Вы запечатываете. Передайте его каждому юристу лично (прочитайте вслух или запишите), чтобы `posbon open --from` мог отличить Ваши пакеты от подделок.
release-stored = { $size ->
    [one] { $url }: пакет { $id } сохранён ({ $size } байт)
    [few] { $url }: пакет { $id } сохранён ({ $size } байта)
   *[many] { $url }: пакет { $id } сохранён ({ $size } байт)
}
release-not-everywhere = пакет запечатан, но есть ещё не у всех наблюдателей: выполните `posbon release update ID`, когда они будут доступны
release-sealed = { $count ->
    [one] { $count } запись запечатана в пакет { $id }
    [few] { $count } записи запечатаны в пакет { $id }
   *[many] { $count } записей запечатано в пакет { $id }
}; пакет подписан Вашим ключом запечатывания { $fingerprint }, наблюдатели передадут его на шаге плана «передача материалов»
release-preview = Если этот пакет ({ $name }) будет передан, он откроет получателям { $people } следующее:
release-preview-attachment = файл: { $file }
release-preview-sources = { $count ->
    [one] ВНИМАНИЕ: в нём назван { $count } источник: { $names }
    [few] ВНИМАНИЕ: в нём названы { $count } источника: { $names }
   *[many] ВНИМАНИЕ: в нём названо { $count } источников: { $names }
}
release-confirm-on-terminal = подтвердите в терминале или, прочитав список выше, добавьте --yes
release-confirm = Введите { $word }, чтобы запечатать и отправить пакет
release-not-confirmed = не подтверждено; ничего не запечатано
release-holds-all = { $url }: есть все пакеты ({ $count })
release-removed = { $url }: пакет { $id } удалён
open-from-not-fingerprint = --from { $given } — это не полный отпечаток ключа запечатывания (восемь групп по четыре знака, например 3f2a-91c0-...): скопируйте его целиком, как его дал журналист
open-needs-key = это запечатанный пакет: укажите свой ключ: -i KEY
open-signed-checked = { $fingerprint } (совпадает с отпечатком, который Вы указали: пакет запечатал журналист)
open-signed-unchecked = { $fingerprint } (НЕ ПРОВЕРЕНО: сравните его с отпечатком ключа запечатывания, который Вам дал журналист, и откройте пакет с --from)
open-unsigned = НИКЕМ: этот пакет НЕ ПОДПИСАН. Такой файл может сделать любой, кто знает Ваш открытый ключ: не полагайтесь на него, пока журналист его не подтвердит (пакеты, запечатанные версией posbon старше подписи, тоже не подписаны)
open-unsigned-warning = ВНИМАНИЕ: этот пакет не подписан; такой файл может сделать любой, кто знает Ваш открытый ключ
open-bundle = пакет: { $name }
open-version = версия: { $version } пакета { $id } (сравните с версией в оповещениях наблюдателей: Вам могли повторно подсунуть более старую)
open-version-none = версия: нет (запечатан старой версией posbon)
open-signed-by = подписал: { $sealer }
open-sealed = запечатан: { $time }, запечатал: { $by }
open-for = для: { $people }
open-your-key = Ваш ключ: { $check }
open-key-sealed-for-it = пакет запечатан для него
open-key-not-checked-archive = не проверен (открыт расшифрованный архив)
open-key-not-checked-older = не проверен (в старом пакете ключи не указаны)
open-nothing-written = ничего не записано: укажите --from FINGERPRINT (отпечаток ключа запечатывания, который Вам дал журналист), чтобы проверить, кто запечатал пакет, и записать его содержимое, или --unchecked, чтобы записать его без проверки
open-written = записано:
open-written-to = записано в { $dir }
passwd-changed = парольная фраза изменена
recovery-key-shown =
    Это Ваш ключ восстановления. Он показывается один раз: запишите его на бумаге или отдайте человеку, которому доверяете.
    Он открывает хранилище без парольной фразы: posbon --recovery-key-file FILE ...
    Его открытый ключ (получатель age) для `posbon backup export --to`: { $recipient }
recovery-removed = ключ восстановления удалён
recovery-none = ключа восстановления не было
duress-set = фраза под принуждением задана: она открывает подставное хранилище (пустое, пока Вы не добавите в него что-нибудь, открыв его этой фразой), и каждое её использование незаметно оповещает Ваших наблюдателей
duress-removed = фраза под принуждением удалена
duress-none = фразы под принуждением не было
status-recovery-set = ключ восстановления: задан
status-recovery-not-set = ключ восстановления: не задан
status-duress-set = фраза под принуждением: задана
status-duress-not-set = фраза под принуждением: не задана
duress-used = фраза под принуждением использована: { $time }
capture-ask-title = Заголовок
title-empty = заголовок не может быть пустым
captured = сохранено без открытия хранилища (id выше); при следующем открытии это станет записью с тегом «captured»
backup-needs-recipient = хранилище открыто ключом восстановления: укажите для резервной копии --to RECIPIENT
not-an-age-recipient = { $given } — не получатель age (age1...)
backup-written = записано в { $path }: { $records ->
    [one] { $records } запись
    [few] { $records } записи
   *[many] { $records } записей
}, { $attachments ->
    [one] { $attachments } файл
    [few] { $attachments } файла
   *[many] { $attachments } файлов
}
backup-not-verified = файл { $path } не прошёл проверку
backup-verified = в порядке: { $records ->
    [one] { $records } запись
    [few] { $records } записи
   *[many] { $records } записей
}, { $attachments ->
    [one] { $attachments } файл
    [few] { $attachments } файла
   *[many] { $attachments } файлов
}, файлы занимают { $size }
backup-needs-identity = укажите -i IDENTITY_FILE, чтобы открыть резервную копию
backup-not-restored = не удаётся восстановить { $path }
backup-restored = в { $dir } восстановлено: { $records ->
    [one] { $records } запись
    [few] { $records } записи
   *[many] { $records } записей
} и { $attachments ->
    [one] { $attachments } файл
    [few] { $attachments } файла
   *[many] { $attachments } файлов
}
check-authentic = подлинность подтверждена: { $records ->
    [one] { $records } запись
    [few] { $records } записи
   *[many] { $records } записей
} и { $attachments ->
    [one] { $attachments } файл
    [few] { $attachments } файла
   *[many] { $attachments } файлов
}
check-orphans-removed = { $count ->
    [one] удалён { $count } ненужный зашифрованный файл, оставшийся от прерванной работы
    [few] удалены { $count } ненужных зашифрованных файла, оставшиеся от прерванной работы
   *[many] удалено { $count } ненужных зашифрованных файлов, оставшихся от прерванной работы
}
check-damaged = ПОВРЕЖДЕНО: { $what }
check-failed = { $count ->
    [one] { $count } элемент не прошёл проверку подлинности (см. выше); остальное цело
    [few] { $count } элемента не прошли проверку подлинности (см. выше); остальное цело
   *[many] { $count } элементов не прошли проверку подлинности (см. выше); остальное цело
}
panic-needs-terminal = ключи не будут уничтожены без подтверждения в терминале; добавьте --yes
panic-confirm =
    Ключи хранилища в { $dir } будут уничтожены: никто, включая Вас, больше не сможет его открыть.
    Введите ERASE, чтобы продолжить
panic-not-confirmed = не подтверждено; ничего не уничтожено
panic-done = ключи хранилища уничтожены
no-data-dir = каталог данных платформы здесь неизвестен; укажите --vault DIR
times = { $count ->
    [one] { $line } ({ $count } раз)
    [few] { $line } ({ $count } раза)
   *[many] { $line } ({ $count } раз)
}
insecure-fast-kdf = ВНИМАНИЕ: с --insecure-fast-kdf парольную фразу легко подобрать перебором; используйте этот параметр только для тестов
passphrase-file-unreadable = не удаётся прочитать файл с парольной фразой { $path }
passphrase-file-empty-line = файл с парольной фразой { $path } начинается с пустой строки
passphrase-fd-low = --passphrase-fd должен быть 3 или больше (0–2 — это stdin, stdout, stderr)
passphrase-fd-unreadable = не удаётся прочитать парольную фразу из дескриптора { $fd }
no-passphrase-given = парольная фраза не указана: используйте --passphrase-file FILE или --passphrase-fd N либо запустите команду в терминале
passphrase-terminal-unreadable = не удаётся прочитать парольную фразу из терминала
passphrase-too-weak = эту парольную фразу слишком легко угадать: { $found }тот, кто заберёт ноутбук, найдёт её примерно за 10^{ $guesses } попыток, а posbon требует не меньше 10^10. Возьмите четыре или больше не связанных между собой слова на любом языке (фразу, которая придёт в голову только Вам) и ничего о себе: ни имён, ни дат, ни мест
body-stdin = не удаётся прочитать текст со стандартного ввода
body-not-utf8 = текст не в кодировке UTF-8
stdin-unreadable = не удаётся прочитать стандартный ввод
record-needs-title = { $kind ->
    [source] для источника нужно имя
    [draft] для черновика нужен заголовок
   *[note] для заметки по делу нужно название дела
}: укажите его в --fields-file FILE («-» — стандартный ввод: поля, пустая строка, затем текст) или запустите команду в терминале, чтобы ответить на вопросы; --{ $label } тоже работает, но этот параметр видят другие пользователи, а оболочка сохраняет его в истории
record-title-empty = { $label ->
    [name] имя не может быть пустым
    [title] заголовок не может быть пустым
    [case] название дела не может быть пустым
   *[other] { $label } не может быть пустым
}
import-not-a-record = строка { $line } — не запись (столбец { $column }: ошибка { $error }); { $count ->
    [one] { $count } запись до неё добавлена
    [few] { $count } записи до неё добавлены
   *[many] { $count } записей до неё добавлено
}
import-title-empty = строка { $line }: пустой заголовок
import-no-such-field = строка { $line }: { $kind ->
    [source] у источника
    [draft] у черновика
   *[note] у заметки по делу
} нет поля { $field }
records-unreadable = { $count ->
    [one] { $count } запись не удалось прочитать
    [few] { $count } записи не удалось прочитать
   *[many] { $count } записей не удалось прочитать
}; остальные перечислены (выполните `posbon vault check`)
edit-set-syntax = --set ожидает FIELD=VALUE, а получено { $given }
edit-no-fields = полей нет: измените заголовок, теги или текст
edit-fields-are = есть поля: { $names }
edit-no-such-field = { $kind ->
    [source] у источника
    [draft] у черновика
   *[note] у заметки по делу
} нет поля { $field } ({ $has })
edit-nothing-to-change = нечего менять: укажите --fields-file, --title, --tag, --set, --stdin-body, --body-file или --editor
no-file-name = у { $path } нет пригодного имени файла; укажите --name
editor-no-ram = для редактирования нет каталога в оперативной памяти (tmpfs), а открытый текст не должен попадать на диск; передайте текст через стандартный ввод или --body-file
editor-not-started = не удаётся запустить редактор { $editor }
editor-failed = редактор завершился с ошибкой ({ $status }); ничего не сохранено
editor-not-utf8 = отредактированный текст не в кодировке UTF-8
fields-stdin = не удаётся прочитать поля со стандартного ввода
terminal-unreadable = не удаётся прочитать ввод с терминала
fields-ask-intro = { $label ->
    [name] Имя и поля
    [title] Заголовок и поля
   *[other] Название дела и поля
} вводятся здесь, чтобы они не попали в историю Вашей оболочки.
fields-ask-stopped = ввод прерван: { $label ->
    [name] имя не указано
    [title] заголовок не указан
   *[other] название дела не указано
}; ничего не сохранено
field-label = { $field ->
    [name] Имя
    [title] Заголовок
    [case] Дело
    [contact] Связь
    [trust] Доверие
    [gave] Что передал
    [court] Суд
    [lawyer] Юрист
    [dates] Даты
   *[other] { $field }
}
field-hint = { $field ->
    [contact] как с ним связаться
    [trust] насколько ему можно доверять и почему
    [gave] что он Вам передал
    [court] какой суд
    [lawyer] юрист, который ведёт дело
    [dates] заседания и сроки
   *[other] { "" }
}
field-ask = { $label } ({ $hint }; Enter — пропустить)
fields-not-a-field = строка { $line }: ожидается `поле: значение`
fields-unknown = строка { $line }: { $what ->
    [source] у источника
    [draft] у черновика
    [note] у заметки по делу
    [contact] у контакта
   *[way] у способа связи
} нет такого поля (есть: { $known })
fields-repeated = строка { $line }: `{ $field }` уже указано в строке { $first }
fields-empty = строка { $line }: `{ $field }` не может быть пустым
fields-bad-tier = строка { $line }: круг — это число от 0 до 9
fields-not-yes-or-no = строка { $line }: значение `{ $field }` — yes или no
fields-missing = нет строки `{ $field }:`, а она нужна { $what ->
    [source] для источника
    [draft] для черновика
    [note] для заметки по делу
    [contact] для контакта
   *[way] для способа связи
}
fields-not-utf8 = поля не в кодировке UTF-8
fields-unexpected-body = после полей и пустой строки идёт текст, но текст записи берётся не со стандартного ввода (он берётся из --body-file или --editor, либо не указан --stdin-body)
proxy-set = теперь все запросы к наблюдателям идут через { $proxy }, никогда напрямую: если прокси не отвечает, команда завершается ошибкой
proxy-not-answering = ВНИМАНИЕ: по адресу { $proxy } сейчас никто не отвечает: запустите Tor (или прокси), прежде чем отмечаться
proxy-override = (--proxy этой команды: { $url })
proxy-cleared = запросы к наблюдателям снова идут напрямую (не через прокси)
# Команды оператора `watch`.
watch-config-problems = { $count ->
    [one] в { $path } найдена { $count } ошибка
    [few] в { $path } найдены { $count } ошибки
   *[many] в { $path } найдено { $count } ошибок
}
watch-warning = предупреждение
watch-name-empty = имя не может быть пустым
watch-new-watcher = в { $dir } ещё не было наблюдателя: там создан новый (если Вы имели в виду существующий, проверьте --data); запустите его командой `posbon watch serve --data { $dir }`
watch-invite-given =
    передайте этот одноразовый код адресату ({ $name }); ему нужно выполнить: posbon enrol URL { $code }
    отпечаток ключа этого наблюдателя (у адресата должен быть такой же): { $fingerprint }
watch-no-watcher = в { $dir } нет наблюдателя (проверьте --data; наблюдатель создаётся командой `posbon watch serve` или `posbon watch invite`)
watch-no-pending = нет ожидающей доставки с ключом { $key }
watch-no-pending-see = нет ожидающей доставки с ключом { $key } (см. `posbon watch outbox`)
watch-gave-up = доставка { $key } прекращена; она остаётся в истории исходящих
watch-not-a-key = { $key } — не ключ доставки
watch-cannot-write-to = не удаётся записать в { $path }
watch-delivered-first = { $key } доставлено раньше, чем наблюдатель успел прекратить доставку
watch-give-up-timeout = работающего наблюдателя попросили прекратить доставку { $key }, но за 10 с его отчёт этого не показал; см. `posbon watch outbox`
watch-running-as-of = (наблюдатель работает; данные на { $time })
watch-telegram-moved = чат Telegram { $old } стал супергруппой { $new }: оповещения идут в { $new }; в списке контактов журналиста всё ещё указан { $old } (попросите журналиста заменить его на { $new })
watch-outbox-summary = ожидают: { $pending } (с ошибками: { $failing }, отклонены: { $refused } — действовать нужно контакту или Вам; попытки продолжаются), показано завершённых: { $settled }
watch-report-unreadable = наблюдатель работает, но { $path } не удаётся прочитать
watch-report-damaged = { $path } повреждён
watch-plan-none = плана пока нет
watch-plan-paused = пауза до { $time }
watch-plan-alerting = ТРЕВОГА: выполнены шаги { $steps }, отметки после них ещё не было
watch-plan-due = следующий срок { $time }
watch-plan-unknown = план не удаётся прочитать
watch-no-journalists = к этому наблюдателю не подключён ни один журналист
watch-journalist-enrolled = подключён { $enrolled }; последняя отметка { $checkin }
watch-journalist-holds = { $phones ->
    [one] { $phones } телефон
    [few] { $phones } телефона
   *[many] { $phones } телефонов
}, { $bundles ->
    [one] { $bundles } запечатанный пакет
    [few] { $bundles } запечатанных пакета
   *[many] { $bundles } запечатанных пакетов
}, { $contacts ->
    [one] { $contacts } контакт
    [few] { $contacts } контакта
   *[many] { $contacts } контактов
}
watch-journalists = { $count ->
    [one] { $count } журналист
    [few] { $count } журналиста
   *[many] { $count } журналистов
}
watch-no-journalist-called = к этому наблюдателю не подключён журналист с именем { $name } (см. `posbon watch journalists`)
watch-id-enrolled = { $id } (подключён { $time })
watch-several-called = { $count ->
    [one] { $count } журналист
    [few] { $count } журналиста
   *[many] { $count } журналистов
} с именем { $name }; укажите нужного через --id ID
watch-no-such-id = ни у одного журналиста с именем { $name } id не начинается с { $id } (укажите не меньше 8 цифр одного из них)
watch-ids-ambiguous = с { $id } начинается больше одного id; укажите больше цифр
watch-remove-needs-terminal = журналист не будет удалён без подтверждения в терминале; добавьте --yes
watch-remove-confirm =
    Журналист { $name } (id { $id }, подключён { $time }) будет удалён с этого наблюдателя: его план, контакты, { $phones ->
        [one] { $phones } телефон
        [few] { $phones } телефона
       *[many] { $phones } телефонов
    } и { $bundles ->
        [one] { $bundles } запечатанный пакет
        [few] { $bundles } запечатанных пакета
       *[many] { $bundles } запечатанных пакетов
    } будут удалены, и наблюдение за ним прекратится. Оповещения, уже стоящие в исходящих, всё равно будут отправлены.
    Введите его имя, чтобы продолжить
watch-remove-not-confirmed = не подтверждено; ничего не удалено
watch-remove-timeout = работающий наблюдатель не выполнил удаление за { $seconds } с (см. его журнал); запрос отозван, но удаление могло выполниться только что: проверьте командой `posbon watch journalists`
watch-removed = { $who } удалён: его план, контакты, телефоны, пакеты и ссылки удалены; оповещения, уже стоящие в исходящих, всё равно будут отправлены
watch-removed-already = { $who } уже удалён
watch-remove-alerts-under-way = { $who } не удалён: в этом цикле о нём ушли оповещения ({ $steps }), а отметки после них не было, поэтому его контакты не получили «отбой тревоги». Дождитесь отметки или добавьте --force
watch-remove-bundle-released = { $who } не удалён: его пакет { $id } передан получателям, и они могут скачать его до { $time }; удаление сейчас сломает эти ссылки. Дождитесь этого срока или добавьте --force
# --- ответы и ошибки переключателя, списки и ошибки библиотеки в командной строке
warning-line = ВНИМАНИЕ: { $text }
not-enrolled-with = хранилище не подключено к { $url }
proxy-unusable = прокси, сохранённый в хранилище, непригоден ({ $reason }): задайте его заново командой `posbon proxy set`
watcher-has-plan = план у { $url }: { $plan }
watchers-disagree = все наблюдатели ответили, но их планы различаются (см. выше): задайте план заново командой `posbon plan set` и спросите оператора того наблюдателя, чей план отличается
bundles-differ = не у всех наблюдателей пакеты такие, какими Вы их запечатали (см. выше): передача материалов от такого наблюдателя прошла бы без пакета, со старой копией или с пакетом, который Вы удалили
unknown-phone = ни у одного наблюдателя нет телефона { $id } (см. `posbon phone list`)
removal-released = пакет { $id } уже передан получателям наблюдателем { $urls }, поэтому там его нельзя отозвать, пока не истекут его ссылки (см. выше); все остальные наблюдатели его удалили
removal-unanswered = пакет { $id } отозван, но ещё остаётся у наблюдателей выше, которые не ответили или отказали: выполните `posbon release remove { $id }` ещё раз, когда они ответят
removal-unknown = пакет { $id } отозван; чтобы закончить, выполните `posbon release remove { $id }` ещё раз
watcher-forgot-you = { $url } не знает это хранилище (он отверг подпись запроса): возможно, его оператор удалил Вас. Спросите его; если Вы отключились от этого наблюдателя, выполните `posbon unenrol --local { $url }`, чтобы забыть его здесь
seal-no-records = укажите хотя бы одну запись, которую нужно запечатать
seal-no-contacts = укажите хотя бы один контакт в --to
seal-sources-not-included = это источники, а пакет содержит их, только если Вы укажете --include-sources: { $sources }
seal-unknown-contact = контакта с именем { $name } нет (posbon contact add)
seal-contact-is-journalist = { $name } в круге 0 (это Вы сами: только напоминания), поэтому передача материалов до него никогда не дойдёт; запечатывайте для контактов из круга 1 и выше
seal-contact-has-no-key = у контакта { $name } нет ключа для запечатанных пакетов: posbon contact add { $quoted } ... --age-recipient age1...
seal-short-id = укажите хотя бы 4 цифры id пакета
seal-unknown-bundle = пакета с id { $id } нет (см. `posbon release list`)
seal-ambiguous-bundle = { $id } подходит к нескольким пакетам; укажите больше цифр
seal-removal-pending = пакет { $id } удалён (один из наблюдателей пропустил удаление): завершите командой `posbon release remove { $id }` или запечатайте записи заново командой `posbon release add`
gap-lacks = нет пакета { $id } ({ $name }): выполните `posbon release update { $id }`
gap-other-copy = другая копия пакета { $id } ({ $name }): выполните `posbon release update { $id }`
gap-still-holds = всё ещё хранит пакет { $id } ({ $name }), который Вы удалили: выполните `posbon release remove { $id }` ещё раз
plan-gap-nobody-at-step = шаг плана tier{ $tier } никого не оповещает: в круге { $tier } нет контактов (posbon contact add ИМЯ --tier { $tier } ...)
plan-gap-nobody-at-release = шаг плана «передача материалов» никого не достигнет: кроме Вас самих, контактов нет
plan-gap-reminders-to-nobody = Ваши напоминания никому не приходят: добавьте себя как контакт в круге 0 (posbon contact add Я --tier 0 --email ...)
plan-gap-no-reminders = Вы не получите напоминания до того, как оповестят Ваши контакты: добавьте в план --remind-before 1h или шаг remind
plan-gap-tier-never-alerted = { $contact } в круге { $tier }, который не оповещает ни один шаг плана
plan-gap-bundle-for-no-contact = { $bundle } запечатан для { $contact }, но это больше не контакт: наблюдатели не смогут его доставить (posbon release update или добавьте контакт снова)
cannot-compare-plan = не удаётся сравнить план с контактами: { $reason }
cannot-compare-bundles = не удаётся сравнить пакеты наблюдателей: { $reason }
bundle-released-until = пакет { $id } (версия { $version }) передан: получатели могут скачать его до { $time }
status-watcher = { $url } (отпечаток ключа { $fingerprint })
status-pretend = показывается под принуждением (подставное хранилище, телефон, Ваши напоминания): план { $plan }; { $deadline }
deadline-no-deadline = срока нет
plan-times-in-zone = время показано в поясе { $tz }; интервал отсчитывается от каждой отметки, а не от времени суток (для заданного времени суток укажите --window)
plan-held-as = у { $url } план такой: { $plan }; возможно, это старый наблюдатель, который не знает дней недели (он будет ждать отметки каждый день): попросите его оператора обновить его
pause-needs-time = укажите --until ВРЕМЯ или --for ДЛИТЕЛЬНОСТЬ
resumed = { $url }: наблюдение возобновлено; { $deadline }
pretend-over = { $url }: наблюдатель снова следует Вашему настоящему плану; { $deadline }
retraction-sent = { $url }: подписанный отзыв отправляется всем, до кого дошла Ваша тревога под принуждением (см. `posbon history`)
retraction-none = { $url }: тревоги под принуждением, которую нужно отозвать, нет
phone-none = телефон не подключён
phone-line = { $id }  подключён { $time }  последняя отметка { $last }
phone-old = СТАРЫЙ: отправляет постоянный секрет; подключите его заново командой `posbon watch enrol-phone`, затем удалите этот
phone-duress = ПОД ПРИНУЖДЕНИЕМ: подключён или удалён под принуждением; каждое использование поднимает тихую тревогу
phone-removed = { $url }: { $id } удалён; осталось:
phone-spare = запасная ссылка, её обслуживает { $by }: откройте её на том же телефоне и выберите те же PIN; сохраните её второй закладкой на случай, когда { $first } недоступен.
phone-page = страница, которую обслуживает { $by }; подключает телефон к: { $watchers }
phone-open-link =
    откройте ссылку выше на телефоне (или отсканируйте код) в течение 15 минут; она срабатывает один раз.
    затем телефону нужен PIN и другой PIN под принуждением; после этого одна кнопка отмечает Вас у всех названных наблюдателей.
phone-unanswered = телефон не будет подключён к наблюдателям, которые не ответили; выполните `posbon watch enrol-phone --watcher URL` для каждого, когда он ответит
switch-damaged-key = { $key ->
    [device] ключ устройства
    [sealing] ключ запечатывания
   *[other] ключ { $key }
} в хранилище повреждён
switch-random = генератор случайных чисел операционной системы не сработал
switch-missing-answer = { $url } ответил без { $what }
switch-tests-failed = { $count ->
    [one] { $count } канал не принял тестовое оповещение
    [few] { $count } канала не приняли тестовое оповещение
   *[many] { $count } каналов не приняли тестовое оповещение
}
enrolled-with = хранилище подключено к { $url } как { $subject }; сравните отпечаток ключа выше с тем, который Вам даст оператор
record-deleted = запись { $id } удалена
attachment-removed = файл { $name } удалён из записи { $id }
search-needs-words = укажите хотя бы одно слово для поиска
lock-after-bad = --lock-after { $given } — это не длительность вида 10m или 1h
app-insecure-fast-kdf = ВНИМАНИЕ: с --insecure-fast-kdf парольную фразу хранилища, созданного в приложении, легко подобрать перебором; используйте это только для тестов
time-zone-unknown = { $name } — неизвестный часовой пояс (например, Asia/Dushanbe или Europe/Moscow)
contact-list-tier = круг { $tiers }
release-list-records = { $count ->
    [one] { $count } запись
    [few] { $count } записи
   *[many] { $count } записей
}
release-list-for = для { $people }
release-list-bytes = { $size ->
    [one] { $size } байт
    [few] { $size } байта
   *[many] { $size } байт
}
release-list-sealed = запечатан { $time }
release-list-state = { $state ->
    [removal-pending] удаление не завершено
   *[active] действует
}
record-kind = { $kind ->
    [source] источник
    [draft] черновик
   *[note] заметка
}
show-label = { $label ->
    [id] id
    [kind] вид
    [tags] метки
    [created] создана
    [updated] изменена
   *[attachments] файлы
}
size-unit = { $unit ->
    [B] Б
    [KiB] КиБ
    [MiB] МиБ
    [GiB] ГиБ
   *[TiB] ТиБ
}
outbox-state = { $state ->
    [refused] отказ
    [failing] сбой
    [pending] в очереди
    [delivered] доставлено
   *[other] { $state }
}
outbox-next-try = следующая попытка { $time }
outbox-attempts = попыток { $count }
outbox-last-error = последняя ошибка: { $error }
vault-exists = в { $dir } уже есть хранилище
vault-newer = у хранилища в { $dir } версия формата { $found }; эта версия posbon читает только до версии { $supported }: обновите posbon
vault-damaged-backup = резервная копия повреждена или подделана: { $why }
vault-tampered-attachment = файл { $name } записи { $id } повреждён или подделан: { $why }
vault-no-attachment = в записи { $id } нет файла { $name }
vault-duplicate-attachment = в записи { $id } уже есть файл { $name }
vault-not-in-this-session = в этом сеансе это сделать нельзя
vault-no-free-slot = все места для ключей заняты; сначала удалите фразу под принуждением или ключ восстановления
vault-store = сбой базы данных хранилища: { $why }
client-unreachable = не удаётся связаться с { $url }: { $reason }
client-no-connection = там никто не отвечает (наблюдатель не запущен, или адрес либо сеть неверны)
client-timed-out = он не ответил вовремя
client-proxy-down = не удаётся связаться с { $url }: прокси { $proxy } не отвечает (Tor запущен?); напрямую ничего не отправлено
client-onion = { $url } — это onion-сервис: до него можно добраться только через Tor (`posbon proxy set socks5h://127.0.0.1:9050` или --proxy); ничего не отправлено
client-refused = { $code ->
    [bad_invite] { $url } отверг код приглашения: он неверен, уже использован или устарел; попросите у оператора новый
    [stale_timestamp] { $url } отверг запрос: часы этого компьютера идут неверно; исправьте время и попробуйте снова
    [replay] { $url } отверг запрос, потому что уже получал его; попробуйте снова
    [too_many_attempts] { $url } отверг запрос: слишком много попыток; попробуйте позже
    [busy] { $url } сейчас занят; попробуйте позже
    [unavailable] { $url } сейчас не может работать; попробуйте позже
    [too_large] { $url } отверг запрос: он слишком большой
    [too_many_bundles] { $url } отверг новый пакет: пакетов слишком много; удалите старый командой `posbon release remove`
    [bundle_released] { $url } отверг запрос: этот пакет уже передан
    [unknown_phone] { $url } не знает этот телефон
    [bad_plan] { $url } отверг план: { $message }
    [bad_contacts] { $url } отверг контакты: { $message }
   *[other] { $url } отказал: { $message } ({ $code })
}
client-bad-signature = { $url } ответил без действительной подписи наблюдателя, к которому Вы подключены: не доверяйте этому ответу
client-malformed = { $url } ответил что-то неожиданное: { $reason }
plan-invalid = план неверен: { $why }
bundle-writing-failed = не удалось записать пакет: { $why }
bundle-unreadable = не удаётся прочитать { $path }: { $why }
bundle-not-for-this-key = этот ключ не открывает пакет (он запечатан для других ключей), или это не файл age
bundle-damaged = пакет повреждён или изменён: { $why }
bundle-wrong-sealer = пакет запечатан ключом { $found }, а не { $expected }: он не от журналиста, которого Вы назвали
bundle-unsigned = пакет не подписан, поэтому --from проверить нельзя: это может быть подделка (или его запечатала версия posbon старше подписи)
bundle-not-sealed-for-this-key = пакет запечатан не для Вашего ключа ({ $key }): это копия, которую кто-то зашифровал заново, а не то, что прислал журналист
bundle-wrong-key-passphrase = неверная парольная фраза ключа { $key }
alert-not-found = во входных данных нет оповещения posbon
alert-malformed = оповещение повреждено: { $why }
alert-wrong-watcher = оповещение подписал наблюдатель { $found }, а не { $expected }: оно пришло не от названного Вами наблюдателя
alert-bad-signature = подпись не совпадает: оповещение изменено или подделано
alert-mismatch = поля JSON не совпадают с подписанным текстом ({ $field }): оповещение изменено
alert-several = в сообщении больше одного оповещения (цитата или поддельная копия?): проверьте исходное сообщение в том виде, в каком его получили
alert-invisible = в сообщении есть невидимые символы, которые могут скрыть или замаскировать текст: оно изменено; проверьте исходное сообщение в том виде, в каком его получили
alert-unexpected-parts = в письме есть { $parts }, а posbon таких никогда не отправляет: то, что показывает почтовая программа, может не быть подписанным оповещением
config-unreadable = не удаётся прочитать конфигурацию: { $why }
config-invalid = конфигурация неверна: { $why }
config-empty-secret = секретный файл { $path } пуст
config-read-secret = не удаётся прочитать секретный файл { $path }
config-key-file = { $what ->
    [create] не удаётся создать { $path }
   *[write] не удаётся записать в { $path }
}
alert-part-html = часть HTML
alert-parts-text = { $count ->
    [one] { $count } текстовая часть
    [few] { $count } текстовые части
   *[many] { $count } текстовых частей
}
no-watcher-left = теперь Вы не подключены ни к одному наблюдателю: если Вы перестанете отмечаться, никто не будет оповещён (подключитесь снова: `posbon enrol URL КОД`)
local-time = местное время
time-bad = { $given } — это не время вида "2026-12-03 18:00" (в Вашем часовом поясе, { $zone }) или 2026-12-03T18:00:00Z
prompt-search = Искать

# What opening the vault tells the journalist (vault::Notice).
notice-slot-checksum = файл мест для ключей не прошёл проверку контрольной суммы, но Ваше место открылось; выполните `posbon passwd`, чтобы переписать его
notice-slot-upgrade-failed = файл мест для ключей не удалось переписать в текущем формате ({ $why }); posbon попробует снова при следующем открытии
notice-slot-tables-failed = таблицы мест для ключей в хранилище не удалось обновить: { $why }
notice-old-copies = ВНИМАНИЕ: хранилище находится на файловой системе { $filesystem }, которая сохраняет старые копии перезаписанных файлов, и места для ключей от этого не защищены: `posbon panic` не может обещать уничтожить ключи. Создайте новое хранилище на файловой системе, которая перезаписывает файлы на месте (раздел ext4 или том LUKS){ $btrfs ->
        [yes] , или на btrfs в новом каталоге, созданном командой `chattr +C` до создания хранилища
       *[no] {""}
    }; см. раздел «Где держать хранилище» в руководстве журналиста
notice-captures-imported = в хранилище добавлено сохранённое без открытия: { $count }
notice-capture-kept = сохранённое без открытия ({ $file }) не удалось добавить в хранилище, оно оставлено как есть: { $why }
notice-inbox-failed = сохранённое без открытия не удалось добавить в хранилище, оно остаётся во входящих: { $why }
notice-duress-used = ВНИМАНИЕ: это хранилище открывали фразой под принуждением: { $when }

# What the vault will not do as asked (vault::Refusal).
refused-keys-changed = ключи хранилища изменились, пока выполнялась команда (не была ли использована `posbon panic`?); ничего не изменено
refused-passphrase-in-use = эта парольная фраза уже используется в этом хранилище; выберите другую
refused-duress-same-as-real = фраза под принуждением должна отличаться от настоящей парольной фразы
refused-empty-passphrase = парольная фраза пуста
refused-empty-new-passphrase = новая парольная фраза пуста
refused-empty-duress-passphrase = фраза под принуждением пуста
refused-not-a-record-id = { $id } — не id записи (id состоит из шестнадцатеричных цифр, укажите хотя бы 4)
refused-attachment-name = { $name } не может быть именем файла (без косых черт, не длиннее 255 байт)
refused-backup-wants-key = { $file } зашифрован для ключа, а не парольной фразой: укажите файл этого ключа с -i
refused-backup-wants-passphrase = { $file } зашифрован парольной фразой, а не для ключа: уберите -i
refused-not-an-identity-file = { $path }: это не файл ключа age ({ $why })
refused-backup-newer = у резервной копии формат версии { $found }; этот posbon читает до версии { $supported }: обновите posbon
refused-dir-not-empty = каталог { $dir } не пуст; выберите для хранилища новый каталог

# A lawyer's key file that cannot be used (release::KeyProblem), and the bundle's refusals.
bundle-bad-key = { $key }: { $problem }
key-too-large = слишком велик для файла ключа
key-not-a-key = это не файл ключа age и не закрытый ключ OpenSSH
key-bad-line = строка { $line } — не ключ age (AGE-SECRET-KEY-1...)
key-no-identity = в нём нет ни одного ключа
key-damaged-encrypted = зашифрованный файл ключа повреждён
key-not-passphrase-protected = файл age, не защищённый парольной фразой, — не ключ
key-unsupported-ssh = ключ SSH такого типа posbon использовать не может (пакеты запечатываются для ключей ssh-ed25519)
key-damaged-ssh = закрытый ключ SSH повреждён
bundle-out-exists = { $dir } уже существует: укажите новую папку с --out
bundle-too-large = в этих записях { $mib } МиБ; пакет может вместить не больше { $max } МиБ (не включайте большие файлы)
bundle-no-sealing-keys = ни у одного из выбранных контактов нет ключа age или SSH (contact add --age-recipient)
