#!/usr/bin/env bash
# Networks: what the default bridge and a user-defined network add to `run --rm` over
# `--network none`, publishing a range
# of 1,000 ports (no proxy process per port), and a lookup through the embedded DNS server
# (`exec nslookup` over `exec true`). Not a test: prints numbers. The whole script runs in a
# network namespace of its own, so the host's links and firewall are untouched.
#   bench/networks.sh   (REF=unix:///path/docker.sock to compare with a Docker daemon, which
#   must itself run in a namespace of its own)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BENCH_NETNS:-}" ]; then
  exec env BENCH_NETNS=1 unshare --net bash -c 'ip link set lo up && exec bash bench/networks.sh'
fi
. bench/lib.sh
N=${N:-20}
for t in "${tools[@]}"; do
  tool "$t" network create benchnet >/dev/null
  none=$(for _ in $(seq $N); do time_ms tool "$t" run --rm --network none bench true; done | median)
  default=$(for _ in $(seq $N); do time_ms tool "$t" run --rm bench true; done | median)
  bridge=$(for _ in $(seq $N); do time_ms tool "$t" run --rm --network benchnet bench true; done | median)
  echo "$t run --rm true: --network none $none ms, default bridge $default ms, user-defined network (with DNS) $bridge ms"
  one=$(for i in $(seq 5); do time_ms tool "$t" run -d --name "p$i" --network benchnet -p "$((10000 + i))":80 bench sleep 100; done | median)
  for i in $(seq 5); do tool "$t" rm -f "p$i" >/dev/null; done
  range=$(time_ms tool "$t" run -d --name range --network benchnet -p 20000-20999:20000-20999 bench sleep 100)
  procs=$(pgrep -c docker-proxy || true)
  echo "$t run -d with -p 1 port: $one ms; with -p 1,000 ports: $range ms (docker-proxy processes: $procs)"
  tool "$t" rm -f range >/dev/null
  tool "$t" run -d --name peer --network benchnet bench sleep 100 >/dev/null
  tool "$t" run -d --name asker --network benchnet bench sleep 100 >/dev/null
  # Timed only once it is known to resolve.
  tool "$t" exec asker busybox nslookup peer >/dev/null || { echo "$t: nslookup peer failed" >&2; exit 1; }
  plain=$(for _ in $(seq $N); do time_ms tool "$t" exec asker true; done | median)
  dns=$(for _ in $(seq $N); do time_ms tool "$t" exec asker busybox nslookup peer; done | median)
  echo "$t exec true $plain ms; exec nslookup peer (embedded DNS) $dns ms"
  tool "$t" rm -f peer asker >/dev/null
  tool "$t" network rm benchnet >/dev/null
done
