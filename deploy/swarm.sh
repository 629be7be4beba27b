#!/usr/bin/env bash
# DEPLOY_RUNTIME=swarm: deploy, rollback, status, logs and config of a Docker Swarm stack built
# from deploy/docker-compose.swarm.yml (stack $MONKEYTOWN_PREFIX, service <prefix>_web).
# deploy/lib.sh hands over here from deploy.sh, rollback.sh, status.sh, logs-tail.sh,
# update-config.sh and down.sh, so `make deploy` and the others work unchanged.
#   deploy VERSION       docker stack deploy; swarm rolls start-first and rolls back by itself
#                        when the new task never gets healthy (its /ready), which fails here
#   rollback [--now]     docker service rollback (--now: all tasks at once, no monitor window)
#   status | logs-tail | update-config ENV | down
# The engine must already be a swarm manager (a dedicated one; this never inits a swarm).
set -euo pipefail
action="${1:?usage: deploy/swarm.sh deploy|rollback|status|logs-tail|update-config|down}"
shift
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"
SCRIPT_NAME="$action"

STACK="$PREFIX"
SERVICE="${STACK}_web"
COMPOSE="$REPO_ROOT/deploy/docker-compose.swarm.yml"
CONFIG_TARGET=/etc/monkeytown/app.json
UPDATE_TIMEOUT="${SWARM_UPDATE_TIMEOUT:-180}"
export MONKEYTOWN_PREFIX="$PREFIX" MONKEYTOWN_HOST="$LISTEN_HOST" MONKEYTOWN_PORT="$PROXY_PORT"

require_swarm() {
  local state
  state="$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null)" \
    || die "Docker engine not answering${DOCKER_HOST:+ at $DOCKER_HOST}"
  [ "$state" = "active true" ] \
    || die "this engine${DOCKER_HOST:+ ($DOCKER_HOST)} is not a swarm manager; point DOCKER_HOST at one"
}

service_exists() { docker service inspect "$SERVICE" >/dev/null 2>&1; }
service_field() { docker service inspect -f "$1" "$SERVICE" 2>/dev/null || true; }
update_state() { service_field '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}'; }
update_started() { service_field '{{if .UpdateStatus}}{{.UpdateStatus.StartedAt}}{{end}}'; }
update_message() { service_field '{{if .UpdateStatus}}{{.UpdateStatus.Message}}{{end}}'; }
spec_image() { service_field "{{with .$1}}{{.TaskTemplate.ContainerSpec.Image}}{{end}}"; }
spec_config() {
  service_field "{{with .$1}}{{range .TaskTemplate.ContainerSpec.Configs}}{{.ConfigName}} {{end}}{{end}}"
}
# The version label of an image reference (its tag when the image has none).
version_of() {
  local version
  [ -n "$1" ] || return 0
  version="$(rt_image_version "${1%%@*}")"
  echo "${version:-${1##*:}}"
}

# A swarm config holding FILE, named by its content (configs cannot change in place).
swarm_config_for() {
  local name
  name="$PREFIX-app-$(sha256sum "$1" | cut -c1-12)"
  docker config inspect "$name" >/dev/null 2>&1 \
    || docker config create --label "monkeytown.prefix=$PREFIX" "$name" "$1" >/dev/null
  echo "$name"
}

# Remove this stack's configs that neither the spec nor the previous spec uses.
prune_configs() {
  local keep name
  keep=" $(spec_config Spec) $(spec_config PreviousSpec) "
  for name in $(docker config ls --filter "label=monkeytown.prefix=$PREFIX" --format '{{.Name}}'); do
    [[ "$keep" == *" $name "* ]] || docker config rm "$name" >/dev/null 2>&1 || true
  done
}

