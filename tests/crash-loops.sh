#!/bin/sh
# The kill loops, longer than `cargo test` runs them.
#
#   tests/crash-loops.sh watcher 1000    SIGKILL the watcher 1000 times back to back (some
#                                        within ms of its start), under check-ins and escalation
#   tests/crash-loops.sh vault 1000      SIGKILL short vault commands 1000 times back to back
#                                        (add, edit, rm, attach, passwd, duress set, captures)
#
# `cargo test` makes 100 kills; this sets POSBON_KILLS and runs the same test.
set -eu
usage="usage: tests/crash-loops.sh watcher|vault [KILLS]"
what=${1:?$usage}
kills=${2:-1000}
cd "$(dirname "$0")/.."
case $what in
watcher)
    POSBON_KILLS=$kills exec cargo test --test watch_crash -- --nocapture --exact \
        killing_the_watcher_back_to_back_even_while_it_starts_loses_no_acknowledged_check_in_and_fires_each_step_once
    ;;
vault)
    POSBON_KILLS=$kills exec cargo test --release --test crash_loop -- --nocapture
    ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac
