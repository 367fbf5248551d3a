#!/usr/bin/env bash
# `stats --no-stream` latency for 1 and 100 running containers, through berth's CLI and the
# stock docker CLI against berth (and a reference Docker with REF=unix:///path/docker.sock),
# plus the daemon's CPU time while one `stats` stream of all 100 runs. Not a test: prints
# numbers.
#   bench/stats.sh          (builds release, starts a private daemon)
# Measured 2026-12-02 on the 2-core build machine while other builds ran (release build):
#   1 container:    berth stats --no-stream 1010 ms, docker CLI -> berth 1542 ms
#   100 containers: berth stats --no-stream 1054 ms, docker CLI -> berth 1571 ms
#   daemon CPU while one stream of all 100 runs: 130 ms in 10 s (1.3 % of a CPU)
# Side by side on 2026-12-02 (release build of that day, load ~19 after the health run below;
# by hand, the stock docker CLI to each daemon, two runs each):
#   1 container:    docker CLI -> berth 1525/1516 ms, -> Docker 20.10 1519/2007 ms
#   100 containers: docker CLI -> berth 1549/1605 ms, -> Docker 20.10 2434/2410 ms
# (`stream=false` is two samples a second apart; Docker waits for two rounds of its
# collector, 1-2 s. The docker CLI 28 prints even --no-stream at its first 500 ms tick.)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-5}
many=${MANY:-100}
dockerb() { docker -H "unix://$sock" "$@"; }
for t in "${tools[@]}"; do tool "$t" run -d --name stats-one bench sleep 600 >/dev/null; done
echo "1 container:"
for t in "${tools[@]}"; do
  echo "  $t stats --no-stream:          median $(for _ in $(seq $N); do time_ms tool "$t" stats --no-stream stats-one; done | median) ms"
done
echo "  docker CLI -> berth:             median $(for _ in $(seq $N); do time_ms dockerb stats --no-stream stats-one; done | median) ms"
for t in "${tools[@]}"; do
  for i in $(seq 2 "$many"); do tool "$t" run -d bench sleep 600 >/dev/null; done
done
echo "$many containers:"
for t in "${tools[@]}"; do
  echo "  $t stats --no-stream:          median $(for _ in $(seq $N); do time_ms tool "$t" stats --no-stream; done | median) ms"
done
echo "  docker CLI -> berth:             median $(for _ in $(seq $N); do time_ms dockerb stats --no-stream; done | median) ms"
# The collector's cost: daemon CPU over 10 s of one stream of every container.
ticks() { awk '{print $14 + $15}' "/proc/$dpid/stat"; }
before=$(ticks)
timeout 10 "$B" stats >/dev/null || true
after=$(ticks)
echo "  daemon CPU while streaming $many: $(( (after - before) * 10 )) ms in 10 s"
