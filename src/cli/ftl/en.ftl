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
