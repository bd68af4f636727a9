#!/usr/bin/env bash
# Everything side by side, in one run on this machine: attachments against the Go `age` CLI
# and `rage`; the watcher's check-ins (throughput at 10,000 subjects, latency at several
# rates, memory at 10,000 and 100,000 subjects); alerts through the outbox against plain
# POSTs. Prints the tables and writes them to docs/performance-latest.md.
# Needs what benches/attachments.sh needs, plus wrk (optional) and rage (installed into
# target/rage on first use, from crates.io).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v rage >/dev/null 2>&1; then
  [ -x target/rage/bin/rage ] || cargo install rage --locked --quiet --root target/rage
  export PATH="$PWD/target/rage/bin:$PATH"
fi
out=docs/performance-latest.md
{
  echo "# Side-by-side run, $(date -u +%Y-%m-%d), $(nproc) cores"
  echo
  echo "Produced by \`benches/compare.sh\`; see performance.md for how to read it."
  echo
  echo "## Attachments"
  echo
  benches/attachments.sh
  echo
  echo "## Watcher"
  echo
  cargo bench --quiet --bench watcher 2>/dev/null | grep '^|'
  echo
  echo "## Alerts through the outbox"
  echo
  cargo bench --quiet --bench alerts 2>/dev/null | grep -E '^\||^Steady'
} | tee "$out"
