#!/usr/bin/env bash
# Last log lines of the live web container and the proxy.
# LINES=50 by default; FOLLOW=1 keeps following the live container.
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"
require_docker

lines="${LINES:-50}"
live="$(active_colour)"
[ -n "$live" ] || die "nothing deployed in sandbox $PREFIX; no logs to show"
for name in "$PROXY_CONTAINER" "$(web_container "$(other_colour "$live")")"; do
  docker inspect "$name" >/dev/null 2>&1 || continue
  echo "==> $name (last 10 lines)"
  docker logs --tail 10 "$name" 2>&1
done
echo "==> $(web_container "$live") (live, last $lines lines)"
if [ "${FOLLOW:-0}" = 1 ]; then
  exec docker logs --tail "$lines" --follow "$(web_container "$live")"
fi
docker logs --tail "$lines" "$(web_container "$live")" 2>&1
