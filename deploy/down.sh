#!/usr/bin/env bash
# Remove the sandbox's proxy and web containers and its state (images and history stay).
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"
require_runtime
take_lock

for name in "$PROXY_CONTAINER" "$(web_container blue)" "$(web_container green)"; do
  if rt_exists "$name"; then
    rt_remove "$name"
    say "removed $name"
  fi
done
rm -rf "$STATE_DIR"
say "sandbox $PREFIX is down"
