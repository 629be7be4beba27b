#!/usr/bin/env bash
# Make the machine ready for deploy tests: tools installed, a Docker engine answering.
# Idempotent: each run prints one line per action it took or skipped.
# Does not start Prometheus; tests start their own.
set -euo pipefail

DOCKER_DATA_ROOT="${DOCKER_DATA_ROOT:-/var/lib/rbc-docker}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/rbc-dockerd.log}"
DOCKER_WAIT_SECONDS="${DOCKER_WAIT_SECONDS:-30}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# command -> Debian package that provides it
declare -A PACKAGE_FOR=(
  [dockerd]=docker.io
  [docker-compose]=docker-compose
  [prometheus]=prometheus
  [debootstrap]=debootstrap
  [curl]=curl
  [make]=make
  [sshd]=openssh-server
  [busybox]=busybox-static
)

missing_packages=()
for tool in dockerd docker-compose prometheus debootstrap curl make sshd busybox; do
  if command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || [ -x "/bin/$tool" ]; then
    echo "services: $tool present"
  else
    missing_packages+=("${PACKAGE_FOR[$tool]}")
  fi
done
if [ "${#missing_packages[@]}" -gt 0 ]; then
  echo "services: installing ${missing_packages[*]}"
  as_root apt-get update -qq >/dev/null
  # Keep the packaged daemon from starting with its default bridge: this script starts
  # dockerd itself, host networking only.
  policy_added=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root bash -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    policy_added=yes
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_packages[@]}" >/dev/null
  if [ "$policy_added" = yes ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
fi

if docker info >/dev/null 2>&1; then
  echo "services: docker engine already answering"
  exit 0
fi

# Stale when no process has that pid, or when the pid was reused by something else.
if [ -f /var/run/docker.pid ] \
    && [ "$(cat "/proc/$(cat /var/run/docker.pid)/comm" 2>/dev/null)" != dockerd ]; then
  echo "services: removing stale /var/run/docker.pid"
  as_root rm -f /var/run/docker.pid
fi

echo "services: starting dockerd (data root $DOCKER_DATA_ROOT, log $DOCKERD_LOG)"
as_root mkdir -p "$DOCKER_DATA_ROOT"
# Host networking only: no bridge, no iptables rules, no masquerading.
as_root bash -c "nohup dockerd --bridge=none --iptables=false --ip-masq=false \
  --data-root '$DOCKER_DATA_ROOT' >>'$DOCKERD_LOG' 2>&1 </dev/null &"

for _ in $(seq 1 "$DOCKER_WAIT_SECONDS"); do
  if docker info >/dev/null 2>&1; then
    echo "services: docker engine answering"
    exit 0
  fi
  sleep 1
done
echo "services: dockerd did not answer within ${DOCKER_WAIT_SECONDS}s; see $DOCKERD_LOG" >&2
exit 1
