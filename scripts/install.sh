#!/usr/bin/env bash
# Installs berth on this host as a service, as Docker's packages install dockerd:
#   /usr/local/bin/berth, /etc/systemd/system/berth.{service,socket} (from contrib/systemd),
#   the `berth` group (the API socket is root:berth 0660), and, when docker is installed, a
#   `berth` docker context for the invoking user (SUDO_USER, else the caller).
# With systemd running, the socket is enabled and started (the daemon starts on the first
# connection). Running it again changes nothing that is already right.
#
#   scripts/install.sh [BINARY]          BINARY defaults to the built target (release, else debug)
#   scripts/install.sh --uninstall       removes all of the above; /var/lib/berth stays
#
# Environment:
#   DESTDIR   stage everything under this directory instead of / (no systemctl, no context
#             for another user; the group is added to DESTDIR/etc/group when that file exists)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
DESTDIR=${DESTDIR:-}
bin=$DESTDIR/usr/local/bin/berth
units=$DESTDIR/etc/systemd/system
socket=/run/berth/berth.sock
group=berth

say() { echo "install.sh: $*"; }

# systemd is the service manager only when it runs as PID 1 (and never for a staged install).
with_systemd() { [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; }

# The user whose docker CLI gets the context: the one who ran sudo, else the caller.
as_user() {
  if [ -z "$DESTDIR" ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    sudo -u "$SUDO_USER" -H "$@"
  else
    "$@"
  fi
}

has_group() {
  if [ -n "$DESTDIR" ]; then
    grep -q "^$group:" "$DESTDIR/etc/group" 2>/dev/null
  else
    getent group "$group" >/dev/null
  fi
}

add_group() {
  has_group && return 0
  if [ -n "$DESTDIR" ]; then
    if [ -f "$DESTDIR/etc/group" ]; then
      groupadd --system --prefix "$DESTDIR" "$group"
    else
      say "no $DESTDIR/etc/group: group $group not added"
      return 0
    fi
  else
    groupadd --system "$group"
  fi
  say "added group $group (add users with: usermod -aG $group USER)"
}

docker_context() {
  command -v docker >/dev/null || return 0
  local verb=create
  as_user docker context inspect berth >/dev/null 2>&1 && verb=update
  as_user docker context "$verb" berth --description "berth (unix://$socket)" \
    --docker "host=unix://$socket" >/dev/null
  say "docker context berth: $verb (use it with: docker context use berth)"
}

install() {
  local from=${1:-}
  if [ -z "$from" ]; then
    local target=${CARGO_TARGET_DIR:-$repo/target}/x86_64-unknown-linux-gnu
    for from in "$target/release/berth" "$target/debug/berth" ""; do
      [ -x "$from" ] && break
    done
    [ -n "$from" ] || { say "no built berth: build it (cargo build --release) or name a binary"; exit 1; }
  fi
  [ -x "$from" ] || { say "$from is not an executable"; exit 1; }
  # A running daemon's binary is replaced by rename (install does that), never rewritten.
  command install -D -m 0755 "$from" "$bin"
  command install -D -m 0644 "$repo/contrib/systemd/berth.service" "$units/berth.service"
  command install -D -m 0644 "$repo/contrib/systemd/berth.socket" "$units/berth.socket"
  say "installed $bin and $units/berth.{service,socket}"
  add_group
  if with_systemd; then
    systemctl daemon-reload
    systemctl enable --now berth.socket
    # A daemon already running keeps its old binary until restarted: restart it to pick up
    # the new one (containers live on: KillMode=process).
    if systemctl is-active --quiet berth.service; then
      systemctl restart berth.service
    fi
    say "berth.socket enabled and started"
  else
    say "systemd is not running here: units installed, nothing started"
  fi
  docker_context
}

uninstall() {
  if with_systemd; then
    systemctl disable --now berth.socket berth.service 2>/dev/null || true
  fi
  rm -f "$units/berth.service" "$units/berth.socket" "$bin"
  if with_systemd; then
    systemctl daemon-reload
  fi
  if has_group; then
    if [ -n "$DESTDIR" ]; then
      groupdel --prefix "$DESTDIR" "$group"
    else
      groupdel "$group"
    fi
  fi
  if command -v docker >/dev/null && as_user docker context inspect berth >/dev/null 2>&1; then
    [ "$(as_user docker context show)" = berth ] && as_user docker context use default >/dev/null
    as_user docker context rm berth >/dev/null
  fi
  say "removed berth's binary, units, group and docker context (its data in /var/lib/berth stays)"
}

case "${1:-}" in
  --uninstall) uninstall ;;
  -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) install "${1:-}" ;;
esac
