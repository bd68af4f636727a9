# Слова внутри запечатанного пакета (see bundle.en.ftl).

manifest-title = пакет материалов posbon
name = название
bundle = пакет
version = версия
sealed = запечатан
by = кем
for = для
folder = папка
kind = вид
tags = метки
created = создан
kind-source = источник
kind-draft = черновик
kind-note = заметка по делу
title-name = имя
title-title = заголовок
title-case = дело
field-contact = как связаться
field-trust = насколько можно доверять
field-gave = что передал(а)
field-court = суд
field-lawyer = адвокат
field-dates = даты
