#!/usr/bin/env bash
# `make build` for the local runtime (DEPLOY_RUNTIME=local): record the image
# $WEB_IMAGE:VERSION, a version and its environment, for procd.py to run with this
# checkout's deploy/service/app.py; record the proxy image too when absent.
#   deploy/local-build.sh [VERSION [KEY=VALUE ...]]   (no VERSION: the proxy image only)
set -euo pipefail
export DEPLOY_RUNTIME=local
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"

version="${1:-}"
[ $# -gt 0 ] && shift
if ! rt_image_exists "$PROXY_IMAGE"; then
  procd build "$PROXY_IMAGE" --version "" >/dev/null
  say "recorded $PROXY_IMAGE (runs deploy/service/proxy.py)"
fi
[ -n "$version" ] || exit 0
env_args=(--env "APP_VERSION=$version")
for pair in "$@"; do env_args+=(--env "$pair"); done
procd build "$WEB_IMAGE:$version" --version "$version" "${env_args[@]}" >/dev/null
say "recorded $WEB_IMAGE:$version${1:+ with $*} (runs deploy/service/app.py of this checkout)"
