#!/usr/bin/env bash
# Builds berth, starts the daemon, imports a busybox image made from Debian's busybox-static,
# and runs a container: the main job, end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release -q
BERTH=$PWD/target/x86_64-unknown-linux-gnu/release/berth
SOCK=/run/berth/berth.sock
if ! [ -S "$SOCK" ] || ! "$BERTH" version >/dev/null 2>&1; then
  "$BERTH" daemon >/var/log/berth.log 2>&1 &
  for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
fi
rootfs=$(mktemp -d)
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for app in $("$rootfs/bin/busybox" --list); do [ "$app" = busybox ] || ln -sf busybox "$rootfs/bin/$app"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
echo 'root:x:0:' > "$rootfs/etc/group"
tar -C "$rootfs" -c . | "$BERTH" import -c 'CMD ["sh"]' - busybox
rm -rf "$rootfs"
"$BERTH" images busybox
"$BERTH" run --rm busybox echo "hello from a berth container"
# Data that outlives a container: a named volume, written by one and read by the next.
"$BERTH" run --rm -v quickstart-data:/data busybox sh -c 'echo "kept in a volume" > /data/note'
"$BERTH" run --rm -v quickstart-data:/data:ro busybox cat /data/note
"$BERTH" volume rm quickstart-data >/dev/null
