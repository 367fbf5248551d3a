#!/usr/bin/env bash
# End-to-end timings through the CLI and memory figures. Not a test: prints numbers.
#   bench/run.sh            (builds release, starts a private daemon)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release -q
B=$PWD/target/x86_64-unknown-linux-gnu/release/berth
dir=$(mktemp -d /tmp/berth-bench.XXXX)
sock=$dir/b.sock
"$B" daemon -H "$sock" --data-root "$dir/root" --exec-root "$dir/run" 2>"$dir/daemon.log" &
dpid=$!
trap 'for c in $("$B" -H unix://$sock ps -aq); do "$B" -H unix://$sock rm -f $c >/dev/null; done; kill $dpid; wait $dpid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
rootfs=$dir/rootfs; mkdir -p "$rootfs/bin" "$rootfs/etc"
cp /bin/busybox "$rootfs/bin/"; for a in sh true echo sleep; do ln -s busybox "$rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
tar -C "$rootfs" -c . | "$B" -H "unix://$sock" import - bench >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
N=${N:-20}
echo "run --rm bench true:    median $(for _ in $(seq $N); do time_ms "$B" -H "unix://$sock" run --rm bench true; done | median) ms"
echo "run --rm bench echo hi: median $(for _ in $(seq $N); do time_ms "$B" -H "unix://$sock" run --rm bench echo hi; done | median) ms"
echo "daemon idle RSS: $(awk '/VmRSS/ {print $2}' /proc/$dpid/status) kB"
cid=$("$B" -H "unix://$sock" run -d bench sleep 60)
sleep 0.5
echo "exec C true:            median $(for _ in $(seq $N); do time_ms "$B" -H "unix://$sock" exec "$cid" true; done | median) ms"
mon=$(pgrep -f "berth monitor .*${cid}" | head -1)
echo "monitor RSS per container: $(awk '/VmRSS/ {print $2}' /proc/$mon/status) kB"
