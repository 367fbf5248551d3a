#!/usr/bin/env bash
# API latency while the daemon works hard (not a test: prints numbers). `GET /_ping` and
# `GET /containers/json` are timed idle, then while a build copies a 1 GiB context and
# `ps -s` walks a container that wrote 100,000 files. Blocking work on the async threads
# shows here as latency in the hundreds of milliseconds.
#   bench/latency.sh        (SIZE_MB=1024 FILES=100000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-100000}

# One request's time in ms, as curl measures it.
req() { curl -s -o /dev/null -w '%{time_total}\n' --unix-socket "$sock" "http://x$1" | awk '{printf "%.1f\n", $1 * 1000}'; }
# Times N requests to PATH; prints "p50 p99 max".
probe() {
  local path=$1 n=$2
  for _ in $(seq "$n"); do req "$path"; sleep 0.02; done | sort -n |
    awk '{a[NR]=$1} END {printf "p50 %.1f p99 %.1f max %.1f ms\n", a[int(NR*0.5)+1], a[int(NR*0.99)+1], a[NR]}'
}

cid=$("$B" create --name big bench true)
upper=$dir/root/snapshots/active/$cid/upper
mkdir -p "$upper/many"
(cd "$upper/many" && seq "$FILES" | xargs touch)
ctx=$dir/ctx; mkdir -p "$ctx"
dd if=/dev/urandom of="$ctx/big" bs=1M count="$SIZE_MB" status=none
printf 'FROM bench\nCOPY big /big\n' > "$ctx/Dockerfile"

echo "idle:       /_ping $(probe /_ping 50)"
echo "idle:       /containers/json $(probe /containers/json 50)"
"$B" build -q --no-cache "$ctx" >/dev/null &
build=$!
( while kill -0 $build 2>/dev/null; do curl -s -o /dev/null --unix-socket "$sock" "http://x/containers/json?all=1&size=1"; done ) &
walker=$!
echo "under load: /_ping $(probe /_ping 100)"
echo "under load: /containers/json $(probe /containers/json 100)"
wait $build || true
kill $walker 2>/dev/null || true
wait $walker 2>/dev/null || true
