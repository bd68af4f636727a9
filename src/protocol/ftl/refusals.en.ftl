# Why a watcher refused a request, by the code it answered with (docs/protocol.md). Every
# message here must exist in refusals.ru.ftl and refusals.tg.ftl. Glossary: docs/glossary.md.
refused-bad-invite = the one-time code is unknown or was already used: ask the watcher's operator for a new one
refused-unknown-contact = this watcher has no such contact for you: send your contacts first
refused-unknown-phone = no phone with this id is set up with this watcher
refused-ambiguous-phone = more than one phone has an id beginning so: give more of it
refused-too-large = the bundle is larger than a watcher keeps (32 MiB)
refused-bad-bundle = the bundle arrived damaged or cut short: try again
refused-too-many-bundles = this watcher keeps no more bundles for you: withdraw one first
refused-stale-version = this watcher holds a newer version of this bundle: seal it again from the records as they are now
refused-bundle-released = this bundle was already released: it stays available to its recipients until its links expire
refused-alerts-under-way = alerts about you already went out in this cycle: check in first
refused-bad-pause = the pause must end in the future
refused-too-many-attempts = too many attempts: wait a while and try again
refused-stale-timestamp = this computer's clock is more than five minutes off: set the right time and try again
refused-replay = the request was already used once (a replay): try again
refused-malformed = the watcher could not read the request: it may be a different version of posbon
refused-unavailable = the watcher cannot handle this right now: try again later
