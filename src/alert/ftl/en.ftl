# posbon alert texts: English. What the watcher sends to a journalist's contacts, and the pages
# behind their links.
#
# Translators: keep every message, and keep every { $variable } exactly as it is (you may move
# it within the sentence). A test fails if a language misses a message or a variable. Write for
# a lawyer or an editor reading on a phone: short sentences, no jargon. { $name } is the
# journalist. Times come as { $local } (in the reader's time zone, with { $tz }) and { $utc }.
# Names and links are put in as they are: a name containing braces stays as written.
# Glossary: docs/glossary.md.

# The title (e-mail subject, first line of a chat message).
title-step = posbon ALERT: { $name } missed a check-in ({ $step })
title-release = posbon ALERT: { $name } missed a check-in; sealed material released
title-duress = posbon URGENT: { $name } signalled coercion
title-reminder = posbon reminder: check in by { $local }
title-missed-reminder = posbon: you missed your check-in; check in now
title-all-clear = posbon all clear: { $name } checked in
title-ack = posbon: { $contact } is taking on the alert about { $name }
title-ack-confirmed = posbon: your link confirmed that you are taking on the alert about { $name }
title-test = posbon TEST alert (nothing has happened)
title-phone-enrolled = posbon: a phone was set up to check in for you
title-download = posbon: "{ $bundle }" was downloaded through your link

# The names of the steps of a plan, as shown in "{step}" above and below.
step-tier = tier { $tier }
step-release = release
step-remind = reminder

missed = { $name } has not checked in, and the time they set has passed.
last-checkin = Last check-in: { $local } ({ $tz }), { $utc } UTC.
no-checkin-yet = No check-in since the plan started on { $local } ({ $tz }), { $utc } UTC.
deadline = The deadline was { $local } ({ $tz }), { $utc } UTC.
this-step-tier = This is step "{ $step }" of their plan: the contacts of tier { $tier } are being alerted, and you are one of them.
this-step-release = This is the last step of their plan: the material they sealed in advance for their lawyers is being released. Lawyers receive it separately, encrypted to their own keys.
duress-seen = Warning: in this period they checked in with their duress code. They may have been under coercion.
duress = { $name } has just used their duress code: they opened their vault or checked in as if all were well, but in a way that means they are under coercion. Time: { $local } ({ $tz }), { $utc } UTC. Do not contact them in a way that could reveal this alert to the people with them.
# Sizes of sealed bundles (1 KiB = 1,024 bytes).
size-kib = { $n } KiB
size-mib = { $n } MiB

bundle-ready = Sealed material for you: "{ $bundle }", version { $version } ({ $size }, SHA-256 { $sha256 }). Download it within 30 days, as often as you need: { $url } You are told of every download through your link. Only your own key opens it.
open-safely = To open it safely: posbon open FILE -i YOUR-KEY --from FINGERPRINT (the journalist's sealing fingerprint, which they gave you in person). posbon open refuses material not sealed with that fingerprint, and prints the SHA-256, which must be the one above. Without posbon, only this way, because age and tar do not check who sealed a file: anyone with your public key can make a forged one, and unpacked among your files it can overwrite them. Make a new empty folder and work in it: mkdir new-empty-folder && cd new-empty-folder. Then: age -d -i YOUR-KEY FILE > bundle.tar. Read the list first: LC_ALL=C tar -tvf bundle.tar. Then unpack: tar -xkf bundle.tar --no-same-owner --no-same-permissions
instructions = Their instructions, written in advance:
no-instructions = They left no instructions.
next-step = Next: if they do not check in, step "{ $step }" follows at { $local } ({ $tz }), { $utc } UTC.
last-step = This was the last step of the plan.
ack-link = If you are taking this on, open this link and confirm; the other contacts will be told: { $url }
verify = This alert is signed by the watcher { $fingerprint }. Check it with: posbon alert verify --watcher { $fingerprint } (give it this whole message). You can also confirm the fingerprint with the watcher's operator by phone.

reminder = Reminder: your next check-in is due by { $local } ({ $tz }), { $utc } UTC. Check in with `posbon checkin` or from your phone.
missed-reminder = You missed your check-in: it was due by { $local } ({ $tz }), { $utc } UTC. Check in now, or your contacts will be alerted.
phone-enrolled = A phone was set up to check in for you at { $local } ({ $tz }), { $utc } UTC (phone { $device }). If that was not you, someone used your link: run `posbon phone list`, then `posbon phone remove` on the phone you do not know, and tell your contacts.

all-clear = { $count ->
    [1] All clear: { $name } checked in again at { $local } ({ $tz }), { $utc } UTC. The alert { $alert } is over; no further steps follow from it.
   *[other] All clear: { $name } checked in again at { $local } ({ $tz }), { $utc } UTC. The alerts { $alert } are over; no further steps follow from them.
}
ack = { $contact } ({ $role }) confirmed at { $local } ({ $tz }), { $utc } UTC, through the link sent to them by { $channel }, that they are taking on the alert { $alert } about { $name }.
ack-confirmed = Through the link sent to you by { $channel }, you confirmed at { $local } ({ $tz }), { $utc } UTC that you are taking on the alert { $alert } about { $name }; the other contacts were told. If that was not you, someone else has that link: tell the other contacts that you have not taken it on.
unknown-channel = a channel not on record
test = This is a TEST alert from a posbon watcher, sent to check that this channel reaches you. Nothing has happened to { $name }. You do not need to do anything.
download-notice = The sealed material "{ $bundle }" (version { $version }, SHA-256 { $sha256 }) was downloaded through the link sent to you by { $channel }. Downloads: { $count }; the first at { $local } ({ $tz }), { $utc } UTC. If that was you, nothing needs doing. If not, someone else has that link: the file opens only with your key, but tell the journalist's other contacts.

# A false duress alarm taken back by the journalist (with their real key).
title-retraction = posbon: { $name } took back their coercion alert (a false alarm)
retraction = { $count ->
    [1] { $name } took back the coercion alert { $alert } at { $local } ({ $tz }), { $utc } UTC: it was a false alarm. They did so with their own device key, which the duress passphrase and the phone cannot use. Alerts about missed check-ins are not affected; they still come if { $name } stops checking in.
   *[other] { $name } took back the coercion alerts { $alert } at { $local } ({ $tz }), { $utc } UTC: they were false alarms. They did so with their own device key, which the duress passphrase and the phone cannot use. Alerts about missed check-ins are not affected; they still come if { $name } stops checking in.
}
retraction-caution = Someone who holds { $name } and forces their real passphrase out of them could send this too. If you can, confirm with { $name } in a way you agreed on in advance before you stand down.

# The page behind the acknowledgement link.
ack-page-title = Confirm that you are taking this on
ack-page-text = Alert { $alert } about { $name }. Press the button to tell the other contacts that you are on it.
ack-page-button = I am on it
ack-page-done = Thank you. The other contacts have been told.
ack-page-already = Alert { $alert } about { $name } was already confirmed, at { $when } UTC, through the link sent by { $channel }; the other contacts were told then. If that was not you, someone else has that link: tell the other contacts.

# The page behind a download link.
download-page-text = Sealed material "{ $bundle }", version { $version }, SHA-256 { $sha256 }. This link works until { $until } UTC, as often as needed; the person it was sent to is told of every download. Only their own key opens the file.
download-page-button = Download
link-unknown = This link is unknown, or it has expired (links work for 30 days). If you expected material or an alert here, ask the journalist's other contacts or NANSMIT.
