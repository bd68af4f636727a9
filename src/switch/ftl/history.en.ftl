# posbon history: what each watcher saw, one line per entry (English).
# { $place } is one of the place- messages below.

place-laptop = the laptop
place-phone = the phone { $id }

did-checkin = checked in from { $place }
did-unlock = vault opened on { $place }
did-status = status looked at from { $place }
did-history = history looked at from { $place }
did-plan = plan changed from { $place }
did-pause = paused from { $place }
did-resume = resumed from { $place }
did-contacts = contacts sent from { $place }
did-test-alert = test alerts asked for from { $place }
did-bundle-put = a sealed bundle stored from { $place }
did-bundle-remove = a sealed bundle removed from { $place }
did-phone-invite = a phone link made from { $place }
did-phone-list = phones listed from { $place }
did-phone-remove = a phone removed from { $place }
did-phone-enrolled = { $place } was set up
did-pin-guessing = wrong PINs typed again and again on { $place }: the silent alarm was raised
did-end-pretend = `duress over` from { $place }: the pretend world ended
did-duress-retract = `duress retract` from { $place }
did-unenrol = unenrol asked for from { $place }
did-other = { $what } from { $place }

step-fired = step fired: { $step }
alert = alert { $step } ({ $alert }) to { $contact } by { $channel }: { $settled }
alert-delivered = delivered { $when }
alert-given-up = GIVEN UP { $when }
alert-pending = NOT YET DELIVERED (the watcher keeps trying)
ack = { $contact } is on it ("I am on it", alert { $alert }, through the link sent by { $channel })
download = { $contact } downloaded released bundle { $bundle } (through the link sent by { $channel })

duress-marked = DURESS: { $text }
pretend-marked = { $text } (in the pretend world shown under duress)

nothing-yet = nothing yet
