#!/usr/bin/env bash
# End-to-end timings through the CLI and memory figures. Not a test: prints numbers.
#   bench/run.sh            (builds release, starts a private daemon)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-20}
for t in "${tools[@]}"; do
  echo "$t run --rm bench true:    median $(for _ in $(seq $N); do time_ms tool "$t" run --rm bench true; done | median) ms"
  echo "$t run --rm bench echo hi: median $(for _ in $(seq $N); do time_ms tool "$t" run --rm bench echo hi; done | median) ms"
done
echo "daemon idle RSS: $(awk '/VmRSS/ {print $2}' /proc/$dpid/status) kB"
cid=$("$B" -H "unix://$sock" run -d bench sleep 60)
sleep 0.5
echo "berth exec C true:            median $(for _ in $(seq $N); do time_ms "$B" -H "unix://$sock" exec "$cid" true; done | median) ms"
if [ -n "${REF:-}" ]; then
  rid=$(tool docker run -d bench sleep 60)
  echo "docker exec C true:           median $(for _ in $(seq $N); do time_ms tool docker exec "$rid" true; done | median) ms"
  tool docker rm -f "$rid" >/dev/null
fi
mon=$(pgrep -f "berth monitor .*${cid}" | head -1)
echo "monitor RSS per container: $(awk '/VmRSS/ {print $2}' /proc/$mon/status) kB"