# Wait for the update or rollback that began after STARTED_BEFORE to end; prints its state.
wait_update() {
  local before="$1" waited=0 state
  while :; do
    state="$(update_state)"
    if [ "$(update_started)" != "$before" ]; then
      case "$state" in completed | rollback_completed | paused | rollback_paused)
        echo "$state"
        return 0
        ;;
      esac
    fi
    [ "$waited" -ge "$((UPDATE_TIMEOUT * 4))" ] && { echo "${state:-timeout}"; return 0; }
    sleep 0.25
    waited=$((waited + 1))
  done
}

# Wait until every desired task of a new service runs (healthy: swarm waits for that).
wait_running() {
  local waited=0 replicas
  while :; do
    replicas="$(docker service ls --filter "name=$SERVICE" --format '{{.Replicas}}' 2>/dev/null)"
    replicas="${replicas%% *}"
    [ -n "$replicas" ] && [ "${replicas%/*}" = "${replicas#*/}" ] && [ "${replicas%/*}" != 0 ] && return 0
    [ "$waited" -ge "$((UPDATE_TIMEOUT * 4))" ] && return 1
    sleep 0.25
    waited=$((waited + 1))
  done
}

swarm_deploy() {
  local version="${1:-${VERSION:-}}" image config from_version to_version before index state
  [ -n "$version" ] || die "usage: deploy/deploy.sh VERSION (or make deploy VERSION=x)"
  require_swarm
  take_lock
  image="$WEB_IMAGE:$version"
  rt_image_exists "$image" || die "image $image not found on this engine; run: make build VERSION=$version"
  [ -f "$REPO_ROOT/deploy/config/$DEPLOY_ENV.json" ] || die "no config deploy/config/$DEPLOY_ENV.json"
  ensure_config
  echo "$DEPLOY_ENV" >"$STATE_DIR/environment"
  config="$(swarm_config_for "$STATE_DIR/config/app.json")"
  from_version="$(version_of "$(spec_image Spec)")"
  to_version="$(version_of "$image")"
  local files=(-c "$COMPOSE") drills
  drills="$(drill_environment)"
  rm -f "$STATE_DIR/swarm-drills.yml"
  if [ -n "$drills" ]; then
    { echo 'version: "3.8"'; echo "services:"; echo "  web:"; echo "    environment:"
      while IFS='=' read -r name value; do echo "      $name: \"$value\""; done <<<"$drills"
    } >"$STATE_DIR/swarm-drills.yml"
    files+=(-c "$STATE_DIR/swarm-drills.yml")
  fi
  before="$(update_started)"
  index="$(service_field '{{.Version.Index}}')"
  say "1/4 docker stack deploy $STACK: $SERVICE ${from_version:+$from_version -> }$to_version, config $config"
  WEB_IMAGE="$WEB_IMAGE" VERSION="$version" MONKEYTOWN_CONFIG_NAME="$config" \
    docker stack deploy --resolve-image never "${files[@]}" "$STACK" 2>&1 \
    | { grep -vE 'detach|future release|^Updating service|^Creating service' >&2 || true; }
  if [ -z "$index" ]; then
    say "2/4 waiting for the first task to be healthy (/ready)"
    wait_running || {
      record_history deploy "" "$to_version" "" failed
      die "$SERVICE has no healthy task within ${UPDATE_TIMEOUT}s; see: make logs-tail"
    }
  elif [ "$(service_field '{{.Version.Index}}')" = "$index" ]; then
    say "2/4 $SERVICE already runs this spec; nothing to update"
  else
    say "2/4 rolling start-first update; swarm rolls back by itself if /ready never passes"
    state="$(wait_update "$before")"
    if [ "$state" != completed ]; then
      record_history deploy "$from_version" "$to_version" "" failed
      die "update $state: $(update_message); $SERVICE runs $(version_of "$(spec_image Spec)")"
    fi
  fi
  http_ok "http://$LISTEN_HOST:$PROXY_PORT/ready" || die "$LISTEN_HOST:$PROXY_PORT/ready does not answer 200"
  say "3/4 tagging $WEB_IMAGE:current=$to_version${from_version:+, previous=$from_version}"
  rt_tag "$image" "$WEB_IMAGE:current"
  prev="$(spec_image PreviousSpec)"
  [ -n "$prev" ] && rt_image_exists "$prev" && rt_tag "$prev" "$WEB_IMAGE:previous"
  prune_configs
  record_history deploy "$from_version" "$to_version" "" succeeded
  say "4/4 deployed $to_version as $SERVICE on $LISTEN_HOST:$PROXY_PORT; recorded in $HISTORY_DIR/deployments.jsonl"
}

