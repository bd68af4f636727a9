# posbon command line: English. These are the texts the command line printed before it was
# translated: scripts and tests read them. Every message must exist in tg.ftl and ru.ftl with
# the same variables (the tests check it). Glossary: docs/glossary.md.
prompt-passphrase = Passphrase
prompt-new-passphrase = New passphrase
prompt-duress-passphrase = Duress passphrase
prompt-backup-passphrase = Backup passphrase
prompt-key-passphrase = Passphrase of { $path }
prompt-again = { $what } (again)
passphrase-empty = the passphrase is empty
passphrases-differ = the two passphrases differ; nothing was changed
created-vault = created a vault at { $dir }
type-body = Type the body; end with Ctrl-D on a line of its own.
updated-record = updated record { $id }
attached = attached { $name } ({ $size }) to record { $id }
wrote = wrote { $path }
imported = imported { $count } record(s)
checked-in = { $url }: checked in; { $deadline }
plan-set = { $url }: plan set; { $deadline }
deadline-next = next deadline { $time }
deadline-paused = paused until { $time }
deadline-none = no plan set yet
weekday-mon = Mon
weekday-tue = Tue
weekday-wed = Wed
weekday-thu = Thu
weekday-fri = Fri
weekday-sat = Sat
weekday-sun = Sun
days-every = every day
plan-window = check-in window: { $days } { $from }-{ $to }
plan-window-night = check-in window: { $days } { $from }-{ $to } (closes the next day)
plan-no-window = no window on { $days }: no deadline falls on such a day, the next one is on the next day with a window
status-plan = plan: { $plan }
status-none = none
status-last-checkin = last check-in: { $time }
status-never = never
status-fired = fired: { $step } (due { $due }, fired { $fired })
status-duress-seen = duress key or PIN last used: { $time }
not-enrolled = not enrolled with any watcher: run `posbon enrol URL CODE` first
enrol-bundles-sending = { $count ->
    [one] sending the bundle you sealed to your watchers, the new one too: it is sealed again from its records as they are now, for the same people (as `posbon release update` does), so that every watcher holds the same version
   *[other] sending the { $count } bundles you sealed to your watchers, the new one too: each is sealed again from its records as they are now, for the same people (as `posbon release update` does), so that every watcher holds the same version
}
enrol-bundle-stored = bundle { $id } ({ $name }): sealed again as version { $version } and stored on every watcher
enrol-bundle-stored-but = bundle { $id } ({ $name }): sealed again as version { $version } and stored on every watcher but those named below
enrol-bundle-released = { $url } released bundle { $id } ({ $name }) earlier: it keeps the released version until its links expire
enrol-bundle-lacks = { $url } lacks bundle { $id } ({ $name }): run `posbon release update { $id }` when it answers
enrol-bundle-old-copy = { $url } still holds the version before of bundle { $id } ({ $name }): run `posbon release update { $id }` when it answers
enrol-bundle-not-sealed = { $url } lacks bundle { $id } ({ $name }): it could not be sealed again ({ $reason }); mend that and run `posbon release update { $id }`, or withdraw it with `posbon release remove { $id }`
enrolled-without-bundles = you are enrolled with { $url }, but it does not hold every bundle you sealed (listed above): a release from it would go out without them
enrolled-bundles-unsent = you are enrolled with { $url }, but your sealed bundles could not be sent: run `posbon release update ID` for each (see `posbon release list`)
unenrolled = { $url }: unenrolled; this watcher no longer knows you, your phones or your bundles, and this vault no longer knows it
unenrol-unverified = { $url } answered as to a stranger (its operator may have removed you), but that answer is not signed and could be forged: nothing was forgotten here. Once its operator confirms they removed you, forget it here only with `posbon unenrol --local { $url }`
unenrolled-locally = { $url }: forgotten here only. The watcher was NOT told: if it still runs, it keeps watching you and alerts your contacts when you stop checking in with it. Ask its operator to remove you.
unenrol-local-still-watching = { $url } answered just now and still knows you: it keeps watching you and will alert your contacts. Ask its operator to remove you (a watcher that answers is left with `posbon unenrol URL`, without --local, which makes it forget you)
unenrol-local-not-known = { $url } answered just now as to a stranger: it no longer knew you
unenrol-local-no-answer = { $url } did not answer just now: { $reason }
watchers-failed-all = { $failed } of { $total } watchers did not answer or refused
watchers-failed-some = { $failed } of { $total } watchers did not answer or refused; the others answered (listed above)
error-wrong-passphrase = wrong passphrase or recovery key (nothing was changed)
error-no-vault = no vault at { $dir } (create one with `posbon init`)
error-in-use = the vault at { $dir } is in use by another posbon process; wait for it to finish
error-no-record = no record with id { $id }
error-ambiguous-id = id prefix { $id } matches more than one record; give more characters
error-tampered = record { $id } is damaged or was tampered with: it does not authenticate

