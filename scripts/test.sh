#!/usr/bin/env bash
# The whole test suite (needs root): the fuzz targets' smoke run,
# then unit tests and end-to-end tests against real daemons.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/fuzz.sh
cargo test --workspace -- --test-threads=2
