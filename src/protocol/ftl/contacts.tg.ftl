# Чаро рӯйхати тамосҳо қабул нашуд (see contacts.en.ftl).

too-many-contacts = як рӯзноманигор метавонад на бештар аз { $max } тамос дошта бошад
instructions-too-long = дастурҳо аз { $max } аломат дарозтаранд: онҳоро кӯтоҳ кунед
instructions-hidden = дар дастурҳо аломатҳои идоракунанда ё ноаён ҳастанд: онҳоро тоза кунед
instructions-markers = дар дастурҳо сатрҳои хидматии ҳушдорҳои posbon (POSBON ALERT, POSBON SIGNATURE) буда наметавонанд
bad-name = { $name }: ном (ва нақш) бояд аз 1 то 100 аломат бошад, дар як сатр
same-name = ду тамос як ном доранд: { $name }
bad-tiers = { $contact }: як ё якчанд гурӯҳро аз 1 то 9 нишон диҳед (0 — худатон)
tier-zero-with-others = { $contact }: гурӯҳи 0 — худатон; онро бо гурӯҳҳои дигар якҷоя кардан мумкин нест
channel-count = { $contact }: аз 1 то { $max } роҳи алоқа нишон диҳед (--email, --webhook, --telegram, --signal, --ntfy, --matrix)

channel-address = { $contact }: { $channel }: суроға холӣ ё хеле дароз аст, ё аломатҳои идоракунанда дорад
channel-not-email = { $contact }: { $channel }: ин суроғаи почтаи электронӣ нест
channel-not-url = { $contact }: { $channel }: ин суроғаи веб (URL) нест
channel-not-http = { $contact }: { $channel }: суроға бояд бо http:// ё https:// оғоз шавад
channel-ntfy-topic = { $contact }: { $channel }: суроға бояд бо мавзӯъ аз 1 то 64 ҳарфи лотинӣ, рақам, «-» ё «_» тамом шавад (https://ntfy.sh/my-topic), бе «?» ва «#»
channel-telegram-name = { $contact }: { $channel }: @номи Telegram аз 5 то 32 ҳарфи лотинӣ, рақам ё «_» иборат аст ва бо ҳарф оғоз мешавад
channel-telegram-chat = { $contact }: { $channel }: чати Telegram бо id-и рақамӣ (шахс: 123456789; гурӯҳ: -123456789; канал ё супергурӯҳ: -100...) ё бо @номи канал нишон дода мешавад
channel-signal-number = { $contact }: { $channel }: рақами Signal дар шакли байналмилалӣ навишта мешавад: +992...
channel-matrix-room = { $contact }: { $channel }: id-и ҳуҷраи Matrix чунин аст: !abc123:example.org ё (дар ҳуҷраҳои версияи 12 ва навтар) «!» ва 43 ҳарфи лотинӣ, рақам, «-» ё «_»; тахаллуси #ном мувофиқ нест

key-not-age = { $contact }: калиди { $key } ҳамчун гирандаи age хонда намешавад; санҷед, ки он пурра ва бе хато нусха бардошта шудааст ({ $reason })
key-not-ssh = { $contact }: { $key } калиди ssh-ed25519 нест
key-unknown-kind = { $contact }: { $key }: калид барои маводи мӯҳрзада гирандаи age (age1...) ё калиди кушодаи ssh-ed25519 шуда метавонад

unknown-time-zone = { $contact }: { $zone } минтақаи вақти маълум нест (масалан, Asia/Dushanbe)
unknown-lang = забони { $given } дастгирӣ намешавад: tg, ru ё en-ро интихоб кунед
