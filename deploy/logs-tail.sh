#!/usr/bin/env bash
# Last log lines of the live web container and the proxy.
# LOG_LINES=50 by default (`make logs-tail LINES=n` sets it); FOLLOW=1 keeps following.
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"
lines="${LOG_LINES:-50}"
[[ "$lines" =~ ^[0-9]+$ ]] || die "LOG_LINES (make logs-tail LINES=n) must be a number of lines, not '$lines'"
require_runtime

live="$(active_colour)"
[ -n "$live" ] || die "nothing deployed in sandbox $PREFIX; no logs to show"
for name in "$PROXY_CONTAINER" "$(web_container "$(other_colour "$live")")"; do
  rt_exists "$name" || continue
  echo "==> $name (last 10 lines)"
  rt_logs "$name" 10
done
echo "==> $(web_container "$live") (live, last $lines lines)"
if [ "${FOLLOW:-0}" = 1 ]; then
  rt_logs "$(web_container "$live")" "$lines" follow
fi
rt_logs "$(web_container "$live")" "$lines"
