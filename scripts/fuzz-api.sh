#!/usr/bin/env bash
# A bounded, schema-driven fuzz run of berth's Engine API: schemathesis generates requests from
# Docker's swagger (shared/api/docker-engine-v1.43.yaml) for the operations berth serves and
# sends them to a private daemon; any 5xx other than 501 (berth's "not implemented") and the
# swarm endpoints' documented 503 (a node in no swarm), and any request left without an answer
# (a hang, a crash), fails the run.
#
#   scripts/fuzz-api.sh [-n MAX_EXAMPLES] [--seed SEED] [--log FILE]
# --log FILE keeps the request log (JSON lines), FILE.schemathesis and FILE.daemon.
#
# Environment:
#   BERTH                 the berth binary (default: target/x86_64-unknown-linux-gnu/debug/berth)
#   FUZZ_SPEC             the swagger file (default: ../shared/api/docker-engine-v1.43.yaml)
#   FUZZ_MAX_EXAMPLES     cases per operation in the fuzzing phase (default 50; -n overrides)
#   FUZZ_SEED             the random seed (default 1; --seed overrides): same seed, same cases
#   FUZZ_REQUEST_TIMEOUT  seconds one request may take before it counts as a hang (default 10)
#   FUZZ_TIME_LIMIT       hard limit on the schemathesis run in seconds (default 170)
#   FUZZ_PHASES           schemathesis phases (default examples,coverage,fuzzing,stateful)
#
# Needs root (it runs a daemon and containers). Installs schemathesis and busybox-static when
# missing. Talks to the daemon through a relay on 127.0.0.1 only. Leaves nothing behind: on exit
# it removes every container, stops the daemon and the relay, unmounts and removes its directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
helpers=$here/fuzz-api
BERTH=${BERTH:-$repo/target/x86_64-unknown-linux-gnu/debug/berth}
# The definition is shared data beside the checkout, not part of it.
if [ -z "${FUZZ_SPEC:-}" ]; then
  for FUZZ_SPEC in "$repo/../shared/api/docker-engine-v1.43.yaml" /work/shared/api/docker-engine-v1.43.yaml; do
    [ -f "$FUZZ_SPEC" ] && break
  done
fi
SPEC=$FUZZ_SPEC
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-50}
SEED=${FUZZ_SEED:-1}
REQUEST_TIMEOUT=${FUZZ_REQUEST_TIMEOUT:-10}
TIME_LIMIT=${FUZZ_TIME_LIMIT:-170}
PHASES=${FUZZ_PHASES:-examples,coverage,fuzzing,stateful}
SCHEMATHESIS_VERSION=4.32.5
keep_log=
while [ $# -gt 0 ]; do
  case $1 in
    -n | --max-examples) MAX_EXAMPLES=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --log) keep_log=$2; shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "fuzz-api: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# The operations berth serves (crates/berth-daemon/src/http/*.rs), by Docker's operationId. Left
# out: ContainerAttach (it hijacks the connection), and everything berth lacks. Bounded by the
# hooks: SystemEvents (given an `until`), ContainerLogs (never follows), ContainerWait (only on
# containers that are not running), ContainerStop/Restart (short `t`), ExecStart (only execs
# whose command ends at once, started without an Upgrade header, so nothing is hijacked).
OPERATIONS=(
  SystemPing SystemPingHead SystemVersion SystemInfo SystemEvents SystemDataUsage
  ImageList ImageCreate ImageInspect ImageHistory ImageTag ImageDelete ImageBuild BuildPrune
  ContainerCreate ContainerList ContainerInspect ContainerStart ContainerStop ContainerRestart
  ContainerKill ContainerWait ContainerLogs ContainerResize ContainerDelete ContainerPrune
  ContainerTop ContainerExec ExecStart ExecResize ExecInspect
  VolumeList VolumeCreate VolumeInspect VolumeDelete VolumePrune
  NetworkList NetworkCreate NetworkInspect NetworkDelete NetworkPrune NetworkConnect NetworkDisconnect
  # An engine in no swarm: 503 for what a manager serves (and SwarmLeave), 501 for SwarmInit and
  # SwarmJoin; an engine with no plugins: [] and 404s, 501 for installing one (PluginCreate is
  # left out: its body is a tar the fuzzer cannot make, and berth refuses it unread).
  SwarmInspect SwarmInit SwarmJoin SwarmLeave SwarmUpdate SwarmUnlockkey SwarmUnlock
  NodeList NodeInspect NodeDelete NodeUpdate
  ServiceList ServiceCreate ServiceInspect ServiceDelete ServiceUpdate ServiceLogs
  TaskList TaskInspect TaskLogs
  SecretList SecretCreate SecretInspect SecretDelete SecretUpdate
  ConfigList ConfigCreate ConfigInspect ConfigDelete ConfigUpdate
  PluginList GetPluginPrivileges PluginPull PluginInspect PluginDelete PluginEnable PluginDisable
  PluginUpgrade PluginPush PluginSet
)

