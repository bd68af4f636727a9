# Why a list of contacts is refused (protocol::contacts::ContactError), one message per
# mistake. The English is also the error's Display: scripts, tests and the watcher's refusals
# read it, so change it only with them. Quoted values ($name, $key, $zone, $given) come
# quoted and escaped; $contact and $channel come as they are.

too-many-contacts = at most { $max } contacts per journalist
instructions-too-long = the instructions are longer than { $max } characters
instructions-hidden = the instructions have control or invisible characters
instructions-markers = the instructions may not contain posbon's alert markers
bad-name = { $name }: a name (and role) of 1 to 100 characters, on one line
same-name = two contacts are called { $name }
bad-tiers = { $contact }: give one or more tiers from 1 to 9 (0 is the journalist)
tier-zero-with-others = { $contact }: tier 0 is the journalist themself and cannot be combined with others
channel-count = { $contact }: give 1 to { $max } channels (--email, --webhook, --telegram, --signal, --ntfy, --matrix)

# A channel's address: $channel is `kind:address` (email:lawyer@example.org).
channel-address = { $contact }: { $channel }: the address is empty, too long or has control characters
channel-not-email = { $contact }: { $channel }: not an e-mail address
channel-not-url = { $contact }: { $channel }: not a URL
channel-not-http = { $contact }: { $channel }: must be an http:// or https:// URL
channel-ntfy-topic = { $contact }: { $channel }: must end in a topic of 1 to 64 letters, digits, - or _ (https://ntfy.sh/my-topic), with no ? or #
channel-telegram-name = { $contact }: { $channel }: a Telegram @name is 5 to 32 letters, digits or _, starting with a letter
channel-telegram-chat = { $contact }: { $channel }: a Telegram chat is a numeric id (a person: 123456789; a group: -123456789; a channel or supergroup: -100...) or a channel's @name
channel-signal-number = { $contact }: { $channel }: a Signal number is written +992...
channel-matrix-room = { $contact }: { $channel }: a Matrix room id looks like !abc123:example.org, or (room version 12 and later) ! and 43 letters, digits, - or _; not a #alias

# A lawyer's key for sealed bundles. $reason is the age library's own English.
key-not-age = { $contact }: { $key } is not an age recipient: { $reason }
key-not-ssh = { $contact }: { $key } is not an ssh-ed25519 key
key-unknown-kind = { $contact }: { $key }: a lawyer's key is an age recipient (age1...) or an ssh-ed25519 public key

unknown-time-zone = { $contact }: { $zone } is not a known time zone (like Asia/Dushanbe)
unknown-lang = { $given } is not a language posbon writes (tg, ru, en)
