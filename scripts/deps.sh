#!/usr/bin/env bash
# Installs what berth needs to build and test on a fresh Debian machine (as root); runc is the
# external OCI runtime the runtime tests add with --add-runtime; nftables (`nft`) loads berth's
# firewall table; gcc and libc6-dev build the static syscall probe of the seccomp tests; openssl
# makes the certificates of the TLS tests; systemd gives the service tests systemd-analyze and
# systemd-socket-activate (systemd need not run); rsyslog is the syslog peer of the log-driver
# tests; podman, skopeo and umoci are the image-archive peers; qemu-user-static runs foreign
# architectures; docker-registry (CNCF distribution 2.8) is the registry peer of the pull and
# push tests, apache2-utils gives them htpasswd; curl makes the registry tests' raw requests;
# docker-compose (1.29, Python, over docker-py) is the compose v1 client tests/compose_v1.rs drives.
set -euo pipefail
need=()
for p in libseccomp-dev pkg-config gcc libc6-dev busybox-static procps runc nftables iptables iproute2 openssl systemd rsyslog rsyslog-gnutls podman skopeo umoci qemu-user-static docker-registry apache2-utils curl docker-compose; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# docker-py, a real client the tests drive.
python3 -c 'import docker' 2>/dev/null || pip install -q docker
# msgpack: the fluentd receiver of the log-driver tests decodes with a real msgpack library.
python3 -c 'import msgpack' 2>/dev/null || pip install -q msgpack
# oras: a real OCI artifact client (artifacts with a subject) for the registry server's tests.
python3 -c 'import oras' 2>/dev/null || pip install -q oras
command -v docker >/dev/null || echo "note: the stock docker CLI is not installed; the docker-CLI tests need it" >&2
# The arm64 fixture of the multi-platform tests (crates/berth/tests/platform.rs): Debian's
# busybox-static for arm64, downloaded (not installed) into /var/cache/berth-fixtures; the
# foreign architecture is added only for the download.
if ! ls /var/cache/berth-fixtures/busybox-static_*_arm64.deb >/dev/null 2>&1; then
  mkdir -p /var/cache/berth-fixtures
  added=0
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    added=1
  fi
  apt-get update -qq
  (cd /var/cache/berth-fixtures && apt-get download -qq busybox-static:arm64 2>/dev/null) || true
  if [ "$added" = 1 ]; then
    dpkg --remove-architecture arm64
    apt-get update -qq
  fi
fi
