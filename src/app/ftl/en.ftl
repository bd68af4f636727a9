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
error-not-enrolled = This vault is not enrolled with any watcher yet. Add one on the page “{ nav-switch }” with the address and the one-time code its operator gives you.
error-watchers-failed = { $failed ->
    [one] One watcher did not answer or refused.
   *[other] { $failed } watchers did not answer or refused.
} The others are listed below.
error-watchers-disagree = The watchers answered, but they hold different plans. Set the plan again.
error-bundles-differ = Checked in, but a watcher lacks one of your sealed bundles (see above).
error-other = Something went wrong: { $detail }
nav-lawyer = For lawyers
verify-title = Is this alert genuine?
verify-watcher = The watcher's fingerprint (from its operator, over the phone)
verify-alert = The whole alert, as received (paste it here)
verify-button = Check the alert
verify-genuine = GENUINE: the watcher you named signed this alert.
verify-not-genuine = NOT GENUINE: do not act on this alert before confirming it by phone.
verify-only-this = Only this text is authenticated:
verify-signed-by = Signed by watcher
verify-id = Alert
verify-subject = Journalist
verify-step = Step
verify-issued = Issued
verify-text-outside = The message also holds text outside the signed alert (a forwarding note, a footer, or an addition): none of it is authenticated. Act only on the text below.
verify-not-found = No posbon alert was found in what you pasted. Paste the whole message.
verify-wrong-watcher = The alert was signed by watcher { $found }, not by the one you named: it did not come from that watcher.
verify-altered = The signature does not match: the alert was altered or forged.
verify-several = The message holds more than one alert (a quoted or forged copy?). Paste the original message, as received.
verify-invisible = The message holds invisible characters that can hide or disguise text. Paste the original message, as received.
verify-bad-watcher = That is not a watcher's fingerprint (like 1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d). Ask the watcher's operator for it, over the phone.
open-title = Open sealed material
open-bundle = The sealed file (.age) from the download link
open-key = Your key file
open-key-passphrase-label = The key file's passphrase, if it has one
open-from = The journalist's sealing key fingerprint (given to you in person)
open-button = Check and open
open-done = Opened: sealed by the journalist you named, for your key.
open-items = What it holds
open-written = Written to
open-files-warning = These are ordinary files now. Keep them where only you can read them.
open-name = Material
open-version = Version (compare with the alert)
open-signed-by = Sealed by
open-signed-checked = { $fingerprint } (the fingerprint you gave)
open-sealed = Sealed
open-for = For
open-your-key = Your key
open-key-checked = the material was sealed for it
open-key-not-checked = not checked (an older format)
open-not-for-this-key = This key cannot open the file: it was sealed for other keys, or it is not sealed material.
open-wrong-sealer = The material was sealed by key { $found }, not by the journalist you named. Do not rely on it.
open-unsigned = The material is not signed, so who sealed it cannot be checked. It may be a forgery. Ask the journalist's other contacts.
open-not-sealed-for-key = The material was not sealed for your key: it is a copy someone re-encrypted, not what the journalist sent you.
open-key-passphrase = The key file's passphrase is wrong or missing.
open-damaged = The file is damaged or was altered.
open-too-large = A file is larger than any sealed material or key can be.
open-missing = Choose both the sealed file and your key file.
open-bad-from = That is not a whole sealing fingerprint (eight groups of four, like 3f2a-91c0-…). Copy all of it as the journalist gave it.
nav-capture = Add without unlocking
nav-panic = Panic
capture-title = Add without unlocking
capture-hint = What you add here is sealed to the vault at once and can be read only after the next unlock, even by you: nobody who takes the laptop now can read it back here.
capture-kind = Kind
capture-button = Seal it into the vault
capture-done = Sealed into the vault. It appears among the records after the next unlock.
capture-no-title = Give it a title.
panic-title = Panic: destroy the vault’s keys
panic-explain = This destroys the keys of the vault at once. Nobody can open it again: not you, not with the passphrase, not with the recovery key. Backups stay as they are.
panic-type = Type { $word } to go ahead:
panic-button = Destroy the keys
panic-not-confirmed = Not confirmed; nothing was destroyed.
panic-done = The vault’s keys were destroyed. Nobody can open it again.
plan-title = The plan
plan-how = When the watchers expect you
plan-every = At least every (like 12h, 1d, 2d)
plan-windows = Inside a window, every day or on some days (like 09:00-11:00, or mon-fri/09:00-11:00 sat/12:00-14:00; several separated by commas)
plan-windows-days = Days before a window, with a slash: mon tue wed thu fri sat sun (or пн…вс, душанбе…якшанбе), a range like mon-fri or a list like mon,wed,fri. A window across midnight (22:00-02:00) belongs to the day it starts on; a day with no window has no deadline.
weekday-mon = Mon
weekday-tue = Tue
weekday-wed = Wed
weekday-thu = Thu
weekday-fri = Fri
weekday-sat = Sat
weekday-sun = Sun
days-every = Every day
plan-window = Check-in window: { $days } { $from }-{ $to }
plan-window-night = Check-in window: { $days } { $from }-{ $to } (closes the next day)
plan-no-window = No window on { $days }: no deadline falls on such a day; the next one is on the next day with a window.
plan-watcher-differs = { $url } holds another plan: { $plan }. It may be an older watcher that does not know days of the week and expects you every day: ask its operator to upgrade it.
plan-tz = Your time zone (like Asia/Dushanbe)
plan-grace = Grace after a missed deadline, before anyone is alerted (like 2h)
plan-remind-before = Remind me before each deadline (like 1h; several separated by commas)
plan-steps = Steps after the grace (leave empty for: reminder, tier 1, tier 2, release)
plan-release-on-duress = Also release the sealed material at once when a duress code is used
plan-hint = The plan is kept in the vault and sent to every watcher. Under the duress passphrase, the watchers keep the real plan and only pretend to change it.
plan-button = Set the plan
plan-set = Plan set: { $plan }
plan-invalid = The plan is not valid: { $detail }
plan-bad-zone = “{ $zone }” is not a time zone (like Asia/Dushanbe or Europe/Moscow).
nav-contacts = Contacts
contacts-title = Who is alerted
contacts-tiers = Tier
contacts-keys = { $n ->
    [0] no key for sealed material
    [one] one key for sealed material
   *[other] { $n } keys for sealed material
}
contacts-add = Add a contact, or change one (the same name)
contacts-role = Role (editor, lawyer, NANSMIT duty officer, family)
contacts-lang = The language they read
contacts-tiers-label = Tiers (0 is you: reminders only; 1, 2… are alerted at those steps; several separated by commas)
contacts-keys-label = Their keys for sealed material (age1… or ssh-ed25519 …, one per line; lawyers only)
contacts-email-attach = Attach released material to their e-mails (otherwise a download link only)
contacts-instructions = Your instructions to your contacts (who to call, your lawyer, the case number, medical needs)
contacts-saved = { $name } is saved and sent to every watcher.
contacts-removed = { $name } is removed, on every watcher too.
contacts-instructions-saved = The instructions are saved and sent to every watcher.
contacts-bad-tier = “{ $tier }” is not a tier (0 to 9).
contacts-not-saved = Not saved: { $detail }
nav-seal = Sealed material
seal-title = Material for your lawyers
seal-hint = Sealed here for your lawyers’ own keys and signed with your sealing key, then held by every watcher, unreadable to them; released only at the plan’s last step.
seal-existing = “{ $name }”, version { $version }, for { $to }
seal-records = What to seal
seal-to = For whom (contacts with a key)
seal-no-lawyers = No contact has a key for sealed material yet: add one under Contacts.
seal-name = A name for the bundle (it travels in alerts and sits on every watcher: not a source’s name)
seal-include-sources = Sources may be included (otherwise a bundle with a source is refused)
seal-prepare = Show what it will reveal
seal-review = If it is released, “{ $name }” will reveal this to { $to }:
seal-sources-warning = WARNING: it names sources:
seal-reveal-sources = I know; reveal these sources to them
seal-sources-not-accepted = It names sources: tick the box to reveal them, or go back and leave them out.
seal-button = Seal and send to every watcher
seal-done = { $count ->
    [one] Sealed one record and sent it to every watcher.
   *[other] Sealed { $count } records and sent them to every watcher.
}
seal-not-everywhere = It is sealed, but not every watcher has it: press “{ seal-update }” when they can be reached.
nav-keys = Keys
keys-title = Passphrases and keys
keys-recovery = Recovery key
keys-duress = Duress passphrase
keys-set = set
keys-not-set = not set
keys-new-passphrase = New passphrase
keys-again = The same again
keys-change = Change the passphrase
keys-set-duress = Set the duress passphrase
keys-duress-hint = A second passphrase to give under pressure: it opens a harmless decoy vault that works like the real one, and every use silently alerts your watchers.
keys-recovery-hint = Opens the vault without the passphrase. Shown once: write it on paper and keep it away from this computer, or give it to someone you trust. A new one replaces the old.
keys-make-recovery = Make a recovery key
keys-recovery-once = Your recovery key, shown this once. Write it down now: it will not be shown again.
keys-recovery-made = A recovery key was made.
keys-changed = The passphrase was changed.
keys-duress-set = The duress passphrase is set.
keys-differ = The two passphrases differ; nothing was changed.
keys-weak = This passphrase is too easy to guess (about { $guesses } guesses; posbon asks for at least 10^10). Use four or more unrelated words, and nothing about you: no names, dates or places.
keys-empty = Type the passphrase.
nav-backup = Backup
backup-title = A backup of the whole vault
backup-hint = One encrypted file with every record and file, opened with the backup passphrase you choose here (by posbon, or by the standard age tool). Keep it away from this computer.
backup-passphrase = A passphrase for the backup
backup-prepare = Make the backup
backup-download = Save the backup file

