#!/usr/bin/env bash
# `cp` of a 200 MB tree of 10,000 files (100 directories of 100 files of 20 kB) into and out of
# a container, stopped and running (not a test: prints numbers). With REF=unix:///docker.sock
# the same copies are timed against that Docker daemon.
#   bench/cp.sh             (N=3 runs each, the median printed)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-3}

tree=$dir/tree
for d in $(seq -w 0 99); do
  mkdir -p "$tree/d$d"
  head -c $((100 * 20480)) /dev/urandom | split -b 20480 -d -a 3 - "$tree/d$d/f"
done
echo "tree: $(find "$tree" -type f | wc -l) files, $(du -sm "$tree" | cut -f1) MB"

# copies TOOL CONTAINER LABEL: times N copies in (each to a new path) and N copies out. Each
# copy starts with nothing left to write back (sync, not timed): the disk's writeback of the
# previous copy would otherwise land on whichever copy comes next.
copies() {
  local t=$1 c=$2 label=$3 i
  echo "$t cp into a $label container:   median $(for i in $(seq "$N"); do sync; time_ms tool "$t" cp "$tree" "$c:/in$i"; done | median) ms"
  echo "$t cp out of a $label container: median $(for i in $(seq "$N"); do
    sync; time_ms tool "$t" cp "$c:/in1" "$dir/out"; rm -rf "$dir/out"; done | median) ms"
}

for t in "${tools[@]}"; do
  stopped=$(tool "$t" create bench true)
  copies "$t" "$stopped" stopped
  running=$(tool "$t" run -d bench sleep 600)
  copies "$t" "$running" running
  tool "$t" rm -f "$stopped" "$running" >/dev/null
done
