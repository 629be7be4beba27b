#!/usr/bin/env bash
# Roll back to the previous version.
#   deploy/rollback.sh        the five steps: restore the previous image tag, start the
#                             previous colour (re-created from that tag if it is gone),
#                             health check, move traffic and stop the current colour, report.
#   deploy/rollback.sh --now  immediate: the previous colour must still be running; traffic
#                             moves to it at once and the current colour is stopped.
# The current colour is stopped only after the proxy has switched, so no request is dropped.
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"

action=rollback
[ "${1:-}" = "--now" ] && action=rollback-now
require_runtime
take_lock

current="$(active_colour)"
[ -n "$current" ] || die "nothing deployed in sandbox $PREFIX; nothing to roll back"
previous="$(other_colour "$current")"
current_name="$(web_container "$current")"
previous_name="$(web_container "$previous")"
previous_port="$(colour_port "$previous")"
from_version="$(rt_field "$current_name" version)"

fail() {
  record_history "$action" "$from_version" "${to_version:-}" "$previous" failed
  die "$1"
}

if [ "$action" = rollback-now ]; then
  rt_running "$previous_name" || fail "$previous_name is not running; use: make rollback"
  to_version="$(rt_field "$previous_name" version)"
  say "1/4 $previous_name still runs $to_version; checking /health and /ready"
  wait_healthy "$previous_port" 5 || fail "$previous_name is not healthy; traffic stays on $current"
  rt_tag "$(rt_field "$previous_name" image)" "$WEB_IMAGE:current"
  say "2/4 switching proxy from $current to $previous"
  switch_proxy "$previous"
  say "3/4 stopping $current_name ($from_version)"
  rt_stop "$current_name"
  rt_tag "$(rt_field "$current_name" image)" "$WEB_IMAGE:previous"
  record_history "$action" "$from_version" "$to_version" "$previous" succeeded
  say "4/4 rolled back $from_version -> $to_version on $previous"
  exit 0
fi

rt_image_exists "$WEB_IMAGE:previous" \
  || fail "no $WEB_IMAGE:previous image: nothing to roll back to"
to_version="$(rt_image_version "$WEB_IMAGE:previous")"
current_image="$(rt_field "$current_name" image 2>/dev/null || true)"

say "1/5 restoring image tag $WEB_IMAGE:current -> $to_version (was ${from_version:-unknown})"
rt_tag "$WEB_IMAGE:previous" "$WEB_IMAGE:current"

previous_image_id="$(rt_image_id "$WEB_IMAGE:previous")"
if rt_running "$previous_name" \
  && [ "$(rt_field "$previous_name" image)" = "$previous_image_id" ]; then
  say "2/5 $previous_name already runs $to_version"
else
  say "2/5 starting $previous_name from $WEB_IMAGE:current ($to_version)"
  start_web "$previous" "$WEB_IMAGE:current" || fail "could not start $previous_name"
fi

say "3/5 health check http://$LISTEN_HOST:$previous_port/health and /ready"
wait_healthy "$previous_port" || fail "$previous_name failed its health check; traffic stays on $current"

say "4/5 switching proxy to $previous, then stopping current $current_name ($from_version)"
switch_proxy "$previous"
rt_stop "$current_name"
[ -n "$current_image" ] && rt_tag "$current_image" "$WEB_IMAGE:previous"

record_history "$action" "$from_version" "$to_version" "$previous" succeeded
say "5/5 rolled back $from_version -> $to_version; $previous is live, status:"
"$(dirname "$0")/status.sh"