history-title = What happened
history-hint = Everything your watchers saw, newest first: check-ins and from where, steps of the plan, every alert and whether it arrived, who took an alert on, downloads of released material. Times are in your time zone.
retract-title = Take back a false duress alarm
retract-hint = If your duress passphrase or duress PIN raised the alarm by mistake, everyone that alarm reached gets a signed message saying it was a false alarm. Alerts about missed check-ins are not taken back.
retract-button = Send the retraction
retract-sent = A signed retraction is on its way to everyone your duress alarm reached. It will appear in this list.
retract-nothing = There is no duress alarm to take back.

seal-update = Seal again from the records as they are now
seal-withdraw = Withdraw
seal-withdraw-question = Withdraw “{ $name }”?
seal-withdraw-detail = Every watcher deletes this bundle, and it will not be released. A lawyer who already downloaded it keeps their copy.
seal-withdrawn = Withdrawn: every watcher deleted it.
seal-withdrawing = withdrawn, but not every watcher has confirmed it yet: withdraw again when they answer

keys-remove-recovery = Remove the recovery key
keys-remove-recovery-question = Remove the recovery key?
keys-remove-recovery-detail = The recovery key will no longer open the vault. Your passphrase still does.
keys-recovery-removed = The recovery key was removed.
keys-recovery-none = There was no recovery key.
keys-remove-duress = Remove the duress passphrase
keys-remove-duress-question = Remove the duress passphrase?
keys-remove-duress-detail = The duress passphrase will no longer open anything, and everything in the decoy is destroyed, as if it had never been set.
keys-duress-removed = The duress passphrase was removed.
keys-duress-none = There was no duress passphrase.