[ "$(id -u)" = 0 ] || { echo "fuzz-api: needs root (it runs a daemon and containers)" >&2; exit 2; }
[ -x "$BERTH" ] || { echo "fuzz-api: no berth binary at $BERTH (set BERTH)" >&2; exit 2; }
[ -f "$SPEC" ] || { echo "fuzz-api: no API spec at $SPEC (set FUZZ_SPEC)" >&2; exit 2; }

# What it needs.
if [ "$(python3 -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
  pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
if ! [ -x /bin/busybox ] || ! dpkg -s busybox-static >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi

dir=$(mktemp -d /tmp/berth-fuzz.XXXX)
sock=$dir/b.sock
b() { "$BERTH" -H "unix://$sock" "$@"; }
daemon_pid= proxy_pid= st_pid=

# Processes whose command line names $dir (the daemon, container monitors), and their children.
own_pids() {
  ps -eo pid=,ppid=,args= | awk -v d="$dir" '
    { pid[NR] = $1; ppid[NR] = $2; if ($3 != "awk" && index($0, d "/")) mine[$1] = 1 }
    END { do { n = 0; for (i in pid) if ((ppid[i] in mine) && !(pid[i] in mine)) { mine[pid[i]] = 1; n++ } } while (n)
          for (p in mine) print p }'
}

cleanup() {
  local rc=$? p
  set +e
  trap - EXIT INT TERM
  if [ -n "$st_pid" ]; then  # interrupted mid-run: timeout passes the signal on to schemathesis
    kill "$st_pid" 2>/dev/null
    wait "$st_pid" 2>/dev/null
  fi
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    timeout 60 "$BERTH" -H "unix://$sock" ps -aq 2>/dev/null | timeout 120 xargs -r "$BERTH" -H "unix://$sock" rm -f >/dev/null 2>&1
    kill "$daemon_pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$daemon_pid" 2>/dev/null
  fi
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
  wait 2>/dev/null
  # Anything of this run still alive (a monitor or a container the daemon lost) goes too.
  for p in $(own_pids); do [ "$p" != $$ ] && kill -9 "$p" 2>/dev/null; done
  # Mounts under $dir, deepest first.
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
  rm -rf "$dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A private daemon.
# In a network namespace of its own (unshare execs the daemon, so the PID is the daemon's), so
# its default bridge and firewall table never touch the host.
NO_COLOR=1 unshare --net sh -c 'ip link set lo up && exec "$0" "$@"' "$BERTH" daemon -H "unix://$sock" --data-root "$dir/root" --exec-root "$dir/run" >"$dir/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do b version >/dev/null 2>&1 && break; sleep 0.1; done
b version >/dev/null || { echo "fuzz-api: the daemon did not come up" >&2; cat "$dir/daemon.log" >&2; exit 1; }

# A busybox image, so that operations have something to act on.
rootfs=$dir/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for app in sh true sleep echo cat ls ps env id wait; do ln -sf busybox "$rootfs/bin/$app"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
tar -C "$rootfs" -c . | b import -c 'CMD ["sh"]' - busybox >/dev/null
rm -rf "$rootfs"

# The relay: schemathesis speaks TCP, the daemon a unix socket.
python3 "$helpers/proxy.py" "$sock" "$dir/port" >"$dir/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
port=$(cat "$dir/port")
url=http://127.0.0.1:$port/v1.43

ops=()
for o in "${OPERATIONS[@]}"; do ops+=(--include-operation-id "$o"); done
echo "fuzz-api: $BERTH, ${#OPERATIONS[@]} operations, seed $SEED, $MAX_EXAMPLES examples per operation, phases $PHASES"
start=$(date +%s)
st_rc=0
# In the background with `wait`, so that a signal to this script is handled at once.
(
  cd "$dir"  # schemathesis keeps its cache and reports in the working directory
  export FUZZ_SOCK=$sock FUZZ_URL=$url FUZZ_LOG=$dir/requests.jsonl SCHEMATHESIS_HOOKS=$helpers/hooks.py
  exec timeout -k 10 "$TIME_LIMIT" python3 -m schemathesis.cli --config-file "$helpers/schemathesis.toml" \
    run "$SPEC" --url "$url" "${ops[@]}" \
    --phases "$PHASES" --checks not_a_server_error \
    --max-examples "$MAX_EXAMPLES" --seed "$SEED" --generation-database none --no-shrink \
    --request-timeout "$REQUEST_TIMEOUT" --workers 1 --continue-on-failure --no-color \
    --suppress-health-check all --warnings off
) >"$dir/schemathesis.log" 2>&1 &
st_pid=$!
wait "$st_pid" || st_rc=$?
st_pid=
elapsed=$(( $(date +%s) - start ))
if [ -n "$keep_log" ]; then
  cp "$dir/requests.jsonl" "$keep_log" 2>/dev/null || : >"$keep_log"
  cp "$dir/schemathesis.log" "$keep_log.schemathesis"
  cp "$dir/daemon.log" "$keep_log.daemon"
fi

echo "fuzz-api: schemathesis finished in ${elapsed}s (exit $st_rc)"
sum_rc=0
python3 "$helpers/summary.py" "$dir/requests.jsonl" "$dir/counts" || sum_rc=$?
read -r n_passed n_failed <"$dir/counts" || n_passed=0 n_failed=0
failed=$sum_rc
if ! timeout 10 "$BERTH" -H "unix://$sock" version >/dev/null 2>&1; then
  echo "fuzz-api: FAIL: the daemon died or stopped answering; the end of its log:"
  tail -30 "$dir/daemon.log" | LC_ALL=C sed 's/[^[:print:]\t]/?/g'
  failed=1
fi
if [ "$st_rc" = 124 ] || [ "$st_rc" = 137 ]; then
  echo "fuzz-api: FAIL: the run did not finish within ${TIME_LIMIT}s"
  failed=1
elif [ "$st_rc" != 0 ] && [ "$sum_rc" = 0 ]; then
  # schemathesis failed on something the request log does not show (a hook or schema error).
  echo "fuzz-api: FAIL: schemathesis exited $st_rc; the end of its output:"
  tail -40 "$dir/schemathesis.log"
  failed=1
fi
# The daemon's log, with control characters (NUL bytes from fuzzed input) made visible.
printable_log() { LC_ALL=C sed 's/[^[:print:]\t]/?/g' "$dir/daemon.log"; }
if grep -aq 'panicked' "$dir/daemon.log"; then
  echo "fuzz-api: FAIL: the daemon panicked:"
  printable_log | grep -A3 'panicked' | head -40
  failed=1
fi
if grep -aq ' ERROR ' "$dir/daemon.log"; then
  echo "fuzz-api: the daemon logged errors:"
  printable_log | grep ' ERROR ' | cut -d' ' -f2- | sort | uniq -c | sort -rn | head -10
fi
if [ "$failed" != 0 ]; then
  echo "fuzz-api: FAILED"
  # The closing line CI reads; a failure of the run itself (daemon, time limit) counts as one.
  [ "$n_failed" -gt 0 ] || n_failed=1
  echo "fuzz: $n_passed passed, $n_failed failed"
  exit 1
fi
echo "fuzz-api: passed"
echo "fuzz: $n_passed passed, 0 failed"
