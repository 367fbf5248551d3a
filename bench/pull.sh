#!/usr/bin/env bash
# Pull and push of a 300 MB image in 5 layers (random files: gzip cannot shrink them) against
# Debian's docker-registry (CNCF distribution 2.8) on loopback, not a test: prints numbers.
#   bench/pull.sh            (N=3 runs each, the median printed)
#   REF_DOCKERD=1 bench/pull.sh   also times Debian's dockerd (docker.io) and skopeo
# Everything runs in a network namespace the script makes (the registry, berth's daemon, the
# reference dockerd), so nothing touches the host's network; it goes at the end.
# A push goes to an empty repository (its blobs removed from the registry before each run);
# a pull starts with no layer here.
#
# Figures: at the end of the file.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BENCH_IN_NS:-}" ]; then
  ns=berth-bench-pull-$$
  ip netns add "$ns"
  trap 'ip netns del "$ns"' EXIT
  ip netns exec "$ns" ip link set lo up
  # nsenter, not `ip netns exec`: that remounts /sys, hiding the cgroup hierarchies.
  BENCH_IN_NS=1 nsenter --net="/run/netns/$ns" bash "$0" "$@"
  exit
fi
. bench/lib.sh
N=${N:-3}
command -v docker-registry >/dev/null || apt-get install -y -qq docker-registry >/dev/null

mkdir -p "$dir/registry"
cat > "$dir/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $dir/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:5000}
EOF
docker-registry serve "$dir/registry.yml" 2>"$dir/registry.log" &
rpid=$!
ref_pid=
cleanup() {
  kill $rpid 2>/dev/null || true
  [ -n "$ref_pid" ] && kill "$ref_pid" 2>/dev/null && wait "$ref_pid" 2>/dev/null || true
}
trap 'cleanup; for c in $("$B" -H unix://$sock ps -aq); do "$B" -H unix://$sock rm -f $c >/dev/null; done; kill $dpid; wait $dpid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null && break; sleep 0.05; done

if [ -n "${REF_DOCKERD:-}" ]; then
  dockerd -H "unix://$dir/ref.sock" --data-root "$dir/ref" --exec-root "$dir/ref-run" \
    --pidfile "$dir/ref.pid" --bridge none --iptables=false 2>"$dir/ref.log" &
  ref_pid=$!
  for _ in $(seq 600); do docker -H "unix://$dir/ref.sock" version >/dev/null 2>&1 && break; sleep 0.05; done
  docker -H "unix://$dir/ref.sock" version >/dev/null || { cat "$dir/ref.log"; exit 1; }
  REF=unix://$dir/ref.sock
  tools+=(docker)
fi

archive=$dir/big.tar
python3 bench/big_image.py "$archive"
echo "image: $(du -m "$archive" | cut -f1) MB, 5 layers"
repo=127.0.0.1:5000/big
# Empties the registry between runs (distribution's storage is plain files).
wipe() { kill $rpid; wait $rpid 2>/dev/null || true; rm -rf "$dir/registry"; mkdir -p "$dir/registry"
  docker-registry serve "$dir/registry.yml" 2>>"$dir/registry.log" & rpid=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null && break; sleep 0.05; done; }

for t in "${tools[@]}"; do
  pushes=() pulls=()
  tool "$t" load -i "$archive" >/dev/null
  tool "$t" tag big:1 "$repo:$t"
  for i in $(seq "$N"); do
    wipe
    sync
    pushes+=("$(time_ms tool "$t" push "$repo:$t")")
    tool "$t" rmi "$repo:$t" big:1 >/dev/null
    sync
    pulls+=("$(time_ms tool "$t" pull "$repo:$t")")
    tool "$t" tag "$repo:$t" big:1
  done
  echo "$t push: median $(printf '%s\n' "${pushes[@]}" | median) ms   (runs: ${pushes[*]})"
  echo "$t pull: median $(printf '%s\n' "${pulls[@]}" | median) ms   (runs: ${pulls[*]})"
done
if [ -n "${REF_DOCKERD:-}" ]; then
  copies=()
  for i in $(seq "$N"); do
    rm -rf "$dir/sk"
    sync
    copies+=("$(time_ms skopeo copy --quiet --src-tls-verify=false "docker://$repo:docker" "dir:$dir/sk")")
  done
  echo "skopeo copy to dir: (download and verify only, no extraction) median $(printf '%s\n' "${copies[@]}" | median) ms   (runs: ${copies[*]})"
fi
# Figures (2026-12-04, the 2-core VM, release build of 3a46748's client code; N=3, medians;
# dockerd 20.10.24 from Debian; the registry's storage and both data roots on /tmp):
#   berth pull 1289 ms   docker pull 4063 ms   (0.32 of Docker's time; goal <= 1/2)
#   skopeo copy to dir (download and verify only) 2699 ms
#   berth push 9407 ms   docker push 9886 ms   (both bound by gzip of 300 MB of random data:
#   flate2's miniz_oxide here, Go's compress/gzip there; a faster deflate is the next step)