swarm_rollback() {
  local name=rollback before state from_version to_version target
  [ "${1:-}" = --now ] && name=rollback-now
  require_swarm
  take_lock
  service_exists || die "no service $SERVICE; nothing to roll back"
  from_version="$(version_of "$(spec_image Spec)")"
  before="$(update_started)"
  if [ -z "$(spec_image PreviousSpec)" ]; then
    # Swarm keeps no previous spec after it rolled back by itself: the image tagged previous
    # (by its version tag) goes out as an update, start-first like any other.
    rt_image_exists "$WEB_IMAGE:previous" \
      || die "$SERVICE has no previous spec and there is no $WEB_IMAGE:previous: nothing to roll back to"
    to_version="$(version_of "$WEB_IMAGE:previous")"
    target="$WEB_IMAGE:$to_version"
    [ "$(rt_image_id "$target" 2>/dev/null)" = "$(rt_image_id "$WEB_IMAGE:previous")" ] \
      || target="$WEB_IMAGE:previous"
    say "1/3 no previous spec (swarm rolled back by itself); updating $SERVICE to $target"
    docker service update --detach --image "$target" "$SERVICE" >/dev/null
  elif [ "$name" = rollback-now ]; then
    to_version="$(version_of "$(spec_image PreviousSpec)")"
    say "1/3 docker service rollback of $SERVICE $from_version -> $to_version, all tasks at once"
    docker service update --detach --rollback --rollback-parallelism 0 --rollback-monitor 0s \
      --rollback-order start-first "$SERVICE" >/dev/null
  else
    to_version="$(version_of "$(spec_image PreviousSpec)")"
    say "1/3 docker service rollback of $SERVICE $from_version -> $to_version (start-first)"
    docker service rollback --detach "$SERVICE" >/dev/null
  fi
  say "2/3 waiting for swarm to finish the rollback"
  state="$(wait_update "$before")"
  if [ "$state" != rollback_completed ] && [ "$state" != completed ]; then
    record_history "$name" "$from_version" "$to_version" "" failed
    die "rollback $state: $(update_message)"
  fi
  rt_image_exists "$(spec_image Spec)" && rt_tag "$(spec_image Spec)" "$WEB_IMAGE:current"
  record_history "$name" "$from_version" "$to_version" "" succeeded
  say "3/3 rolled back $from_version -> $to_version; status:"
  swarm_status
}

swarm_status() {
  local state code
  require_swarm
  echo "stack $STACK, service $SERVICE on $LISTEN_HOST:$PROXY_PORT, environment $DEPLOY_ENV"
  if ! service_exists; then
    echo "no deployment yet; run: DEPLOY_RUNTIME=swarm make deploy VERSION=<version>"
    return 0
  fi
  state="$(update_state)"
  echo "image $(spec_image Spec) (version $(version_of "$(spec_image Spec)")), replicas" \
    "$(docker service ls --filter "name=$SERVICE" --format '{{.Replicas}}'), config $(spec_config Spec)"
  echo "update state: ${state:-none}${state:+ ($(update_message))}"
  docker service ps "$SERVICE" --format 'table {{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}' \
    | head -n 7
  code="$(curl -sS --max-time 2 -o /dev/null -w '%{http_code}' "http://$LISTEN_HOST:$PROXY_PORT/health" 2>/dev/null || true)"
  [ "$code" = 000 ] && code=""
  echo "GET http://$LISTEN_HOST:$PROXY_PORT/health -> ${code:-no answer}"
  [ "$code" = 200 ]
}