capture-file-title = A file
capture-file-done = The file is sealed into the vault. It appears as a record of its own after the next unlock.

create-title = Make your vault
create-hint = There is no vault here yet ({ $dir }). Choose its passphrase: everything you keep in posbon is encrypted with it, and nobody, posbon included, can open the vault without it or the recovery key.
create-advice = Several ordinary words in an order only you know (five or more) are both easy to remember and hard to guess. Do not write it on this computer. Once the vault is made, make a recovery key (Keys) and keep it on paper, away from here.
create-button = Make the vault
create-done = The vault is made and open.

nav-phones = Phone
phones-title = Checking in from your phone
phones-hint = One link sets your phone up with every watcher: open it on the phone (or scan its code) within 15 minutes, choose a PIN and a different duress PIN, and bookmark the page. Its one button then checks in with every watcher and says which answered. The spare link, served by another watcher, is for when the first does not open: set it up on the same phone with the same PINs.
phones-invite = Make a link for a phone
phones-link = The link, served by { $watcher }
phones-spare = The spare link, served by { $watcher }
phones-sets-up = It sets the phone up with: { $watchers }
phones-link-once = These links work once, for 15 minutes, and are not shown again: open them on the phone now.
phones-link-made = A link for the phone was made.
phones-some-missing = The phone will not be set up with the watchers that did not answer: make a link again when they do.
phones-none = No phone is set up with this watcher.
phones-set-up = set up
phones-old = An old phone: it sends a fixed secret. Set the phone up again with a new link, then remove this one.
phones-duress-only = Set up or removed under duress: every use of it raises the silent alarm.
phones-remove = Remove
phones-remove-question = Remove the phone { $id }?
phones-remove-detail = The watchers refuse its check-ins from now on. A phone you still use must be set up again with a new link.
phones-removed = The phone was removed.

