#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20), starting from the kept seeds and the
# corpus grown so far. Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). The project
# builds on stable Rust; cargo-fuzz's sanitizer flags need RUSTC_BOOTSTRAP=1 there.
# A crash stops the run with the failing input under fuzz/artifacts/TARGET/: turn it into a
# regression test (see docs/testing.md) before fixing it.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-20}"
export RUSTC_BOOTSTRAP=1
targets=(signed_request alert_verify plan_and_contacts duration_and_window bundle_open vault_files watcher_config)
cargo fuzz build -O
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "fuzzing $target for ${seconds}s"
  cargo fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>&1 \
    | grep -E '^(Done|stat::number_of_executed_units|==[0-9]+==|SUMMARY)|panicked' || true
  # grep's status is not the fuzzer's: a crash leaves an artifact, which fails the run.
  if ls "artifacts/$target"/crash-* "artifacts/$target"/oom-* "artifacts/$target"/timeout-* >/dev/null 2>&1; then
    echo "fuzz target $target found a failing input:" >&2
    ls "artifacts/$target" >&2
    exit 1
  fi
done
