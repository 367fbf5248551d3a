#!/usr/bin/env bash
# Builds every cargo-fuzz target and runs each for a few seconds (SECONDS_EACH, default 5):
# a smoke run that catches a target that no longer builds and the shallow crashes.
# Stable toolchain: no sanitizer (-s none), coverage-guided libFuzzer all the same.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install -q --locked cargo-fuzz
cargo fuzz build -s none
for t in $(cargo fuzz list); do
  rm -rf "artifacts/$t"
  cargo fuzz run -s none "$t" -- -max_total_time="${SECONDS_EACH:-5}" 2>&1 |
    grep -E "^Done|ERROR|panicked|SUMMARY" || true
  # libFuzzer leaves a crash input in artifacts/ when a target fails.
  if ls artifacts/"$t"/* >/dev/null 2>&1; then
    echo "fuzz target $t failed; inputs in fuzz/artifacts/$t" >&2
    exit 1
  fi
done