backup-restore-title = Restore a backup
backup-restore-hint = The records and files of a backup are added to this vault (one already here is kept as it is, so restoring twice does no harm). Give the passphrase the backup was made with.
backup-restore-file = The backup file
backup-restore-button = Restore
backup-restored = { $count ->
    [one] The backup is restored: { $count } record.
   *[other] The backup is restored: { $count } records.
}

# What opening the vault tells the journalist (vault::Notice), shown after Unlock.
notice-slot-checksum = The file that holds the vault's keys failed its check, but your passphrase opened it. Set a passphrase anew on the page “{ keys-title }” to write the file again.
notice-slot-upgrade-failed = The file that holds the vault's keys could not be rewritten in the current format ({ $why }). posbon will try again at the next unlock.
notice-slot-tables-failed = The file that holds the vault's keys could not be updated: { $why }
notice-old-copies = Warning: this vault is on { $filesystem }, which keeps old copies of rewritten files, so “{ nav-panic }” cannot promise to destroy the keys. Make a new vault on an ext4 partition or a LUKS volume{ $btrfs ->
        [yes] , or on btrfs in a new folder made with `chattr +C` before the vault
       *[no] {""}
    }. See “Where to keep the vault” in the journalist guide.
notice-captures-imported = { $count ->
    [one] One item added without unlocking is now a record.
   *[other] { $count } items added without unlocking are now records.
}
notice-capture-kept = Something added without unlocking could not be read and was kept as it was ({ $file }): { $why }
notice-inbox-failed = What was added without unlocking could not be read and stays where it is: { $why }
notice-duress-used = Warning: the duress passphrase was used to open this vault on { $when }.

# What the vault will not do as asked (vault::Refusal).
refused-keys-changed = The vault's keys changed meanwhile (was the vault destroyed with Panic?). Nothing was changed.
refused-passphrase-in-use = That passphrase is already in use for this vault. Choose another.
refused-duress-same-as-real = The duress passphrase must differ from your real passphrase.
refused-empty-passphrase = The passphrase is empty.
refused-attachment-name = “{ $name }” cannot be a file's name (no slashes, at most 255 bytes).
refused-backup-wants-key = This backup was made for a key, not with a passphrase: open it with the command line (`posbon backup restore -i KEY-FILE`).
refused-backup-wants-passphrase = This backup was made with a passphrase: give the passphrase it was made with.
refused-backup-newer = This backup was made by a newer posbon (format { $found }; this one reads up to { $supported }). Install the newer posbon.
refused-dir-not-empty = The folder { $dir } is not empty. Choose a new folder for the vault.

