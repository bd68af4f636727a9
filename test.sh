#!/usr/bin/env bash
# Every test, on a fresh Debian or Ubuntu machine: installs what the tests need and is
# missing, then runs them all. Run it as root (or with sudo available): some tests mount
# filesystem images (disk full, btrfs, ext4), and the packages come from apt.
#
#   ./test.sh                 every test
#   ./test.sh --test NAME     arguments are passed to `cargo test`
#   ./test.sh --install       only install what the tests need (CI does this while it lints)
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "test.sh: need root (or sudo) to install: $*" >&2
    exit 1
  fi
}

# The Go `age` CLI (and age-keygen): the interoperability tests run against it.
# Chromium: the phone page is tested in a real headless browser; npm drives it.
need=()
command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1 || need+=(age)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
# aiosmtpd: a real SMTP server that the alert tests deliver e-mail to (Debian's python3).
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
# The forensic examiner (tests/examiner/examine.py), written from docs/format.md alone.
/usr/bin/python3 -c 'import cryptography, argon2' >/dev/null 2>&1 ||
  need+=(python3-cryptography python3-argon2)
# mkfs.ext4: the examiner carves a raw ext4 image; btrfs-progs: tests/cow.rs carves a btrfs
# image after `panic`.
command -v mkfs.ext4 >/dev/null 2>&1 || need+=(e2fsprogs)
command -v mkfs.btrfs >/dev/null 2>&1 || need+=(btrfs-progs)
# vim (not vim-tiny, which lacks persistent undo): tests/editor.rs proves with the real
# editor that typed text reaches no swap, backup, undo or viminfo file.
command -v vim >/dev/null 2>&1 || need+=(vim)
# systemd-analyze: tests/watch_ops.rs verifies the systemd unit in contrib/systemd (offline;
# nothing is started).
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# python3-venv: the alert tests run a real Matrix homeserver (Synapse) from a virtual
# environment (below).
/usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
# microsocks: a real SOCKS5 server on loopback stands for Tor in tests/watch_cli.rs (the
# journalist's client reaches watchers only through it once a proxy is set).
command -v microsocks >/dev/null 2>&1 || need+=(microsocks)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}" >&2
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Synapse (PyPI's matrix-synapse) for tests/alerts_matrix.rs, in target/synapse-venv: made
# once (about 105 s here), then reused, so a second run costs nothing. A half-made one (an
# install cut short) is made again.
synapse_venv=target/synapse-venv
if ! "$synapse_venv/bin/python" -c 'import synapse' >/dev/null 2>&1; then
  echo "test.sh: installing Synapse into $synapse_venv" >&2
  rm -rf "$synapse_venv"
  /usr/bin/python3 -m venv "$synapse_venv"
  "$synapse_venv/bin/pip" install --quiet "matrix-synapse==1.163.2"
fi

# playwright-core drives Debian's Chromium (it downloads no browser of its own).
(cd tests/browser && npm ci --no-audit --no-fund --silent)

[ "${1:-}" = "--install" ] && exit 0
if [ $# -gt 0 ]; then
  exec cargo test "$@"
fi

# Every test. `cargo test` runs one test program after another, and most of their time is
# spent waiting on the servers and processes they start, so here the programs run two at a
# time, the longest first; each one's output is shown whole when it ends. The same tests,
# with the same arguments, as `cargo test`.
cargo test --no-run --message-format=json-render-diagnostics >target/test-programs.json
/usr/bin/python3 - target/test-programs.json >target/test-programs <<'PY'
import json, sys
# Longest first (seconds measured on two cores), so that no long one starts last.
longest = ["crash_loop", "vault_cli", "alerts_faults", "examiner", "watch_cli", "release",
           "watch_slow_clients", "alerts", "release_links", "crash", "watch_crash"]
programs = []
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        programs.append((m["target"]["name"], m["executable"]))
rank = lambda p: longest.index(p[0]) if p[0] in longest else len(longest)
for name, exe in sorted(programs, key=rank):
    print(exe)
PY
results=$(mktemp -d)
export results
run_one() {
  local exe=$1 name
  name=$(basename "$exe")
  "$exe" >"$results/$name.log" 2>&1 && echo 0 >"$results/$name.rc" || echo $? >"$results/$name.rc"
  flock "$results/.print" sh -c 'echo "     Running $1"; cat "$2"' _ "$exe" "$results/$name.log"
}
export -f run_one
xargs -a target/test-programs -d '\n' -P 2 -I{} bash -c 'run_one "$1"' _ {}
cargo test --doc
failed=0
for rc in "$results"/*.rc; do
  if [ "$(cat "$rc")" != 0 ]; then
    echo "test.sh: FAILED: $(basename "$rc" .rc)" >&2
    failed=1
  fi
done
rm -rf "$results"
[ "$failed" = 0 ] && echo "test.sh: every test program passed" >&2
exit "$failed"
