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
status-plan = plan: { $plan }
status-none = none
status-last-checkin = last check-in: { $time }
status-never = never
status-fired = fired: { $step } (due { $due }, fired { $fired })
status-duress-seen = duress key or PIN last used: { $time }
not-enrolled = not enrolled with any watcher: run `posbon enrol URL CODE` first
watchers-failed-all = { $failed } of { $total } watchers did not answer or refused
watchers-failed-some = { $failed } of { $total } watchers did not answer or refused; the others answered (listed above)
error-wrong-passphrase = wrong passphrase or recovery key (nothing was changed)
error-no-vault = no vault at { $dir } (create one with `posbon init`)
error-in-use = the vault at { $dir } is in use by another posbon process; wait for it to finish
error-no-record = no record with id { $id }
error-ambiguous-id = id prefix { $id } matches more than one record; give more characters
error-tampered = record { $id } is damaged or was tampered with: it does not authenticate