# A key file that cannot be used (release::KeyProblem), and sealed material refused.
open-bad-key = The key file cannot be used: { $problem }
key-too-large = it is too large to be a key file.
key-not-a-key = it is neither an age key file nor an OpenSSH private key. (Choose your private key, not the public one.)
key-bad-line = its line { $line } is not an age key (AGE-SECRET-KEY-1…).
key-no-identity = it holds no key.
key-damaged-encrypted = it is a damaged encrypted key file.
key-not-passphrase-protected = it is an age file that is not protected by a passphrase, so it is not a key.
key-unsupported-ssh = it is an SSH key of a kind posbon cannot use (sealed material is for ssh-ed25519 keys).
key-damaged-ssh = it is a damaged SSH private key.
open-out-exists = The folder { $dir } already exists; nothing was written.
seal-too-large = These records hold { $mib } MiB; sealed material may hold at most { $max } MiB. Leave out large files.
seal-no-keys = None of the chosen contacts has a key for sealed material. Add their key on the page “{ nav-contacts }”.

# Joining a watcher (app::enrolment).
enrol-title = Add a watcher
enrol-hint = The operator of a watcher (NANSMIT, or your own server) gives you its address and a one-time code. Then compare the fingerprint shown here with the one the operator reads out to you over the phone.
enrol-url = The watcher's address
enrol-code = The one-time code
enrol-button = Enrol
enrol-missing = Give the watcher's address and the one-time code.
enrol-failed = Not enrolled.
enrol-done = Enrolled with { $url }. Its fingerprint is { $fingerprint }: compare it with the one the operator gave you over the phone. If they differ, someone may stand between you and the watcher: tell the operator, and do not rely on it.
enrol-bundles-missing = Material sealed before did not reach every watcher: see the warnings below, and press “{ seal-update }” on the page “{ nav-seal }” when they can be reached.
status-fingerprint = Fingerprint

# A watcher that did not answer or refused (switch::client::ClientError).
client-unreachable = { $url } cannot be reached: { $reason }
client-no-connection = nothing answers there (the watcher is not running, or the address or the network is wrong)
client-timed-out = it did not answer in time
client-proxy-down = { $url } cannot be reached: the proxy { $proxy } does not answer (is Tor running?). Nothing was sent directly.
client-onion = { $url } is an onion service: it can only be reached through Tor. Nothing was sent.
client-refused = { $url } refused: { $message }
client-bad-signature = { $url } answered without the signature of the watcher you enrolled with: do not trust this answer.
client-malformed = { $url } answered something unexpected.
# Sealing refused as asked (switch::ReleaseRefusal).
seal-no-records = Choose at least one record to seal.
seal-no-contacts = Choose at least one contact to seal for.
seal-unknown-contact = There is no contact called “{ $name }”.
seal-contact-is-journalist = { $name } is in tier 0 (yourself: reminders only), so a release never reaches them. Seal for contacts in tier 1 and up.
seal-contact-has-no-key = { $name } has no key for sealed material: add it on the page “{ nav-contacts }”.
seal-unknown-bundle = This bundle is not known any more.
seal-removal-pending = This bundle was withdrawn, but a watcher missed it: press “{ seal-withdraw }” again.
seal-your-fingerprint = Your sealing key's fingerprint:
seal-fingerprint-hint = Every bundle you seal is signed with this key. Give the fingerprint to each lawyer in person (read it out, or write it down): with it they can tell your material from a forgery.

# A test alert to a contact (as `posbon contact test`).
contacts-test = Send a test alert
contacts-test-all = Send every contact a test alert
contacts-test-hint = Every watcher sends a marked test alert through each channel and waits for the service's answer (up to a minute). Do this after adding a contact: an address that does not work is found now, not when it matters.
contacts-test-accepted = { $url }: { $contact }, { $channel }: accepted.
contacts-test-failed = { $url }: { $contact }, { $channel }: NOT DELIVERED ({ $reason }).
contacts-test-not-accepted = not accepted
contacts-test-none = No watcher sent a test alert: is any contact reachable through a channel?

