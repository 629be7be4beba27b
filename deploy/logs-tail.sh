#!/usr/bin/env bash
# Last log lines of the live web container and the proxy.
# LOG_LINES=50 by default (`make logs-tail LINES=n` sets it); FOLLOW=1 keeps following.
# The console's own probes (user agent "runbook-console/<version> (probe)") are left out and
# counted, so real requests stay readable; PROBES=1 shows them too.
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"
lines="${LOG_LINES:-50}"
[[ "$lines" =~ ^[0-9]+$ ]] || die "LOG_LINES (make logs-tail LINES=n) must be a number of lines, not '$lines'"
require_runtime

PROBE_PATTERN='runbook-console/[^ "]* (probe)'

# show NAME LINES: the last LINES log lines of NAME that are not console probes.
show() {
  local name="$1" count="$2" window probes
  if [ "${PROBES:-0}" = 1 ]; then
    rt_logs "$name" "$count" 2>&1
    return
  fi
  # Probes arrive every second or so: read further back, so LINES real lines remain.
  window="$(rt_logs "$name" "$((count * 20 + 20))" 2>&1)"
  grep -v -e "$PROBE_PATTERN" <<<"$window" | tail -n "$count" || true
  probes="$(grep -c -e "$PROBE_PATTERN" <<<"$window" || true)"
  if [ "${probes:-0}" -gt 0 ]; then
    echo "($probes console probe lines left out; PROBES=1 shows them)"
  fi
}

live="$(active_colour)"
[ -n "$live" ] || die "nothing deployed in sandbox $PREFIX; no logs to show"
for name in "$PROXY_CONTAINER" "$(web_container "$(other_colour "$live")")"; do
  rt_exists "$name" || continue
  echo "==> $name (last 10 lines)"
  show "$name" 10
done
echo "==> $(web_container "$live") (live, last $lines lines)"
if [ "${FOLLOW:-0}" = 1 ]; then
  if [ "${PROBES:-0}" = 1 ]; then
    rt_logs "$(web_container "$live")" "$lines" follow
  fi
  rt_logs "$(web_container "$live")" "$lines" follow 2>&1 | grep --line-buffered -v -e "$PROBE_PATTERN"
  exit "${PIPESTATUS[0]}"
fi
show "$(web_container "$live")" "$lines"
