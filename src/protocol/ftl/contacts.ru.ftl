# Почему список контактов не принят (see contacts.en.ftl).

too-many-contacts = у одного журналиста может быть не больше { $max } { $max ->
    [one] контакта
   *[other] контактов
}
instructions-too-long = инструкции длиннее { $max } { $max ->
    [one] символа
   *[other] символов
}: сократите их
instructions-hidden = в инструкциях есть управляющие или невидимые символы: уберите их
instructions-markers = в инструкциях не может быть служебных строк оповещений posbon (POSBON ALERT, POSBON SIGNATURE)
bad-name = { $name }: имя (и роль) — от 1 до 100 символов, в одну строку
same-name = два контакта с одним и тем же именем: { $name }
bad-tiers = { $contact }: укажите один или несколько кругов от 1 до 9 (0 — это Вы сами)
tier-zero-with-others = { $contact }: круг 0 — это Вы сами, его нельзя сочетать с другими кругами
channel-count = { $contact }: укажите от 1 до { $max } { $max ->
    [one] способа
   *[other] способов
} связи (--email, --webhook, --telegram, --signal, --ntfy, --matrix)

channel-address = { $contact }: { $channel }: адрес пустой, слишком длинный или содержит управляющие символы
channel-not-email = { $contact }: { $channel }: это не адрес электронной почты
channel-not-url = { $contact }: { $channel }: это не веб-адрес (URL)
channel-not-http = { $contact }: { $channel }: адрес должен начинаться с http:// или https://
channel-ntfy-topic = { $contact }: { $channel }: адрес должен заканчиваться темой из 1–64 латинских букв, цифр, «-» или «_» (https://ntfy.sh/my-topic), без «?» и «#»
channel-telegram-name = { $contact }: { $channel }: @имя в Telegram состоит из 5–32 латинских букв, цифр или «_» и начинается с буквы
channel-telegram-chat = { $contact }: { $channel }: чат Telegram указывается числовым id (человек: 123456789; группа: -123456789; канал или супергруппа: -100...) или @именем канала
channel-signal-number = { $contact }: { $channel }: номер Signal пишется в международном формате: +992...
channel-matrix-room = { $contact }: { $channel }: id комнаты Matrix выглядит как !abc123:example.org или (в комнатах версии 12 и новее) как «!» и 43 латинские буквы, цифры, «-» или «_»; псевдоним вида #имя не подойдёт

key-not-age = { $contact }: ключ { $key } не читается как получатель age; проверьте, что он скопирован целиком и без ошибок ({ $reason })
key-not-ssh = { $contact }: { $key } — не ключ ssh-ed25519
key-unknown-kind = { $contact }: { $key }: ключом для запечатанных материалов может быть получатель age (age1...) или открытый ключ ssh-ed25519

unknown-time-zone = { $contact }: { $zone } — неизвестный часовой пояс (например, Asia/Dushanbe)
unknown-lang = язык { $given } не поддерживается: выберите tg, ru или en