# Pausing the switch (as `posbon pause --for` and `posbon resume`).
pause-title = Pause the switch
pause-hint = While it is paused, no deadline passes and nobody is alerted: for a journey without network, say. It ends by itself, or with “{ resume-button }”.
pause-for = For how long (like 12h, 3d)
pause-button = Pause
pause-bad = Give how long to pause, like 12h or 3d.
pause-done = Paused on every watcher until { $until }.
resume-button = End the pause now
resume-done = The pause is over on every watcher: the plan runs again.

# A pretend world a coercion set up (as `posbon duress over`); shown under the real passphrase only.
status-pretend = Shown under duress
pretend-explain = Under duress, a plan or a pause was set: the decoy, your phone and your reminders still show it, while the watchers follow your real plan. When the danger is over, end it here.
pretend-over = The coercion is over
pretend-over-done = Every watcher follows your real plan again, for the decoy, the phone and the reminders too.

# Leaving a watcher (as `posbon unenrol`).
leave-watcher = Leave this watcher
leave-question = Leave { $url }?
leave-detail = The watcher forgets you, your phones and your sealed material, and stops watching: it will alert nobody if you stop checking in. Do this only with a watcher you no longer trust or use.
left-watcher = Left { $url }: it no longer knows you, your phones or your sealed material.
leave-unverified = { $url } answered as to a stranger (its operator may have removed you), but that answer is not signed and could be forged: nothing was forgotten. Once its operator confirms they removed you, use “{ forget-watcher }”.
no-watcher-left = You are enrolled with no watcher now: nobody is alerted if you stop checking in.

# The route to the watchers (as `posbon proxy`).
proxy-title = Through Tor
proxy-hint = Through Tor, the local network (an Internet café, your provider) does not see that you talk to the watchers, and a watcher with a .onion address can be reached. Tor must run on this computer (a proxy elsewhere, and the network on the way to it, would see which watcher you ask for): Tor Browser listens at socks5h://127.0.0.1:9150, the Tor service at socks5h://127.0.0.1:9050. Once set, nothing goes to a watcher straight: when Tor is not running, a check-in fails and says so. The phone page is apart: open the watcher’s .onion address in Tor Browser on the phone.
proxy-none = Requests go to the watchers straight, not through a proxy.
proxy-now = Every request to a watcher goes through { $proxy }.
proxy-url = The proxy's address
proxy-clear = Go straight again
proxy-set = Every request to a watcher now goes through { $proxy }, never straight.
proxy-not-answering = Warning: nothing answers at { $proxy } now: start Tor before you check in.
proxy-cleared = Requests to the watchers go straight again, not through a proxy.
proxy-not-a-url = “{ $text }” is not a proxy address like socks5h://127.0.0.1:9050.
proxy-local-dns = socks5:// would look up the watcher's name on this computer, which the local network sees (and cannot reach .onion addresses): use socks5h://{ $address }.
proxy-scheme = Only SOCKS5 proxies that look up names are supported, as socks5h://HOST:PORT, not { $scheme }://.
proxy-no-port = Give the proxy's port, as in socks5h://127.0.0.1:9050.
proxy-trailing = A proxy address is socks5h://HOST:PORT with nothing after the port.

# Forgetting a watcher here only (as `posbon unenrol --local`).
forget-watcher = Forget it here only
forget-question = Forget { $url } here only?
forget-detail = For a watcher that is gone (its server shut down or seized) or whose operator removed you. It is NOT told: if it still runs, it keeps watching you and alerts your contacts when you stop checking in with it. Ask its operator to remove you.
forgot-watcher = { $url } is forgotten here only; it was not told.
forgot-still-watching = It answered just now and still knows you: it keeps watching and will alert your contacts. Ask its operator to remove you.
proxy-unusable = The proxy kept in the vault is not usable any more: nothing goes to a watcher until it is set again on the page “{ proxy-title }”.
