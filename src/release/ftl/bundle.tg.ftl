# Калимаҳои дохили бастаи мӯҳрзада (see bundle.en.ftl).

manifest-title = бастаи маводи posbon
name = ном
bundle = баста
version = версия
sealed = мӯҳр зада шуд
by = аз ҷониби
for = барои
folder = ҷузвдон
kind = навъ
tags = тамғаҳо
created = сохта шуд
kind-source = манбаъ
kind-draft = лоиҳа
kind-note = ёддошт оид ба парванда
title-name = ном
title-title = сарлавҳа
title-case = парванда
field-contact = чӣ тавр бо ӯ тамос гирифтан
field-trust = то чӣ андоза боэътимод аст
field-gave = чӣ дод
field-court = суд
field-lawyer = адвокат
field-dates = санаҳо
