#!/usr/bin/env bash
# End-to-end timings through the CLI and memory figures. Not a test: prints numbers.
#   bench/run.sh            (builds release, starts a private daemon)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-20}
echo "run --rm bench true:    median $(for _ in $(seq $N); do time_ms "$B" -H "unix://$sock" run --rm bench true; done | median) ms"
echo "run --rm bench echo hi: median $(for _ in $(seq $N); do time_ms "$B" -H "unix://$sock" run --rm bench echo hi; done | median) ms"
echo "daemon idle RSS: $(awk '/VmRSS/ {print $2}' /proc/$dpid/status) kB"
cid=$("$B" -H "unix://$sock" run -d bench sleep 60)
sleep 0.5
echo "exec C true:            median $(for _ in $(seq $N); do time_ms "$B" -H "unix://$sock" exec "$cid" true; done | median) ms"
mon=$(pgrep -f "berth monitor .*${cid}" | head -1)
echo "monitor RSS per container: $(awk '/VmRSS/ {print $2}' /proc/$mon/status) kB"
