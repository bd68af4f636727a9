# The phone page (src/watch/phone.html) in English. The watcher puts these into the page as
# JavaScript text; `{ $n }`, `{ $w }` and `{ $ok }` become the page's own markers, filled in
# by its script (a wait, the watchers not reached, the watchers reached).

title = posbon check-in
pin = PIN
checkin = Check in
ok = Checked in. Next deadline:
none = no plan set yet
wrong_pin = Wrong PIN.
too_many = Too many attempts. Try again in { $n }.
sec = { $n } s
min = { $n } min
hr = { $n } h
weak = This PIN is among the first a coercer tries (repeated, sequential, common, or a date). Choose another.
unreachable = The watcher cannot be reached. Try again.
enrol_title = Set up this phone for check-ins.
new_pin = Choose a PIN (6–12 digits)
repeat_pin = Repeat the PIN
duress_pin = Duress PIN: a different one of the same length, to use if you are forced
repeat_duress = Repeat the duress PIN
enrol = Set up
enrolled = This phone is set up. Check in with your PIN.
mismatch = The PINs differ, are not 6–12 digits or not of one length, or the duress PIN is the same.
not_enrolled = This phone is not set up. Open the link from `posbon watch enrol-phone`.
no_crypto = This browser cannot keep a key safely here. Open the link in an up-to-date browser, over https (or an .onion address in Tor Browser).
refused = Refused:
bad_invite = This set-up link is unknown, expired or already used. Ask for a new one (`posbon watch enrol-phone`).
unavailable = The watcher cannot answer right now. Try again.
watchers = Your watchers: { $w }
enrol_with = This link sets up the phone with these watchers: { $w }
w_ok = checked in
w_set = set up
w_down = did not answer
missing = Watcher { $w } did not answer — your check-in reached { $ok }. Try again soon, or check in from your laptop.
missing_n = Watchers { $w } did not answer — your check-in reached { $ok }. Try again soon, or check in from your laptop.
partial = Your check-in reached { $ok }, but not { $w }. Try again soon, or check in from your laptop.
none_reached = Your check-in reached no watcher. Try again, or check in from your laptop.
enrol_partial = This phone is set up with { $ok }, but not with { $w }. Press “Set up” again, with the same PINs.
and = and
stale_timestamp = The phone’s clock is far off. Set its date and time, then try again.
malformed = The watcher could not read this page’s request. Reload the page and try again.
# The twelve months as a date names them ("30 November 2026"), one word each, by spaces.
months = January February March April May June July August September October November December
