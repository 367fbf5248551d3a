#!/usr/bin/env bash
# Networks: what the default bridge and a user-defined network add to `run --rm` over
# `--network none`, publishing a range
# of 1,000 ports (no proxy process per port), and a lookup through the embedded DNS server
# (`exec nslookup` over `exec true`). Not a test: prints numbers. The whole script runs in a
# network namespace of its own, so the host's links and firewall are untouched.
# Then TCP throughput through a port published on 127.0.0.1 against going straight to the
# container's address, and the embedded DNS server's latency at 1,000 queries/s for a container
# name and for a name it forwards (to a tiny upstream on 127.0.0.1:53); the load
# generators (bench/net.py) run in the container's namespace, so the image needs no python.
#   bench/networks.sh   (REF=unix:///path/docker.sock REF_NETNS=/path/netns to compare with a
#   Docker daemon, which must itself run in the network namespace REF_NETNS)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BENCH_NETNS:-}" ]; then
  exec env BENCH_NETNS=1 unshare --net bash -c 'ip link set lo up && exec bash bench/networks.sh'
fi
. bench/lib.sh
N=${N:-20}
# ns NAME CMD...: runs CMD in the network namespace of berth's daemon or of the reference's.
ns() { local t=$1; shift; if [ "$t" = berth ]; then "$@"; else nsenter --net="$REF_NETNS" "$@"; fi; }
for t in "${tools[@]}"; do
  tool "$t" network create benchnet >/dev/null
  # Interleaved, so drift in the machine's load falls on the three alike.
  : >"$dir/none"; : >"$dir/default"; : >"$dir/bridge"
  for _ in $(seq $N); do
    time_ms tool "$t" run --rm --network none bench true >>"$dir/none"
    time_ms tool "$t" run --rm bench true >>"$dir/default"
    time_ms tool "$t" run --rm --network benchnet bench true >>"$dir/bridge"
  done
  none=$(median <"$dir/none"); default=$(median <"$dir/default"); bridge=$(median <"$dir/bridge")
  echo "$t run --rm true: --network none $none ms, default bridge $default ms, user-defined network (with DNS) $bridge ms"
  one=$(for i in $(seq 5); do time_ms tool "$t" run -d --name "p$i" --network benchnet -p "$((10000 + i))":80 bench sleep 100; done | median)
  for i in $(seq 5); do tool "$t" rm -f "p$i" >/dev/null; done
  range=$(time_ms tool "$t" run -d --name range --network benchnet -p 20000-20999:20000-20999 bench sleep 100)
  procs=$(pgrep -c docker-proxy || true)
  echo "$t run -d with -p 1 port: $one ms; with -p 1,000 ports: $range ms (docker-proxy processes: $procs; Docker runs one per port and family)"
  tool "$t" rm -f range >/dev/null
  tool "$t" run -d --name peer --network benchnet bench sleep 100 >/dev/null
  tool "$t" run -d --name asker --network benchnet --dns 127.0.0.1 bench sleep 100 >/dev/null
  # Timed only once it is known to resolve.
  tool "$t" exec asker busybox nslookup peer >/dev/null || { echo "$t: nslookup peer failed" >&2; exit 1; }
  plain=$(for _ in $(seq $N); do time_ms tool "$t" exec asker true; done | median)
  dns=$(for _ in $(seq $N); do time_ms tool "$t" exec asker busybox nslookup peer; done | median)
  echo "$t exec true $plain ms; exec nslookup peer (embedded DNS) $dns ms"
  pid=$(tool "$t" inspect -f '{{.State.Pid}}' asker)
  # berth forwards to a loopback server from the daemon's namespace; Docker 20.10 from the
  # container's, so its upstream must run there.
  if [ "$t" = berth ]; then python3 bench/net.py upstream & up=$!
  else nsenter -t "$pid" -n python3 bench/net.py upstream & up=$!; fi
  for q in peer example.com; do
    echo "$t embedded DNS, $q at 1,000 queries/s: $(nsenter -t "$pid" -n python3 bench/net.py dnsload "$q" 1000 5)"
  done
  pkill -f "bench/net.py upstream"; wait $up 2>/dev/null || true
  tool "$t" rm -f peer asker >/dev/null
  tool "$t" run -d --name tput --network benchnet -p 127.0.0.1:5001:5001 bench sleep 100 >/dev/null
  pid=$(tool "$t" inspect -f '{{.State.Pid}}' tput)
  ip=$(tool "$t" inspect -f '{{.NetworkSettings.Networks.benchnet.IPAddress}}' tput)
  nsenter -t "$pid" -n python3 bench/net.py sink 5001 & sink=$!
  for _ in $(seq 100); do nsenter -t "$pid" -n ss -Hltn | grep -q ':5001 ' && break; sleep 0.05; done
  published=$(for _ in 1 2 3; do ns "$t" python3 bench/net.py send 127.0.0.1 5001 2000; done | median)
  direct=$(for _ in 1 2 3; do ns "$t" python3 bench/net.py send "$ip" 5001 2000; done | median)
  echo "$t TCP throughput: published 127.0.0.1:5001 $published MiB/s, container address $direct MiB/s ($((100 * published / direct))%)"
  kill $sink; wait $sink 2>/dev/null || true
  tool "$t" rm -f tput >/dev/null
  tool "$t" network rm benchnet >/dev/null
done
