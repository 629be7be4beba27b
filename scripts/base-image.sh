#!/usr/bin/env bash
# Build the offline base image (Debian bookworm minbase with python3, prometheus-client,
# nginx-light, curl, procps) with debootstrap + docker import. Skips when the image exists.
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-runbook-base:bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_PACKAGES="python3,python3-prometheus-client,nginx-light,curl,procps"

# debootstrap and reading the new root file system need root; CI runners have sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Parallel test workers may all ask for the image; one builds it, the others wait for it.
exec 9>"/tmp/runbook-base-image.${BASE_IMAGE//[^A-Za-z0-9]/_}.lock"
flock -w 600 9 || { echo "base-image: another build of $BASE_IMAGE is still running" >&2; exit 1; }
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "base-image: $BASE_IMAGE present"
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1 && [ ! -x /usr/sbin/debootstrap ]; then
  echo "base-image: debootstrap missing; run bash scripts/services.sh first" >&2
  exit 1
fi

rootfs_dir="$(mktemp -d /tmp/runbook-base.XXXXXX)"
trap 'as_root rm -rf "$rootfs_dir"' EXIT
echo "base-image: debootstrap bookworm into $rootfs_dir (about a minute)"
if ! as_root debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$rootfs_dir" \
  "$DEBIAN_MIRROR" >"$rootfs_dir.log" 2>&1; then
  echo "base-image: debootstrap failed; see $rootfs_dir.log" >&2
  exit 1
fi
# Keep the image small: package lists and caches are not needed at run time.
as_root bash -c "rm -rf '$rootfs_dir'/var/cache/apt/archives/*.deb '$rootfs_dir'/var/lib/apt/lists/*"
as_root tar -C "$rootfs_dir" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
rm -f "$rootfs_dir.log"
echo "base-image: imported $BASE_IMAGE"