# --- contacts, release, keys, records, passphrase, session, fields, editor, output, proxy (cli-words)
cannot-read = cannot read { $path }
cannot-write = cannot write { $path }
cannot-create = cannot create { $path }
cannot-sync = cannot sync { $path }
cannot-open-vault = cannot open the vault at { $dir }
cannot-create-vault = cannot create a vault at { $dir }
error-damaged = the vault is damaged: { $why }
contact-needs-fields = a contact needs a name, language, tier and a way to reach them: give them in --fields-file FILE ("-" for stdin), or run in a terminal to be asked; the options work too, but other users can see them and your shell keeps them in its history
contact-added = added { $name }
contact-replaced = replaced { $name }
contact-removed = removed { $name }
contact-unknown = there is no contact called { $name }
contact-time-zone = time zone: { $tz }
contact-email-attach = e-mails carry released bundles as attachments
contact-sealing-key = sealing key: { $key }
contacts-none = no contacts yet: add one with `posbon contact add`, which asks for each detail
contact-instructions = instructions:
instructions-stdin = cannot read the instructions from stdin
instructions-set = instructions set ({ $count } characters)
test-alerts-sending = sending test alerts; each watcher answers once every service has (at most { $seconds } s: a Signal gateway may take a minute)
test-alert-accepted = { $url }: { $contact } { $channel }: accepted
test-alert-failed = { $url }: { $contact } { $channel }: FAILED: { $reason }
test-alert-not-accepted = not accepted
telegram-note = note: telegram:{ $chat } is { $step }
telegram-person = a person: they must open each watcher's bot and press Start once, or Telegram refuses the alert ("bot can't initiate conversation with a user")
telegram-group = a group: each watcher's bot must be a member; if the group becomes a supergroup its id changes (the watcher follows it; update the contact)
telegram-channel = a channel or supergroup: each watcher's bot must be an administrator allowed to post (channel) or a member (supergroup)
telegram-username = an @name reaches only a channel or public group, never a person (give a person's numeric id); each watcher's bot must be an administrator of it
contact-ask-intro = The contact is asked for here, so that it stays out of your shell's history.
contact-ask-stopped = stopped before the contact was complete; nothing was saved
contact-ask-name = Name
contact-ask-lang = Language of their alerts (tg, ru, en)
contact-ask-tier = Tier (1 editor, 2 lawyers, ...; several with commas; 0 is yourself)
contact-bad-tier = a tier is a number from 0 to 9
contact-ask-role = Role (editor, lawyer, family, ...; Enter to skip)
contact-ask-tz = Time zone (like Asia/Dushanbe; Enter for your plan's)
contact-ask-ways = How to reach them, and their keys for sealed material, one a line as KIND: VALUE ({ $kinds }); an empty line ends:
contact-ask-way-again = not KIND: VALUE with KIND one of { $kinds }; type it again
contacts-saved-not-enrolled = saved in the vault; it is sent to each watcher when you enrol
contacts-saved-not-synced = saved in the vault, but not every watcher has it yet: run `posbon contact sync` when they are reachable
contacts-sent = { $url }: { $count } contact(s) sent
verify-short-fingerprint = --watcher { $given } is a 64-bit fingerprint, the short form of posbon 0.1, which is too short to trust; ask the watcher's operator or the journalist for the whole one (32 hex digits, like 1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d)
verify-not-a-watcher = --watcher { $given } is neither a watcher's fingerprint (like 1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d) nor its public key; take it from the watcher's operator, over the phone
verify-stdin = cannot read the alert from stdin
verify-not-genuine = NOT GENUINE: do not act on this alert before confirming it by phone
verify-genuine = GENUINE: signed by watcher { $fingerprint }
verify-subject = subject
verify-step = step
verify-issued = issued
verify-title = title
verify-text-outside = WARNING: the message also holds text outside the signed alert (a forwarding note, a footer, or an addition): none of it is authenticated. Act only on the text printed below.
verify-begin = ----- the signed alert: only this text is authenticated -----
verify-end = ----- end of the signed alert -----
release-key-note = your sealing fingerprint: every bundle you seal is signed with this key. Give it to each lawyer in person (read it out, or write it down), so that `posbon open --from` can tell your bundles from forgeries.
release-stored = { $url }: bundle { $id } stored ({ $size } bytes)
release-not-everywhere = sealed, but not every watcher has the bundle: run `posbon release update ID` when they are reachable
release-sealed = sealed { $count } item(s) as bundle { $id }, signed by your sealing key { $fingerprint }; the watchers release it at the plan's release step
release-preview = This bundle ({ $name }) will reveal to { $people } if it is released:
release-preview-attachment = attachment: { $file }
release-preview-sources = WARNING: it names { $count } source(s): { $names }
release-confirm-on-terminal = confirm on a terminal, or pass --yes after reading the list above
release-confirm = Type { $word } to seal and upload it
release-not-confirmed = not confirmed; nothing was sealed
release-holds-all = { $url }: holds all { $count } bundle(s)
release-removed = { $url }: bundle { $id } removed
open-from-not-fingerprint = --from { $given } is not a whole sealing fingerprint (eight groups of four, like 3f2a-91c0-...): copy all of it as the journalist gave it
open-needs-key = this is a sealed bundle: give your key with -i KEY
open-signed-checked = { $fingerprint } (the fingerprint you gave: it is theirs)
open-signed-unchecked = { $fingerprint } (NOT CHECKED: compare it with the sealing fingerprint the journalist gave you, and open with --from)
open-unsigned = NOBODY: this bundle is NOT SIGNED. Anyone who knows your public key can make such a file: do not rely on it unless the journalist confirms it (bundles sealed by a posbon older than the signature are unsigned too)
open-unsigned-warning = WARNING: this bundle is not signed; anyone who knows your public key can make such a file
open-bundle = bundle: { $name }
open-version = version: { $version } of bundle { $id } (compare with the version in the watchers' alerts: an older one may have been replayed)
open-version-none = version: none (sealed by an older posbon)
open-signed-by = signed by: { $sealer }
open-sealed = sealed: { $time } by { $by }
open-for = for: { $people }
open-your-key = your key: { $check }
open-key-sealed-for-it = the bundle was sealed for it
open-key-not-checked-archive = not checked (opened from a decrypted archive)
open-key-not-checked-older = not checked (an older bundle names no keys)
open-nothing-written = nothing was written: give --from FINGERPRINT (the sealing fingerprint the journalist gave you) to check who sealed it and write it out, or --unchecked to write it out without knowing
open-written = written:
open-written-to = written to { $dir }
passwd-changed = the passphrase was changed
recovery-key-shown =
    This is your recovery key. It is shown once: write it on paper or give it to someone you trust.
    It opens the vault without the passphrase: posbon --recovery-key-file FILE ...
    Its public recipient, for `posbon backup export --to`: { $recipient }
recovery-removed = the recovery key was removed
recovery-none = there was no recovery key
duress-set = the duress passphrase is set: it opens a decoy vault (empty until you add to it while opened with the duress passphrase), and each use silently alerts your watchers
duress-removed = the duress passphrase was removed
duress-none = there was no duress passphrase
status-recovery-set = recovery key: set
status-recovery-not-set = recovery key: not set
status-duress-set = duress passphrase: set
status-duress-not-set = duress passphrase: not set
duress-used = duress passphrase used: { $time }
capture-ask-title = Title
title-empty = the title must not be empty
captured = captured (capture id above); it becomes a record, tagged "captured", at the next unlock
backup-needs-recipient = unlocked with the recovery key: give --to RECIPIENT for the backup
not-an-age-recipient = { $given } is not an age recipient (age1...)
backup-written = wrote { $path }: { $records } record(s), { $attachments } attachment(s)
backup-not-verified = { $path } did not verify
backup-verified = ok: { $records } record(s), { $attachments } attachment(s), { $size } of attachments
backup-needs-identity = give -i IDENTITY_FILE to open the backup
backup-not-restored = cannot restore { $path }
backup-restored = restored { $records } record(s) and { $attachments } attachment(s) into { $dir }
check-authentic = { $records } record(s) and { $attachments } attachment(s) authenticate
check-orphans-removed = removed { $count } unreferenced encrypted file(s) left by interrupted work
check-damaged = DAMAGED: { $what }
check-failed = { $count } item(s) failed to authenticate (listed above); the rest are intact
panic-needs-terminal = refusing to destroy the keys without a terminal to confirm on; add --yes
panic-confirm =
    This destroys the keys of the vault at { $dir }: nobody, including you, can open it again.
    Type ERASE to go ahead
panic-not-confirmed = not confirmed; nothing was destroyed
panic-done = the vault's keys were destroyed
no-data-dir = no platform data directory is known here; give --vault DIR
times = { $line } ({ $count } times)
insecure-fast-kdf = WARNING: --insecure-fast-kdf makes the passphrase easy to brute-force; use it for tests only
passphrase-file-unreadable = cannot read the passphrase file { $path }
passphrase-file-empty-line = the passphrase file { $path } starts with an empty line
passphrase-fd-low = --passphrase-fd must be 3 or higher (0-2 are stdin, stdout, stderr)
passphrase-fd-unreadable = cannot read a passphrase from descriptor { $fd }
no-passphrase-given = no passphrase given: use --passphrase-file FILE or --passphrase-fd N, or run in a terminal
passphrase-terminal-unreadable = cannot read the passphrase from the terminal
passphrase-too-weak = this passphrase is too easy to guess: { $found }Someone who takes the laptop could find it in about 10^{ $guesses } guesses; posbon asks for at least 10^10. Use four or more unrelated words, in any language (a phrase only you would think of), and nothing about you: no names, dates or places
body-stdin = cannot read the body from stdin
body-not-utf8 = the body is not UTF-8 text
stdin-unreadable = cannot read stdin
record-needs-title = { $kind ->
    [source] a source
    [draft] a draft
   *[note] a note
} needs its { $label }: give it in --fields-file FILE ("-" for stdin: the fields, an empty line, then the body), or run in a terminal to be asked; --{ $label } works too, but other users can see it and your shell keeps it in its history
record-title-empty = the { $label } must not be empty
import-not-a-record = line { $line } is not a record (column { $column }: { $error } error); { $count } record(s) before it were added
import-title-empty = line { $line }: the title is empty
import-no-such-field = line { $line }: a { $kind } has no field { $field }
records-unreadable = { $count } record(s) could not be read; the others were listed (run `posbon vault check`)
edit-set-syntax = --set takes FIELD=VALUE, not { $given }
edit-no-fields = it has no fields: change its title, tags or body instead
edit-fields-are = it has: { $names }
edit-no-such-field = a { $kind } has no field { $field } ({ $has })
edit-nothing-to-change = nothing to change: give --fields-file, --title, --tag, --set, --stdin-body, --body-file or --editor
no-file-name = { $path } has no usable file name; give --name
editor-no-ram = no RAM-backed directory (tmpfs) is available for editing, and plaintext must not touch the disk; give the body on stdin or with --body-file instead
editor-not-started = cannot start the editor { $editor }
editor-failed = the editor exited with { $status }; nothing was saved
editor-not-utf8 = the edited text is not UTF-8
fields-stdin = cannot read the fields from stdin
terminal-unreadable = cannot read from the terminal
fields-ask-intro = The { $label } and fields are asked for here, so that they stay out of your shell's history.
fields-ask-stopped = stopped before a { $label } was given; nothing was saved
field-label = { $field ->
    [name] Name
    [title] Title
    [case] Case
    [contact] Contact
    [trust] Trust
    [gave] Gave
    [court] Court
    [lawyer] Lawyer
    [dates] Dates
   *[other] { $field }
}
field-hint = { $field ->
    [contact] how to reach them
    [trust] how far to trust them, and why
    [gave] what they gave you
    [court] which court
    [lawyer] the lawyer on the case
    [dates] hearings and deadlines
   *[other] { "" }
}
field-ask = { $label } ({ $hint }; Enter to skip)
fields-not-a-field = line { $line }: expected `field: value`
fields-unknown = line { $line }: { $what ->
    [source] a source
    [draft] a draft
    [note] a note
    [contact] a contact
   *[way] a way to reach them
} has no such field (it has: { $known })
fields-repeated = line { $line }: `{ $field }` was already given on line { $first }
fields-empty = line { $line }: `{ $field }` must not be empty
fields-bad-tier = line { $line }: a tier is a number from 0 to 9
fields-not-yes-or-no = line { $line }: `{ $field }` is yes or no
fields-missing = no `{ $field }:` line: { $what ->
    [source] a source
    [draft] a draft
    [note] a note
    [contact] a contact
   *[way] a way to reach them
} needs one
fields-not-utf8 = the fields are not UTF-8 text
fields-unexpected-body = text follows the fields after an empty line, but the body does not come from stdin (it comes from --body-file or --editor, or --stdin-body was not given)
proxy-set = every request to a watcher now goes through { $proxy }, never straight: a command fails when the proxy does not answer
proxy-not-answering = WARNING: nothing answers at { $proxy } now: start Tor (or the proxy) before you check in
proxy-override = (this command's --proxy: { $url })
proxy-cleared = requests to watchers go straight again (not through a proxy)
# The operator's `watch` commands.
watch-config-problems = { $path } has { $count } problem(s)
watch-warning = warning
watch-name-empty = the name must not be empty
watch-new-watcher = there was no watcher in { $dir } yet: a new one was created there (if you meant an existing watcher, check --data); start it with `posbon watch serve --data { $dir }`
watch-invite-given =
    give this one-time code to { $name }; they run: posbon enrol URL { $code }
    this watcher's fingerprint (they should see the same): { $fingerprint }
watch-no-watcher = there is no watcher in { $dir } (check --data; a watcher is made by `posbon watch serve` or `posbon watch invite`)
watch-no-pending = no pending delivery has the key { $key }
watch-no-pending-see = no pending delivery has the key { $key } (see `posbon watch outbox`)
watch-gave-up = gave up on { $key }; it stays in the outbox's history
watch-not-a-key = { $key } is not a delivery key
watch-cannot-write-to = cannot write to { $path }
watch-delivered-first = { $key } was delivered before the watcher could give up on it
watch-give-up-timeout = asked the running watcher to give up on { $key }, but the report does not show it given up within 10 s; see `posbon watch outbox`
watch-running-as-of = (the watcher is running; as of { $time })
watch-telegram-moved = Telegram chat { $old } became supergroup { $new }: alerts go to { $new }; the journalist's contact list still names { $old } (ask them to replace it with { $new })
watch-outbox-summary = { $pending } pending ({ $failing } failing, { $refused } refused: the contact or you must act; still retried), { $settled } settled shown
watch-report-unreadable = the watcher is running but { $path } cannot be read
watch-report-damaged = { $path } is damaged
watch-plan-none = no plan yet
watch-plan-paused = paused until { $time }
watch-plan-alerting = ALERTING: { $steps } went out, not yet answered by a check-in
watch-plan-due = next deadline { $time }
watch-plan-unknown = the plan cannot be read
watch-no-journalists = no journalist is enrolled with this watcher
watch-journalist-enrolled = enrolled { $enrolled }; last check-in { $checkin }
watch-journalist-holds = { $phones ->
    [one] { $phones } phone
   *[other] { $phones } phones
}, { $bundles ->
    [one] { $bundles } sealed bundle
   *[other] { $bundles } sealed bundles
}, { $contacts ->
    [one] { $contacts } contact
   *[other] { $contacts } contacts
}
watch-journalists = { $count ->
    [one] { $count } journalist
   *[other] { $count } journalists
}
watch-no-journalist-called = no journalist called { $name } is enrolled with this watcher (see `posbon watch journalists`)
watch-id-enrolled = { $id } (enrolled { $time })
watch-several-called = { $count } journalists are called { $name }; say which with --id ID
watch-no-such-id = no journalist called { $name } has an id beginning { $id } (give at least 8 digits of one of)
watch-ids-ambiguous = more than one id begins { $id }; give more of it
watch-remove-needs-terminal = refusing to remove a journalist without a terminal to confirm on; add --yes
watch-remove-confirm =
    This removes { $name } (id { $id }, enrolled { $time }) from this watcher: their plan, contacts, { $phones ->
        [one] { $phones } phone
       *[other] { $phones } phones
    } and { $bundles ->
        [one] { $bundles } sealed bundle
       *[other] { $bundles } sealed bundles
    } are deleted, and they are no longer watched. Alerts already in the outbox still go out.
    Type their name to go ahead
watch-remove-not-confirmed = not confirmed; nothing was removed
watch-remove-timeout = the running watcher did not carry out the removal within { $seconds } s (see its log); the request was withdrawn, but it may have been carried out just now: check with `posbon watch journalists`
watch-removed = removed { $who }: their plan, contacts, phones, bundles and links are deleted; alerts already in the outbox still go out
watch-removed-already = { $who } was removed already
watch-remove-alerts-under-way = { $who } was not removed: alerts about them went out in this cycle ({ $steps }) and no check-in has answered them, so their contacts have not heard the all-clear. Wait for a check-in, or add --force
watch-remove-bundle-released = { $who } was not removed: their bundle { $id } was released, and its recipients can download it until { $time }; removing them now breaks those links. Wait until then, or add --force
# --- the switch's answers and errors, lists, and library errors at the command line's edge
warning-line = WARNING: { $text }
not-enrolled-with = not enrolled with { $url }
proxy-unusable = the proxy kept in the vault is not usable ({ $reason }): set it again with `posbon proxy set`
watcher-has-plan = { $url } has the plan: { $plan }
watchers-disagree = every watcher answered, but they disagree about your plan (listed above): set it again with `posbon plan set`, and ask the operator of the odd one out
bundles-differ = not every watcher holds the bundles as you sealed them (listed above): a release from that watcher would go out without a bundle, with an old copy, or with one you removed
unknown-phone = no watcher has a phone { $id } (see `posbon phone list`)
removal-released = bundle { $id } was already released to its recipients by { $urls }, so it cannot be withdrawn there until its links expire (see above); every other watcher removed it
removal-unanswered = bundle { $id } is withdrawn, but still on the watchers above that did not answer or refused: run `posbon release remove { $id }` again when they answer
removal-unknown = bundle { $id } is withdrawn; run `posbon release remove { $id }` again to finish
watcher-forgot-you = { $url } does not know this vault (it refused the request's signature): its operator may have removed you. Ask them; if you have left that watcher, run `posbon unenrol --local { $url }` to forget it here
seal-no-records = name at least one record to seal
seal-no-contacts = name at least one contact with --to
seal-sources-not-included = these are sources, and a bundle holds none unless you say so with --include-sources: { $sources }
seal-unknown-contact = there is no contact called { $name } (posbon contact add)
seal-contact-is-journalist = { $name } is in tier 0 (yourself: reminders only), so a release never reaches them; seal for contacts in tier 1 and up
seal-contact-has-no-key = { $name } has no key for sealed material: posbon contact add { $quoted } ... --age-recipient age1...
seal-short-id = give at least 4 digits of the bundle id
seal-unknown-bundle = no release bundle has the id { $id } (see `posbon release list`)
seal-ambiguous-bundle = { $id } is ambiguous; give more digits
seal-removal-pending = bundle { $id } was removed (a watcher missed the removal): finish with `posbon release remove { $id }`, or seal the records afresh with `posbon release add`
gap-lacks = lacks bundle { $id } ({ $name }): run `posbon release update { $id }`
gap-other-copy = holds another copy of bundle { $id } ({ $name }): run `posbon release update { $id }`
gap-still-holds = still holds bundle { $id } ({ $name }), which you removed: run `posbon release remove { $id }` again
plan-gap-nobody-at-step = the plan's step tier{ $tier } alerts nobody: no contact is in tier { $tier } (posbon contact add NAME --tier { $tier } ...)
plan-gap-nobody-at-release = the plan's release step reaches nobody: you have no contact besides yourself
plan-gap-reminders-to-nobody = your reminders go to nobody: add yourself as a contact in tier 0 (posbon contact add Me --tier 0 --email ...)
plan-gap-no-reminders = you get no reminder before your contacts are alerted: add --remind-before 1h or a remind step to the plan
plan-gap-tier-never-alerted = { $contact } is in tier { $tier }, which no step of the plan alerts
plan-gap-bundle-for-no-contact = { $bundle } is sealed for { $contact }, who is no longer a contact: the watchers cannot deliver it to them (posbon release update, or add the contact again)
cannot-compare-plan = cannot compare the plan with the contacts: { $reason }
cannot-compare-bundles = cannot compare the watchers' bundles: { $reason }
bundle-released-until = bundle { $id } (version { $version }) was released: its recipients can download it until { $time }
status-watcher = { $url } (fingerprint { $fingerprint })
status-pretend = shown under duress (the decoy, the phone, your reminders): plan { $plan }; { $deadline }
deadline-no-deadline = no deadline
plan-times-in-zone = times are shown in { $tz }; the interval counts from each check-in, not from a time of day (for set times of day, give --window)
plan-held-as = { $url } holds the plan as: { $plan }; it may be an older watcher that does not know days of the week (it would expect you on every day): ask its operator to upgrade it
pause-needs-time = give --until TIME or --for DURATION
resumed = { $url }: resumed; { $deadline }
pretend-over = { $url }: the watcher follows your real plan again; { $deadline }
retraction-sent = { $url }: a signed retraction is on its way to everyone your duress alarm reached (see `posbon history`)
retraction-none = { $url }: no duress alarm to take back
phone-none = no phone enrolled
phone-line = { $id }  set up { $time }  last check-in { $last }
phone-old = OLD: sends a fixed secret; enrol it again with `posbon watch enrol-phone`, then remove this one
phone-duress = DURESS: set up or removed under duress; every use raises the silent alarm
phone-removed = { $url }: removed { $id }; left:
phone-spare = spare link, served by { $by }: open it on the same phone too and choose the same PINs; keep it as a second bookmark, for when { $first } cannot be reached.
phone-page = a page served by { $by }; sets the phone up with: { $watchers }
phone-open-link =
    open the link above on the phone (or scan the code) within 15 minutes; it works once.
    the phone then needs a PIN, and a different duress PIN for use under coercion; one button then checks in with every watcher named.
phone-unanswered = the phone will not be set up with the watchers that did not answer; run `posbon watch enrol-phone --watcher URL` for each when it does
switch-damaged-key = the vault's { $key } key is damaged
switch-random = the OS random generator failed
switch-missing-answer = { $url } did not answer with { $what }
switch-tests-failed = { $count } channel(s) did not accept the test alert
enrolled-with = enrolled with { $url } as { $subject }; compare the fingerprint above with the one the operator gives you
record-deleted = deleted record { $id }
attachment-removed = removed attachment { $name } from record { $id }
search-needs-words = give at least one word to search for
lock-after-bad = --lock-after { $given } is not a duration like 10m or 1h
app-insecure-fast-kdf = WARNING: --insecure-fast-kdf makes the passphrase of a vault made in the app easy to brute-force; use it for tests only
time-zone-unknown = { $name } is not a known time zone (like Asia/Dushanbe or Europe/Moscow)
contact-list-tier = tier { $tiers }
release-list-records = { $count } record(s)
release-list-for = for { $people }
release-list-bytes = { $size } bytes
release-list-sealed = sealed { $time }
release-list-state = { $state ->
    [removal-pending] removal-pending
   *[active] active
}
record-kind = { $kind ->
    [source] source
    [draft] draft
   *[note] note
}
show-label = { $label ->
    [id] id
    [kind] kind
    [tags] tags
    [created] created
    [updated] updated
   *[attachments] attachments
}
size-unit = { $unit ->
    [B] B
    [KiB] KiB
    [MiB] MiB
    [GiB] GiB
   *[TiB] TiB
}
outbox-state = { $state ->
    [refused] refused
    [failing] failing
    [pending] pending
    [delivered] delivered
   *[other] { $state }
}
outbox-next-try = next try { $time }
outbox-attempts = attempts { $count }
outbox-last-error = last error: { $error }
# Library errors, as the command line words them (English: as the library says them).
vault-exists = a vault already exists at { $dir }
vault-newer = the vault at { $dir } has format version { $found }; this posbon reads up to version { $supported }: upgrade posbon
vault-damaged-backup = the backup is damaged or was tampered with: { $why }
vault-tampered-attachment = attachment { $name } of record { $id } is damaged or was tampered with: { $why }
vault-no-attachment = record { $id } has no attachment named { $name }
vault-duplicate-attachment = record { $id } already has an attachment named { $name }
vault-not-in-this-session = this cannot be done in this session
vault-no-free-slot = every key slot is in use; remove the duress passphrase or recovery key first
vault-store = the vault's database failed: { $why }
client-unreachable = cannot reach { $url }: { $reason }
client-no-connection = nothing answers there (the watcher is not running, or the address or the network is wrong)
client-timed-out = it did not answer in time
client-proxy-down = cannot reach { $url }: the proxy { $proxy } does not answer (is Tor running?); nothing was sent directly
client-onion = { $url } is an onion service: it can only be reached through Tor (`posbon proxy set socks5h://127.0.0.1:9050`, or --proxy); nothing was sent
client-refused = { $url } refused: { $message } ({ $code })
client-bad-signature = { $url } answered without a valid signature from the watcher enrolled with: do not trust this answer
client-malformed = { $url } answered something unexpected: { $reason }
plan-invalid = { $why }
bundle-writing-failed = writing the bundle failed: { $why }
bundle-unreadable = cannot read { $path }: { $why }
bundle-not-for-this-key = this key cannot open the bundle (it was sealed for other keys), or it is not an age file
bundle-damaged = the bundle is damaged or was altered: { $why }
bundle-wrong-sealer = the bundle was sealed by key { $found }, not by { $expected }: it is not from the journalist you named
bundle-unsigned = the bundle is not signed, so --from cannot be checked: it may be a forgery (or was sealed by a posbon older than the signature)
bundle-not-sealed-for-this-key = the bundle was not sealed for your key ({ $key }): it is a copy someone re-encrypted, not what the journalist sent you
bundle-wrong-key-passphrase = the passphrase of the key { $key } is wrong
alert-not-found = no posbon alert was found in the input
alert-malformed = the alert is damaged: { $why }
alert-wrong-watcher = the alert was signed by watcher { $found }, not by { $expected }: it did not come from the watcher you named
alert-bad-signature = the signature does not match: the alert was altered or forged
alert-mismatch = the JSON fields do not match the signed text ({ $field }): the alert was altered
alert-several = the message holds more than one alert (a quoted or forged copy?): verify the original message, as received
alert-invisible = the message holds invisible characters that can hide or disguise text: it was altered, or verify the original as received
alert-unexpected-parts = the e-mail has { $parts }, which posbon never sends: what a mail program shows may not be the signed alert
config-unreadable = { $why }
config-invalid = { $why }
config-empty-secret = the secret file { $path } is empty
config-read-secret = cannot read the secret file { $path }
config-key-file = cannot { $what } { $path }
alert-part-html = an HTML part
alert-parts-text = { $count } text parts
no-watcher-left = you are enrolled with no watcher now: nobody is alerted if you stop checking in (enrol again with `posbon enrol URL CODE`)
local-time = local time
time-bad = { $given } is not a time like "2026-12-03 18:00" (in your time zone, { $zone }) or 2026-12-03T18:00:00Z
prompt-search = Search for

# What opening the vault tells the journalist (vault::Notice).
notice-slot-checksum = the key-slot file failed its checksum but your slot opened; run `posbon passwd` to rewrite it
notice-slot-upgrade-failed = the key-slot file could not be rewritten in the current format ({ $why }); posbon will try again at the next unlock
notice-slot-tables-failed = the vault's key-slot tables could not be updated: { $why }
notice-old-copies = WARNING: this vault is on { $filesystem }, which keeps old copies of rewritten files, and its key slots are not protected from that: `posbon panic` cannot promise to destroy the keys. Make a new vault on a filesystem that overwrites in place (an ext4 partition or a LUKS volume){ $btrfs ->
        [yes] , or on btrfs into a new directory made with `chattr +C` before the vault is created
       *[no] {""}
    }; see "Where to keep the vault" in the journalist guide
notice-captures-imported = imported { $count } captured item(s) into the vault
notice-capture-kept = a captured item ({ $file }) could not be imported and was kept: { $why }
notice-inbox-failed = captured items could not be imported and stay in the inbox: { $why }
notice-duress-used = WARNING: the duress passphrase was used to open this vault at { $when }

# What the vault will not do as asked (vault::Refusal). In English the command line prints the
# library's own text; these keep the catalogue whole and are checked equal to it.
refused-keys-changed = the vault's keys changed while this command ran (was `posbon panic` used?); nothing was changed
refused-passphrase-in-use = that passphrase is already in use for this vault; choose another
refused-duress-same-as-real = the duress passphrase must differ from the real passphrase
refused-empty-passphrase = the passphrase is empty
refused-empty-new-passphrase = the new passphrase is empty
refused-empty-duress-passphrase = the duress passphrase is empty
refused-not-a-record-id = { $id } is not a record id (ids are hex, give at least 4 digits)
refused-attachment-name = { $name } cannot be an attachment name (no slashes, at most 255 bytes)
refused-backup-wants-key = { $file } was encrypted to a key, not a passphrase: give that key's file with -i
refused-backup-wants-passphrase = { $file } was encrypted with a passphrase, not to a key: leave out -i
refused-not-an-identity-file = { $path }: not an age identity file ({ $why })
refused-backup-newer = the backup has format version { $found }; this posbon reads up to { $supported }: upgrade posbon
refused-dir-not-empty = { $dir } is not empty; choose a new directory for the vault

# A lawyer's key file that cannot be used (release::KeyProblem), and the bundle's refusals.
bundle-bad-key = { $key }: { $problem }
key-too-large = too large to be a key file
key-not-a-key = not an age identity file nor an OpenSSH private key
key-bad-line = line { $line } is not an age identity (AGE-SECRET-KEY-1...)
key-no-identity = it holds no identity
key-damaged-encrypted = a damaged encrypted identity file
key-not-passphrase-protected = an age file that is not protected by a passphrase is not a key
key-unsupported-ssh = an SSH key of a kind posbon cannot use (bundles are sealed for ssh-ed25519 keys)
key-damaged-ssh = a damaged SSH private key
bundle-out-exists = { $dir } already exists: give a new folder with --out
bundle-too-large = these records hold { $mib } MiB; a bundle may hold at most { $max } MiB (leave out large attachments)
bundle-no-sealing-keys = none of the chosen contacts has an age or SSH key (contact add --age-recipient)
