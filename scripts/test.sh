#!/usr/bin/env bash
# The whole test suite: unit tests and end-to-end tests against real daemons (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo test --workspace -- --test-threads=2
