#!/usr/bin/env bash
# `logs -f` throughput of a container writing as fast as it can (busybox yes, 70-byte lines,
# SIZE MB in all, default 300, through json-file rotation at 20m x 5), and the CPU its monitor
# used meanwhile (not a test: prints numbers). With REF=unix:///docker.sock the same follow is
# timed against that Docker daemon (its logging CPU is dockerd's, not measured here).
#   bench/logs.sh            SIZE=300 by default
# Measured 2026-12-03 (2 cores, load ~4 from a parallel build; release build, data on /tmp;
# REF = Debian's dockerd 20.10.24 in a netns of its own), two runs each:
#   berth   logs -f: 300 of 300 MB in 3.9 s / 5.7 s = 76 / 52 MB/s; monitor CPU 1.79 / 1.76 s
#   docker  logs -f: 165 / 171 of 300 MB in 18.9 / 18.5 s = 8 / 9 MB/s: its follow loses
#           what rotates away under it; berth's follower got every byte (it reads on in the files
#           it has open; only one outrun by more than max-file rotations would lose lines).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZE=${SIZE:-300}
bytes=$((SIZE * 1000000))
line=0123456789012345678901234567890123456789012345678901234567890123456789

# ticks PID: the user + system clock ticks a process has used.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }

for t in "${tools[@]}"; do
  cid=$(tool "$t" run -d --log-opt max-size=20m --log-opt max-file=5 bench \
    sh -c "busybox sleep 1; busybox yes $line | busybox head -c $bytes")
  mon=
  if [ "$t" = berth ]; then
    pid=$(tool "$t" inspect -f '{{.State.Pid}}' "$cid")
    mon=$(awk '{print $4}' "/proc/$pid/stat")
    # The monitor's last reading before it exits with the container.
    ( last=0; while t1=$(ticks "$mon"); do last=$t1; echo "$last" > "$dir/ticks"; sleep 0.1; done ) &
    sampler=$!
  fi
  s=$(date +%s%N)
  got=$(tool "$t" logs -f "$cid" | wc -c)
  e=$(date +%s%N)
  ms=$(( (e - s) / 1000000 ))
  echo "$t logs -f: $((got / 1000000)) of $SIZE MB in $ms ms: $(( got / 1000 / (ms > 0 ? ms : 1) )) MB/s (the container waits 1 s first)"
  if [ -n "$mon" ]; then
    wait "$sampler" || true
    hz=$(getconf CLK_TCK)
    used=$(cat "$dir/ticks")
    echo "$t monitor CPU: $((used * 1000 / hz)) ms for $SIZE MB ($(( used * 100000 / hz / (ms > 0 ? ms : 1) ))% of the wall time)"
  fi
  tool "$t" rm -f "$cid" >/dev/null
done
