#!/usr/bin/env bash
# Operations: what healthchecks cost the daemon, and how fast restart policies bring containers
# back. Not a test: prints numbers.
#  1. N containers with a 1 s healthcheck (`true`) for SECS seconds: the daemon's CPU (% of one
#     core, from /proc/PID/stat) and RSS, and the whole machine's busy CPU over the same time
#     (/proc/stat: the probes themselves, wherever they run, and anything else running).
#  2. N `--restart always` containers, then the daemon killed with SIGKILL: time until the new
#     daemon answers and lists all N running (they never stopped: monitors outlive the daemon);
#     then a simulated reboot (daemon, monitors and containers killed at once): time until the
#     new daemon has all N running again.
#   bench/operations.sh            (N=100 SECS=30)
#   REF=unix:///path/docker.sock REFPID=<dockerd pid> [REFEXEC=<its exec-root>] bench/operations.sh
#       also runs part 1 against a reference Docker and reads dockerd's CPU (with REFEXEC, plus
#       its containerd and shims) and RSS.
#
# Measured 2026-12-02, berth at this commit (release), 2 cores, another session's comparison
# run beside it (so "machine busy" is an upper bound):
#   100 containers, 1 s probes: daemon CPU 0.93-1.13 % of a core, RSS 21.5-21.8 MB; the whole
#     machine 77-85 % of a core busy (the probes themselves: an exec each, ~8 ms of CPU)
#   daemon killed -9: all 100 listed running 54-67 ms after the new daemon started
#   reboot: all 100 started again 2.2 s after the daemon started
# Side by side with Docker 20.10.24 (Debian's docker.io, --bridge=none, in a netns, started with
# `nsenter --net=` since `ip netns exec` remounts /sys and dockerd then finds no devices cgroup),
# 2026-12-02, by hand with this script's method, the same image, `--network none`, 30 s:
#   Docker: 100 health containers took 47 s to start; dockerd 16 % of a core, dockerd +
#     containerd + 100 shims 38 %, RSS of dockerd 163 MB; the machine 191 % busy (both cores
#     saturated, load 62: the probes do not keep up)
#   berth, right after: 100 started in 3 s; daemon 0.8 % of a core, RSS 22.3 MB; machine 58 %
#     busy (load falling from Docker's run), every container `healthy` with 5 probes logged
# (REFEXEC=<its --exec-root> makes the REF part add containerd and the shims, as above.)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
SECS=${SECS:-30}
. bench/lib.sh

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# With REFEXEC=<dockerd's --exec-root>, Docker's side also counts its containerd and shims
# (their command lines name that directory): that is where Docker's probes cost.
ref_ticks() {
  local t p; t=$(ticks "$REFPID")
  for p in $(pgrep -f "$REFEXEC"); do [ "$p" = "$REFPID" ] && continue; t=$(( t + $(ticks "$p" 2>/dev/null || echo 0) )); done
  echo "$t"
}
busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

health_cpu() { # health_cpu TOOL PID
  local t=$1 pid=$2 ids=() i before after
  for i in $(seq "$N"); do
    ids+=("$(tool "$t" run -d --health-cmd true --health-interval 1s bench sleep 100000)")
  done
  sleep 3 # the first probes
  local count=ticks
  if [ "$t" = docker ] && [ -n "${REFEXEC:-}" ]; then count=ref_ticks; fi
  before=$($count "$pid") b0=$(busy); sleep "$SECS"; after=$($count "$pid") b1=$(busy)
  printf '%-6s %3d containers, 1 s probes: daemon CPU %5.2f %% of a core, RSS %s MB; machine busy %5.1f %% of a core\n' \
    "$t" "$N" "$(echo "($after - $before) * 100 / $hz / $SECS" | bc -l)" "$(rss_mb "$pid")" \
    "$(echo "($b1 - $b0) * 100 / $hz / $SECS" | bc -l)"
  tool "$t" rm -f "${ids[@]}" >/dev/null
}

health_cpu berth "$dpid"
if [ -n "${REF:-}" ] && [ -n "${REFPID:-}" ]; then health_cpu docker "$REFPID"; fi

# Part 2: restart policies across a daemon crash and a reboot.
for i in $(seq "$N"); do "$B" run -d --restart always bench sleep 100000 >/dev/null; done
restart_daemon() {
  "$B" daemon -H "$sock" --data-root "$dir/root" --exec-root "$dir/run" "${bridge[@]}" 2>>"$dir/daemon.log" &
  dpid=$!
}
all_running() { [ "$("$B" ps -q --filter status=running 2>/dev/null | wc -l)" -eq "$N" ]; }
kill -9 "$dpid"; wait "$dpid" 2>/dev/null || true
s=$(date +%s%N); restart_daemon
until all_running; do sleep 0.01; done
e=$(date +%s%N)
printf 'daemon killed -9: all %d running (never stopped) %d ms after the new daemon started\n' "$N" $(( (e - s) / 1000000 ))
pids=$("$B" ps -q | xargs "$B" inspect -f '{{.State.Pid}}')
kill -9 "$dpid"; wait "$dpid" 2>/dev/null || true
pkill -9 -f "monitor.*$dir" || true
kill -9 $pids 2>/dev/null || true
s=$(date +%s%N); restart_daemon
# The records say running until the new daemon has seen the monitors gone: count new starts.
since=$(( s / 1000000000 ))
started() { "$B" events --since "$since" --until "$(date +%s.%N)" --filter event=start 2>/dev/null | wc -l; }
until [ "$(started)" -ge "$N" ]; do sleep 0.05; done
e=$(date +%s%N)
printf 'reboot (daemon, monitors, containers killed): all %d running again %d ms after the daemon started\n' "$N" $(( (e - s) / 1000000 ))
