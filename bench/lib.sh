# Shared by the bench scripts: a release build (or $BERTH), a private daemon on a temporary root, and a
# `bench` image from the host's static busybox. Sets B, dir, sock, dpid and BERTH_HOST.
# With REF=unix:///path/to/docker.sock (a Docker daemon to compare with), the image is loaded
# there too and the scripts time the same commands through `docker -H $REF`.
# BERTH=/path/to/berth times that binary instead (say, an older build, for before/after).
# BENCH_TMP=DIR: where the daemon's data root and the scripts' files go (default /tmp).
if [ -z "${BERTH:-}" ]; then
  bash scripts/deps.sh
  cargo build --release -q
fi
B=${BERTH:-${CARGO_TARGET_DIR:-$PWD/target}/x86_64-unknown-linux-gnu/release/berth}
# BENCH_TMP=/dev/shm puts the daemon's data and the scripts' files on tmpfs: the engines are
# measured rather than the disk (give the reference Docker a data root there too).
dir=$(mktemp -d "${BENCH_TMP:-/tmp}/berth-bench.XXXX")
sock=$dir/b.sock
# No default bridge on the host: only bench/networks.sh, in a namespace of its own, has one.
bridge=(--bridge none); [ -n "${BENCH_NETNS:-}" ] && bridge=()
"$B" daemon -H "$sock" --data-root "$dir/root" --exec-root "$dir/run" "${bridge[@]}" 2>"$dir/daemon.log" &
dpid=$!
trap 'for c in $("$B" -H unix://$sock ps -aq); do "$B" -H unix://$sock rm -f $c >/dev/null; done; kill $dpid; wait $dpid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
export BERTH_HOST=unix://$sock
rootfs=$dir/rootfs; mkdir -p "$rootfs/bin" "$rootfs/etc"
cp /bin/busybox "$rootfs/bin/"; for a in sh true echo sleep cat ls wc; do ln -s busybox "$rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
tar -C "$rootfs" -c . | "$B" import - bench >/dev/null
if [ -n "${REF:-}" ]; then
  tar -C "$rootfs" -c . | docker -H "$REF" import - bench >/dev/null
fi
# The tools to time: berth, and Docker when REF is set.
tools=(berth); [ -n "${REF:-}" ] && tools+=(docker)
tool() { # tool NAME ARGS...: runs a CLI command with berth or the reference Docker
  local t=$1; shift
  if [ "$t" = berth ]; then "$B" "$@"; else DOCKER_BUILDKIT=0 docker -H "$REF" "$@" 2> >(grep -v "DEPRECATED\|BuildKit is\|environment-variable\|^$" >&2); fi
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
