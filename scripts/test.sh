#!/usr/bin/env bash
# The whole test suite (needs root): the fuzz targets' smoke run, unit tests and end-to-end
# tests against real daemons, then a bounded schema-driven fuzz run of the API (any 5xx but
# berth's documented 501 "not implemented" fails it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/fuzz.sh
cargo test --workspace -- --test-threads=2
bash scripts/fuzz-api.sh
