#!/usr/bin/env bash
# Volumes: what a bind mount and a named volume add to `run --rm`, and the first use of a new
# volume over an image directory of 10,000 files (the copy-up, at create). Not a test: prints
# numbers.   bench/volumes.sh   (REF=unix:///path/docker.sock to compare with a Docker daemon)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-20}
host=$dir/host; mkdir -p "$host"
# An image whose VOLUME /data holds 10,000 small files in 100 directories.
data=$dir/data; mkdir -p "$data/data"
for d in $(seq 100); do mkdir "$data/data/$d"; for f in $(seq 100); do echo "$d $f" > "$data/data/$d/$f"; done; done
cp -a "$rootfs/." "$data/"
tar -C "$data" -c . | "$B" import -c 'VOLUME /data' - many >/dev/null
[ -n "${REF:-}" ] && tar -C "$data" -c . | docker -H "$REF" import -c 'VOLUME /data' - many >/dev/null
for t in "${tools[@]}"; do
  tool "$t" volume create benchvol >/dev/null
  plain=$(for _ in $(seq $N); do time_ms tool "$t" run --rm bench true; done | median)
  mounted=$(for _ in $(seq $N); do time_ms tool "$t" run --rm -v "$host:/h" -v benchvol:/v bench true; done | median)
  echo "$t run --rm true: plain $plain ms, with a bind and a named volume $mounted ms"
  copy=$(for i in $(seq 5); do time_ms tool "$t" create -v "fresh$i:/data" many true; done | median)
  nocopy=$(for i in $(seq 5); do time_ms tool "$t" create -v "empty$i:/data:nocopy" many true; done | median)
  echo "$t create over 10,000 image files: new volume (copy-up) $copy ms, with nocopy $nocopy ms"
  for c in $(tool "$t" ps -aq); do tool "$t" rm -v -f "$c" >/dev/null; done
  for v in $(tool "$t" volume ls -q); do tool "$t" volume rm "$v" >/dev/null; done
done
