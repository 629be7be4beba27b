#!/usr/bin/env bash
# Remove the sandbox's proxy and web containers and its state (images and history stay).
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"
require_docker
take_lock

for name in "$PROXY_CONTAINER" "$(web_container blue)" "$(web_container green)"; do
  if docker inspect "$name" >/dev/null 2>&1; then
    docker rm -f "$name" >/dev/null
    say "removed $name"
  fi
done
rm -rf "$STATE_DIR"
say "sandbox $PREFIX is down"
