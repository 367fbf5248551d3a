#!/usr/bin/env bash
# berth registry serve vs Debian's docker-registry (CNCF distribution 2.8), side by side, on
# loopback: pulls per second of a small manifest (GET by tag) and MB/s of blob downloads
# (a 16 MiB layer), both with 16 concurrent connections (wrk, installed here if missing).
# Both serve plain HTTP from a root on BENCH_TMP (default /tmp), without access logs.
# BERTH=/path/to/berth times that binary (default: a release build of this tree).
# DURATION=10s per measurement.
# Not a test: it prints numbers. Figures (2026-12-04, release build, 2 cores shared with
# other work, load average 3.5, DURATION=10s, two runs):
#   manifest pulls/s      berth 18710, 20250    docker-registry 2.8: 589, 695
#   blob downloads MB/s   berth 1320, 1320      docker-registry 2.8: 809, 806
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BERTH:-}" ]; then
  cargo build --release -q -p berth
fi
B=${BERTH:-${CARGO_TARGET_DIR:-$PWD/target}/x86_64-unknown-linux-gnu/release/berth}
DURATION=${DURATION:-10s}
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
command -v docker-registry >/dev/null || apt-get install -y -q docker-registry >/dev/null
command -v skopeo >/dev/null || apt-get install -y -q skopeo >/dev/null

dir=$(mktemp -d "${BENCH_TMP:-/tmp}/registry-bench.XXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT

# An OCI layout: a 16 MiB random layer, its config, the manifest.
python3 - "$dir/oci" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]; os.makedirs(f"{root}/blobs/sha256")
def put(b):
    d = hashlib.sha256(b).hexdigest(); open(f"{root}/blobs/sha256/{d}", "wb").write(b)
    return {"digest": "sha256:" + d, "size": len(b)}
layer = put(os.urandom(16 << 20))
config = put(json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode())
m = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer}]}).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    **m, "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, open(f"{root}/index.json", "w"))
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
print(layer["digest"], file=open(f"{root}/layer", "w"))
PY
layer=$(cat "$dir/oci/layer")

wait_port() { for _ in $(seq 200); do curl -sf "http://$1/v2/" >/dev/null && return; sleep 0.05; done; echo "no registry on $1" >&2; exit 1; }

"$B" registry serve --addr 127.0.0.1:5801 --root "$dir/berth" --log-level warn 2>"$dir/berth.log" &
pids+=($!)
cat > "$dir/config.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $dir/cncf }, delete: { enabled: true } }
http: { addr: 127.0.0.1:5802 }
YML
docker-registry serve "$dir/config.yml" 2>"$dir/cncf.log" &
pids+=($!)
wait_port 127.0.0.1:5801; wait_port 127.0.0.1:5802

declare -A pulls mbs
for name in berth:5801 cncf:5802; do
  port=${name#*:}; name=${name%:*}
  skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$dir/oci:v1" "docker://127.0.0.1:$port/bench/app:v1"
  accept='Accept: application/vnd.oci.image.manifest.v1+json'
  pulls[$name]=$(wrk -t2 -c16 -d"$DURATION" -H "$accept" "http://127.0.0.1:$port/v2/bench/app/manifests/v1" |
    awk '/Requests\/sec/ {printf "%d", $2}')
  mbs[$name]=$(wrk -t2 -c16 -d"$DURATION" "http://127.0.0.1:$port/v2/bench/app/blobs/$layer" |
    awk '/Transfer\/sec/ {v=$2; if (v ~ /GB/) {sub("GB","",v); v*=1024} else if (v ~ /KB/) {sub("KB","",v); v/=1024} else sub("MB","",v); printf "%d", v}')
done
printf '%-40s %12s %12s\n' "16 connections, loopback" "berth" "docker-registry 2.8"
printf '%-40s %12s %12s\n' "manifest pulls/s (GET by tag)" "${pulls[berth]}" "${pulls[cncf]}"
printf '%-40s %12s %12s\n' "blob downloads MB/s (16 MiB layer)" "${mbs[berth]}" "${mbs[cncf]}"
