#!/usr/bin/env bash
# Deployment status: live colour, then version, state, health and uptime of each container,
# then a request through the proxy. Exits 1 when a deployment exists but the proxy path
# is unhealthy.
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"
require_runtime

live="$(active_colour)"
now="$(date +%s)"

uptime_of() {
  local started seconds
  started="$(rt_field "$1" started_at)"
  seconds=$((now - $(date -d "$started" +%s)))
  printf '%dh%02dm%02ds' $((seconds / 3600)) $((seconds % 3600 / 60)) $((seconds % 60))
}

echo "sandbox $PREFIX, proxy $LISTEN_HOST:$PROXY_PORT, environment $DEPLOY_ENV, live colour: ${live:-none}"
printf '%-26s %-6s %-10s %-8s %-10s %-10s %s\n' CONTAINER COLOUR VERSION STATE HEALTH UPTIME TRAFFIC
for name in "$PROXY_CONTAINER" "$(web_container blue)" "$(web_container green)"; do
  if ! rt_exists "$name"; then
    printf '%-26s %-6s %-10s %-8s\n' "$name" - - absent
    continue
  fi
  colour="$(rt_field "$name" colour)"
  version="$(rt_field "$name" version)"
  state="$(rt_field "$name" status)"
  health="$(rt_field "$name" health)"
  uptime=-
  if [ "$state" = running ]; then uptime="$(uptime_of "$name")"; else health=-; fi
  traffic=-
  if [ -n "$colour" ]; then
    if [ "$colour" = "$live" ]; then traffic=live; elif [ "$state" = running ]; then traffic=standby; fi
  fi
  printf '%-26s %-6s %-10s %-8s %-10s %-10s %s\n' "$name" "${colour:--}" "${version:--}" \
    "$state" "$health" "$uptime" "$traffic"
done

if [ -z "$live" ]; then
  echo "no deployment yet; run: make deploy VERSION=<version>"
  exit 0
fi
headers="$(curl -sS --max-time 2 -o /dev/null -D - -w '%{http_code}' \
  "http://$LISTEN_HOST:$PROXY_PORT/health" 2>/dev/null | tr -d '\r' || true)"
code="$(printf '%s' "$headers" | tail -n 1)"
[ "$code" = 000 ] && code=""
served_by="$(printf '%s\n' "$headers" | awk -F': ' 'tolower($1) == "x-version" {print $2}')"
echo "GET http://$LISTEN_HOST:$PROXY_PORT/health -> ${code:-no answer}${served_by:+ (X-Version $served_by)}"
[ "$code" = 200 ] || exit 1
