# posbon app: English. Every message here must exist in tg.ftl and ru.ftl with the same
# variables (the tests check it). Glossary: docs/glossary.md.
lang-name = English
started = posbon is open in your browser. If it is not, open this link (it works once): { $url }
nav-records = Records
nav-switch = Check-in
lock = Lock
locked = The vault is locked. Its keys are gone from memory.
unlock-title = Unlock the vault
passphrase = Passphrase
unlock = Unlock
unlock-hint = The vault locks itself when left alone for a while, and when you press Lock.
search = Search
new-source = New source
new-draft = New draft
new-note = New case note
records-count = { $count ->
    [0] No records.
    [one] One record.
   *[other] { $count } records.
}
kind-source = Source
kind-draft = Draft
kind-note = Case note
title-name = Name
title-title = Title
title-case = Case
field-contact = How to reach them
field-trust = Trust notes
field-gave = What they gave
field-court = Court
field-lawyer = Lawyer
field-dates = Dates
tags = Tags (separated by commas)
body = Text
save = Save
edit = Edit
delete = Delete
cancel = Cancel
updated = changed
attachments = Files
attach-label = Add a file (any size)
attach = Add the file
detach = remove
delete-question = Delete “{ $title }”?
delete-detail = The record and its files are destroyed: nobody can read them again, not even with the passphrase.
deleted = The record was deleted.
size-bytes = { $n ->
    [one] { $n } byte
   *[other] { $n } bytes
}
size-kb = { $n } kB
size-mb = { $n } MB
checkin = Check in now
checkin-done = Checked in with every watcher.
checked-in = Checked in
yes = yes
status-plan = Plan
status-no-plan = no plan set yet
status-last-checkin = Last check-in
status-never = never
status-deadline = Next deadline
status-paused-until = Paused until
status-fired = Step taken
status-duress-seen = Duress passphrase or PIN last used
gap-nobody-at-step = The plan's step “tier { $tier }” alerts nobody: no contact is in tier { $tier }.
gap-nobody-at-release = The plan releases sealed material, but there is no lawyer or other contact to receive it.
gap-reminders-to-nobody = Reminders are planned, but you are not among the contacts (tier 0), so nobody gets them.
gap-no-reminders = There are no reminders: nothing warns you before the watchers alert your contacts.
gap-tier-never-alerted = is in tier { $tier }, which no step of the plan alerts.
gap-bundle-for-no-contact = sealed for { $contact }, who is no longer a contact.
gap-lacks-bundle = does not have this sealed bundle; send it again from the terminal with “posbon release update”.
gap-other-copy = holds another copy of this sealed bundle; send it again with “posbon release update”.
gap-still-holds = still holds this bundle, which you removed; remove it again with “posbon release remove”.
refused-host = This address is not the app’s. Open the link posbon printed when it started.
refused-session = This browser has not opened the app’s link. Open the link posbon printed when it started (it works once; start posbon app again for a new one).
refused-link = This link was used already. Start posbon app again for a new one.
refused-cross-site = This request did not come from the app’s own page, so nothing was done.
error-wrong-passphrase = Wrong passphrase. Nothing was changed.
error-no-vault = There is no vault at { $dir }. Create one first (“posbon init”).
error-in-use = The vault is open in another posbon program. Close it and try again.
error-no-record = There is no such record.
error-tampered = Record { $id } is damaged or was tampered with: it does not open.
error-duplicate-file = This record already has a file named “{ $name }”.
error-upload-broken = The upload broke off. Nothing of it was kept; try again.
error-no-file = Choose a file first.
error-not-enrolled = This vault is not enrolled with any watcher yet. The operator of a watcher gives you a one-time code for “posbon enrol”.
error-watchers-failed = { $failed ->
    [one] One watcher did not answer or refused.
   *[other] { $failed } watchers did not answer or refused.
} The others are listed below.
error-watchers-disagree = The watchers answered, but they hold different plans. Set the plan again.
error-bundles-differ = Checked in, but a watcher lacks one of your sealed bundles (see above).
error-other = Something went wrong: { $detail }
