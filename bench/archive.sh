#!/usr/bin/env bash
# `load` and `save` of a 300 MB image in 5 layers (5 x 60 MB of random files, so compression
# cannot help) from a Docker 20.10-style docker-archive (not a test: prints numbers). With
# REF=unix:///docker.sock the same archive is loaded into, and saved from, that Docker too.
#   bench/archive.sh        (N=3 runs each, the median printed; the image is removed between)
# Every run starts after a sync (not timed), so one run's writeback does not land on the next.
#
# The reference is Debian's docker.io (dockerd 20.10.24), in a network namespace of its own:
#   ip netns add dref
#   nsenter --net=/run/netns/dref dockerd -H unix:///tmp/dref.sock --data-root /tmp/dref \
#     --exec-root /tmp/dref-run --pidfile /tmp/dref.pid --bridge none --iptables=false &
#   REF=unix:///tmp/dref.sock bash bench/archive.sh
#
# Figures (2026-12-03, the 2-core development VM shared with another engineer's builds, load
# average ~2; /tmp on virtio disk; release build of acdbc76; N=5, medians):
#   berth load  690 ms   docker 20.10.24 load 2306 ms   (0.30 of Docker's time; goal <= 1/3)
#   berth save  184 ms   docker 20.10.24 save 2050 ms   (0.09)
# Before layers were extracted two at a time (352bcbd): load 744 ms against 2208 ms; with an
# early build (9e5a241/efe7ec1, every layer hashed twice): 1141 ms against 2596 ms.
# In single runs with `berth daemon -D` ("archive loaded" lines), spooling the 301 MB stream
# (hashed as written) took 450-700 ms of a load, so that is what is left to win.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-3}

archive=$dir/big.tar
python3 bench/big_image.py "$archive"
echo "archive: $(du -m "$archive" | cut -f1) MB, 5 layers"

for t in "${tools[@]}"; do
  loads=() saves=()
  for i in $(seq "$N"); do
    tool "$t" rmi big:1 >/dev/null 2>&1 || true
    sync
    loads+=("$(time_ms tool "$t" load -i "$archive")")
    sync
    saves+=("$(time_ms tool "$t" save -o "$dir/out.tar" big:1)")
    rm -f "$dir/out.tar"
  done
  echo "$t load: median $(printf '%s\n' "${loads[@]}" | median) ms   (runs: ${loads[*]})"
  echo "$t save: median $(printf '%s\n' "${saves[@]}" | median) ms   (runs: ${saves[*]})"
  tool "$t" rmi big:1 >/dev/null
done
