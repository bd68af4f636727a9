# posbon history: он чи ҳар нозир дид, як сатр барои ҳар воқеа (тоҷикӣ).
# Истилоҳот: docs/glossary.md.

place-laptop = ноутбук
place-phone = телефони { $id }

did-checkin = тасдиқи ҳузур аз { $place }
did-unlock = анбор дар { $place } кушода шуд
did-status = ҳолат аз { $place } дида шуд
did-history = таърих аз { $place } дида шуд
did-plan = нақша аз { $place } иваз шуд
did-pause = таваққуф аз { $place }
did-resume = таваққуф аз { $place } бекор шуд
did-contacts = тамосҳо аз { $place } фиристода шуданд
did-test-alert = ҳушдорҳои санҷишӣ аз { $place } дархост шуданд
did-bundle-put = бастаи мӯҳрзада аз { $place } нигоҳ дошта шуд
did-bundle-remove = бастаи мӯҳрзада аз { $place } хориҷ шуд
did-phone-invite = пайванд барои телефон аз { $place } сохта шуд
did-phone-list = рӯйхати телефонҳо аз { $place } дида шуд
did-phone-remove = телефон аз { $place } хориҷ шуд
did-phone-enrolled = { $place } пайваст шуд
did-pin-guessing = дар { $place } PIN-и нодуруст борҳо ворид шуд: ҳушдори пинҳонӣ дода шуд
did-end-pretend = `duress over` аз { $place }: ҷаҳони вонамудӣ анҷом ёфт
did-duress-retract = `duress retract` аз { $place }
did-unenrol = хуруҷ аз нозир аз { $place } дархост шуд
did-other = { $what } аз { $place }

step-fired = қадам иҷро шуд: { $step }
alert = ҳушдори { $step } ({ $alert }) ба { $contact } тавассути { $channel }: { $settled }
alert-delivered = расонида шуд { $when }
alert-given-up = РАСОНИДАН ҚАТЪ ШУД { $when }
alert-pending = ҲАНӮЗ НАРАСИДААСТ (нозир кӯшишро идома медиҳад)
ack = { $contact } ба ӯҳда гирифт («Ба ӯҳда мегирам», ҳушдори { $alert }, тавассути пайванди { $channel })
download = { $contact } бастаи супоридашудаи { $bundle }-ро гирифт (тавассути пайванди { $channel })

duress-marked = МАҶБУРӢ: { $text }
pretend-marked = { $text } (дар ҷаҳони вонамудӣ, ки зери маҷбурӣ нишон дода мешавад)

nothing-yet = ҳоло ҳеҷ чиз
