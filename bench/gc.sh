#!/usr/bin/env bash
# Disk reclaimed: the data root's size before and after ROUNDS (default 3) cycles of build (a
# 10 MB random layer), run, save | load, rm, rmi and `system prune -a -f` (not a test: prints
# numbers; the test prune.rs asserts berth's within 1 MB). With REF=unix:///docker.sock and
# REF_ROOT=<its data root> the same cycles run against that Docker and its root is measured.
# The reference as in bench/archive.sh (dockerd 20.10.24 in a netns of its own).
# Figures (2026-12-03, ROUNDS=3): berth 77 bytes above the start after each round (within the
# goal of 1 MB; the metadata database was warmed by the first import); Docker 20.10.24 0 bytes.
# Both reclaim every layer of this cycle; the leaks Docker is known for come from crashes and
# build cache, which prune.rs's crash test covers for berth.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
ROUNDS=${ROUNDS:-3}
ctx=$dir/ctx; mkdir -p "$ctx"
printf 'FROM bench\nRUN head -c 10000000 /dev/urandom > /big\n' > "$ctx/Dockerfile"

size() { du -sb "$1" | cut -f1; }
for t in "${tools[@]}"; do
  if [ "$t" = berth ]; then root=$dir/root; else root=${REF_ROOT:?REF_ROOT: the reference data root}; fi
  tool "$t" system prune -a -f >/dev/null
  tar -C "$rootfs" -c . | tool "$t" import - bench >/dev/null
  start=$(size "$root")
  for r in $(seq "$ROUNDS"); do
    tool "$t" build -q -t gcbench "$ctx" >/dev/null
    tool "$t" run --name gcrun gcbench sh -c 'echo x > /x' >/dev/null
    tool "$t" save gcbench > "$dir/gc.tar"
    tool "$t" rm gcrun >/dev/null
    tool "$t" rmi gcbench >/dev/null
    tool "$t" load -i "$dir/gc.tar" >/dev/null
    rm -f "$dir/gc.tar"
    tool "$t" run --rm gcbench true
    tool "$t" rmi gcbench >/dev/null
    tool "$t" image prune -f >/dev/null
    tool "$t" builder prune -f >/dev/null 2>&1 || true
    echo "$t round $r: data root $(( $(size "$root") - start )) bytes above the start"
  done
done