swarm_logs() {
  local lines="${LOG_LINES:-50}" probes='runbook-console/[^ "]* (probe)' window
  [[ "$lines" =~ ^[0-9]+$ ]] || die "LOG_LINES (make logs-tail LINES=n) must be a number of lines, not '$lines'"
  require_swarm
  service_exists || die "no service $SERVICE; no logs to show"
  echo "==> $SERVICE (docker service logs, last $lines lines)"
  if [ "${FOLLOW:-0}" = 1 ]; then
    docker service logs --tail "$lines" --follow "$SERVICE" 2>&1 \
      | if [ "${PROBES:-0}" = 1 ]; then cat; else grep --line-buffered -v -e "$probes"; fi
    return
  fi
  if [ "${PROBES:-0}" = 1 ]; then
    docker service logs --tail "$lines" "$SERVICE" 2>&1
    return
  fi
  window="$(docker service logs --tail "$((lines * 20 + 20))" "$SERVICE" 2>&1)"
  grep -v -e "$probes" <<<"$window" | tail -n "$lines" || true
  local count
  count="$(grep -c -e "$probes" <<<"$window" || true)"
  [ "${count:-0}" -gt 0 ] && echo "($count console probe lines left out; PROBES=1 shows them)"
  return 0
}

swarm_update_config() {
  local env_name="${1:-}" source_file message config old before state
  [ -n "$env_name" ] || die "usage: deploy/update-config.sh ENV (dev, staging or prod)"
  source_file="${CONFIG_FILE:-$REPO_ROOT/deploy/config/$env_name.json}"
  [ -f "$source_file" ] || die "no config file $source_file"
  message="$(python3 "$REPO_ROOT/deploy/service/service_config.py" "$source_file" 2>&1)" \
    || die "refused, nothing changed: $message"
  require_swarm
  take_lock
  service_exists || die "no service $SERVICE; run: DEPLOY_RUNTIME=swarm make deploy VERSION=<version>"
  config="$(swarm_config_for "$source_file")"
  old="$(spec_config Spec)"
  old="${old%% *}"
  mkdir -p "$STATE_DIR/config"
  cp "$source_file" "$STATE_DIR/config/app.json"
  echo "$env_name" >"$STATE_DIR/environment"
  if [ "$old" = "$config" ]; then
    say "$SERVICE already uses $config ($source_file); nothing to change"
    return 0
  fi
  before="$(update_started)"
  say "rotating swarm config $old -> $config (tasks replaced start-first)"
  docker service update --detach --config-rm "$old" \
    --config-add "source=$config,target=$CONFIG_TARGET,mode=0444" "$SERVICE" >/dev/null
  state="$(wait_update "$before")"
  [ "$state" = completed ] || die "config update $state: $(update_message)"
  prune_configs
  say "config $env_name applied as $config; $SERVICE healthy on $LISTEN_HOST:$PROXY_PORT"
}

swarm_down() {
  require_swarm
  take_lock
  if docker stack ls --format '{{.Name}}' | grep -qx "$STACK"; then
    docker stack rm "$STACK" >/dev/null
    local waited=0
    while [ -n "$(docker ps -q --filter "label=com.docker.stack.namespace=$STACK")" ]; do
      [ "$waited" -ge 120 ] && break
      sleep 0.25
      waited=$((waited + 1))
    done
    say "removed stack $STACK"
  fi
  docker config ls --filter "label=monkeytown.prefix=$PREFIX" -q | xargs -r docker config rm >/dev/null 2>&1 || true
  rm -rf "$STATE_DIR"
  say "sandbox $PREFIX is down"
}

case "$action" in
  deploy) swarm_deploy "$@" ;;
  rollback) swarm_rollback "$@" ;;
  status) swarm_status ;;
  logs-tail) swarm_logs ;;
  update-config) swarm_update_config "$@" ;;
  down) swarm_down ;;
  *) die "unknown action '$action' for DEPLOY_RUNTIME=swarm" ;;
esac
