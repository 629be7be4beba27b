#!/usr/bin/env bash
# Blue-green deploy on one box: start the idle colour with the new image, smoke-test
# /health and /ready, switch the proxy with a graceful reload, keep the old colour running
# for rollback, record the deployment.   Usage: deploy/deploy.sh VERSION
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"

VERSION="${1:-${VERSION:-}}"
[ -n "$VERSION" ] || die "usage: deploy/deploy.sh VERSION (or make deploy VERSION=x)"
require_runtime
take_lock
IMAGE="$WEB_IMAGE:$VERSION"
rt_image_exists "$IMAGE" || die "image $IMAGE not found; run: make build VERSION=$VERSION"
rt_image_exists "$PROXY_IMAGE" || die "image $PROXY_IMAGE not found; run: make build-proxy"
[ -f "$REPO_ROOT/deploy/config/$DEPLOY_ENV.json" ] || die "no config deploy/config/$DEPLOY_ENV.json"

ensure_config
echo "$DEPLOY_ENV" >"$STATE_DIR/environment"
live="$(active_colour)"
if [ -n "$live" ] && rt_running "$(web_container "$live")"; then
  target="$(other_colour "$live")"
  from_version="$(rt_field "$(web_container "$live")" version)"
else
  live=""
  target="blue"
  from_version=""
fi
to_version="$(rt_image_version "$IMAGE")"
to_version="${to_version:-$VERSION}"
target_port="$(colour_port "$target")"

say "1/5 starting $target ($(web_container "$target"), port $target_port) from $IMAGE"
if ! start_web "$target" "$IMAGE"; then
  record_history deploy "$from_version" "$to_version" "$target" failed
  die "could not start $(web_container "$target")"
fi

say "2/5 smoke test http://$LISTEN_HOST:$target_port/health and /ready"
if ! wait_healthy "$target_port"; then
  rt_stop "$(web_container "$target")"
  record_history deploy "$from_version" "$to_version" "$target" failed
  die "smoke test failed on $target within ${SMOKE_TIMEOUT}s; traffic stays on ${live:-nothing}; see: make logs-tail"
fi

if [ -n "$live" ]; then
  say "3/5 switching proxy $LISTEN_HOST:$PROXY_PORT from $live to $target (graceful reload)"
else
  say "3/5 starting proxy $PROXY_CONTAINER on $LISTEN_HOST:$PROXY_PORT in front of $target"
fi
switch_proxy "$target"

say "4/5 tagging $WEB_IMAGE:current=$to_version${from_version:+, $WEB_IMAGE:previous=$from_version}"
rt_tag "$IMAGE" "$WEB_IMAGE:current"
if [ -n "$live" ]; then
  rt_tag "$(rt_field "$(web_container "$live")" image)" "$WEB_IMAGE:previous"
fi

record_history deploy "$from_version" "$to_version" "$target" succeeded
say "5/5 deployed $to_version on $target; ${live:+$live keeps ${from_version} for rollback; }recorded in $HISTORY_DIR/deployments.jsonl"
