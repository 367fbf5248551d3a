#!/usr/bin/env bash
# `up -d` and `down` of a 6-service stack (two built images, a healthcheck chain of three) with
# `berth compose`, with docker-compose 1.29 against berth, and (REF_DOCKERD=1) with
# docker-compose against Debian's dockerd; not a test: prints numbers.
#   bench/compose.sh                 (N=5 runs each, the median printed)
#   REF_DOCKERD=1 bench/compose.sh   also the reference Docker
# Everything runs in a network namespace the script makes (the stack's bridges, both daemons);
# it goes at the end. The images are built once before the timed runs, so `up -d` times
# creating, starting and waiting for the health chain, not building; every service stops on
# SIGKILL, so `down` times the engines rather than ten-second grace periods.
#
# Figures: at the end of the file.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BENCH_IN_NS:-}" ]; then
  ns=berth-bench-compose-$$
  ip netns add "$ns"
  trap 'ip netns del "$ns"' EXIT
  ip netns exec "$ns" ip link set lo up
  # nsenter, not `ip netns exec`: that remounts /sys, hiding the cgroup hierarchies.
  BENCH_IN_NS=1 nsenter --net="/run/netns/$ns" bash "$0" "$@"
  exit
fi
. bench/lib.sh
N=${N:-5}
ref_pid=
if [ -n "${REF_DOCKERD:-}" ]; then
  dockerd -H "unix://$dir/ref.sock" --data-root "$dir/ref" --exec-root "$dir/ref-run" \
    --pidfile "$dir/ref.pid" --bridge none --iptables=false 2>"$dir/ref.log" &
  ref_pid=$!
  for _ in $(seq 600); do docker -H "unix://$dir/ref.sock" version >/dev/null 2>&1 && break; sleep 0.05; done
  docker -H "unix://$dir/ref.sock" version >/dev/null || { cat "$dir/ref.log"; exit 1; }
  tar -C "$rootfs" -c . | docker -H "unix://$dir/ref.sock" import - bench >/dev/null
fi
trap '[ -n "$ref_pid" ] && kill "$ref_pid" 2>/dev/null && wait "$ref_pid" 2>/dev/null; for c in $("$B" -H unix://$sock ps -aq); do "$B" -H unix://$sock rm -f $c >/dev/null; done; kill $dpid; wait $dpid 2>/dev/null; rm -rf "$dir"' EXIT

p=$dir/stack; mkdir -p "$p/one" "$p/two"
for i in one two; do
  printf 'FROM bench\nCOPY msg /msg\nCMD ["sleep", "1000"]\n' > "$p/$i/Dockerfile"
  echo "$i" > "$p/$i/msg"
done
health='{test: ["CMD", "true"], interval: 200ms, retries: 50}'
cat > "$p/docker-compose.yml" <<STACK
version: "2.4"
services:
  db: {image: bench, command: sleep 1000, stop_signal: SIGKILL, healthcheck: $health}
  api:
    image: bench
    command: sleep 1000
    stop_signal: SIGKILL
    healthcheck: $health
    depends_on: {db: {condition: service_healthy}}
  web:
    image: bench
    command: sleep 1000
    stop_signal: SIGKILL
    healthcheck: $health
    depends_on: {api: {condition: service_healthy}}
  one: {build: ./one, stop_signal: SIGKILL}
  two: {build: ./two, stop_signal: SIGKILL}
  cache: {image: bench, command: sleep 1000, stop_signal: SIGKILL}
STACK
cd "$p"
run() { # run TOOL ARGS...: compose ARGS with TOOL (berth, dc-berth, dc-docker)
  local t=$1; shift
  case $t in
    berth) "$B" -H "unix://$sock" compose -p stack "$@" 2>/dev/null ;;
    dc-berth) DOCKER_HOST="unix://$sock" docker-compose -p stack "$@" 2>/dev/null ;;
    dc-docker) DOCKER_HOST="unix://$dir/ref.sock" docker-compose -p stack "$@" 2>/dev/null ;;
  esac
}
runs=(berth dc-berth); [ -n "$ref_pid" ] && runs+=(dc-docker)
for t in "${runs[@]}"; do
  run "$t" build >/dev/null
  ups=() downs=()
  for i in $(seq "$N"); do
    ups+=("$(time_ms run "$t" up -d)")
    downs+=("$(time_ms run "$t" down)")
  done
  echo "$t up -d: median $(printf '%s\n' "${ups[@]}" | median) ms   (runs: ${ups[*]})"
  echo "$t down:  median $(printf '%s\n' "${downs[@]}" | median) ms   (runs: ${downs[*]})"
done
# Figures (2026-12-04, the 2-core VM, release build of this commit's parent; N=5, medians;
# docker-compose 1.29.2 and dockerd 20.10.24 from Debian; data roots on /tmp):
#   berth compose -> berth            up -d  837 ms   down  159 ms
#   docker-compose 1.29 -> berth      up -d 1332 ms   down  659 ms
#   docker-compose 1.29 -> Docker     up -d 2790 ms   down 1276 ms
#   (up -d includes the health chain db -> api -> web at a 200 ms interval)
