#!/usr/bin/env bash
# Every test, on a fresh Debian or Ubuntu machine: installs what the tests need and is
# missing, then runs them all. Run it as root (or with sudo available): some tests mount
# filesystem images (disk full, btrfs, ext4), and the packages come from apt.
#
#   ./test.sh                 every test
#   ./test.sh --test NAME     arguments are passed to `cargo test`
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

cargo test "$@"
