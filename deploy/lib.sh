#!/usr/bin/env bash
# Shared settings and helpers for deploy/*.sh. Every name and port can be overridden by
# environment, so tests and drills run isolated sandboxes side by side.
# shellcheck disable=SC2034

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PREFIX="${MONKEYTOWN_PREFIX:-monkeytown}"
WEB_IMAGE="${WEB_IMAGE:-monkeytown-web}"
PROXY_IMAGE="${PROXY_IMAGE:-monkeytown-proxy:latest}"
BASE_IMAGE="${BASE_IMAGE:-runbook-base:bookworm}"
LISTEN_HOST="${MONKEYTOWN_HOST:-127.0.0.1}"
PROXY_PORT="${MONKEYTOWN_PORT:-3000}"
BLUE_PORT="${MONKEYTOWN_BLUE_PORT:-3001}"
GREEN_PORT="${MONKEYTOWN_GREEN_PORT:-3002}"
STATE_DIR="${MONKEYTOWN_STATE_DIR:-$REPO_ROOT/.monkeytown/devops/state/$PREFIX}"
# Environment whose config the sandbox runs: as given, else as last deployed, else prod.
DEPLOY_ENV="${DEPLOY_ENV:-$(cat "$STATE_DIR/environment" 2>/dev/null || echo prod)}"
HISTORY_DIR="${DEPLOY_HISTORY_DIR:-$REPO_ROOT/.monkeytown/devops/deployment-history}"
SMOKE_TIMEOUT="${SMOKE_TIMEOUT:-30}"
PROXY_CONTAINER="$PREFIX-proxy"

SCRIPT_NAME="$(basename "$0" .sh)"

say() { echo "$SCRIPT_NAME: $*"; }
die() { echo "$SCRIPT_NAME: $*" >&2; exit 1; }

# The runtime that holds images and containers: Docker, or local processes owned by
# deploy/service/procd.py on a box without an engine (DEPLOY_RUNTIME=local), or a Docker
# Swarm stack (DEPLOY_RUNTIME=swarm): deploy, rollback, status, logs-tail, update-config and
# down then hand over to deploy/swarm.sh; images stay Docker images.
DEPLOY_RUNTIME="${DEPLOY_RUNTIME:-docker}"
case "$DEPLOY_RUNTIME" in
  docker | local) ;;
  swarm)
    case "$SCRIPT_NAME" in
      deploy | rollback | status | logs-tail | update-config | down)
        exec bash "$REPO_ROOT/deploy/swarm.sh" "$SCRIPT_NAME" "$@"
        ;;
    esac
    ;;
  *) die "DEPLOY_RUNTIME must be docker, local or swarm, not '$DEPLOY_RUNTIME'" ;;
esac
# shellcheck source=deploy/lib-docker.sh
source "$REPO_ROOT/deploy/lib-${DEPLOY_RUNTIME/swarm/docker}.sh"

# One deploy, rollback or config change at a time per sandbox; a second waits, then gives up.
take_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  flock -w "${LOCK_TIMEOUT:-120}" 9 || die "another deploy, rollback or config update holds $STATE_DIR/.lock"
}

web_container() { echo "$PREFIX-web-$1"; }
colour_port() { if [ "$1" = blue ]; then echo "$BLUE_PORT"; else echo "$GREEN_PORT"; fi; }
other_colour() { if [ "$1" = blue ]; then echo green; else echo blue; fi; }

# The colour the proxy sends traffic to, or empty before the first deploy.
active_colour() { cat "$STATE_DIR/active" 2>/dev/null || true; }

http_ok() { curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null; }

# Drill switches set in the caller's environment (DRILL_LATENCY_MS=300 make deploy ...)
# reach a new web container; none are set normally. Prints NAME=VALUE lines.
drill_environment() {
  local variable
  for variable in $(compgen -e | grep '^DRILL_' || true); do
    echo "$variable=${!variable}"
  done
}

# Wait until /health and /ready answer 200 on a loopback port.
wait_healthy() {
  local port="$1" timeout="${2:-$SMOKE_TIMEOUT}" waited=0
  until http_ok "http://$LISTEN_HOST:$port/health" && http_ok "http://$LISTEN_HOST:$port/ready"; do
    [ "$waited" -ge "$((timeout * 4))" ] && return 1
    sleep 0.25
    waited=$((waited + 1))
  done
}

# Make sure the mounted config exists; first use copies deploy/config/$DEPLOY_ENV.json.
ensure_config() {
  mkdir -p "$STATE_DIR/config"
  if [ ! -f "$STATE_DIR/config/app.json" ]; then
    cp "$REPO_ROOT/deploy/config/$DEPLOY_ENV.json" "$STATE_DIR/config/app.json"
    chmod 644 "$STATE_DIR/config/app.json"
  fi
}

# Point the proxy at a colour (start it on first use, else a graceful reload), then wait
# until responses come from the new colour.
switch_proxy() {
  local colour="$1" tries=0
  if rt_running "$PROXY_CONTAINER"; then
    reload_proxy "$colour"
  else
    rt_remove "$PROXY_CONTAINER"
    start_proxy "$colour"
  fi
  until [ "$(proxy_colour)" = "$colour" ]; do
    tries=$((tries + 1))
    [ "$tries" -gt 80 ] && die "proxy did not switch to $colour within 20s"
    sleep 0.25
  done
  echo "$colour" >"$STATE_DIR/active"
}

proxy_colour() {
  curl -fsS --max-time 2 -o /dev/null -D - "http://$LISTEN_HOST:$PROXY_PORT/health" 2>/dev/null \
    | tr -d '\r' | awk -F': ' 'tolower($1) == "x-upstream-colour" {print $2}'
}

# Append one JSON line to the deployment history (the format the console reads).
record_history() {
  local action="$1" from_version="$2" to_version="$3" colour="$4" outcome="$5"
  mkdir -p "$HISTORY_DIR"
  python3 - "$HISTORY_DIR/deployments.jsonl" "$action" "$DEPLOY_ENV" "$from_version" \
    "$to_version" "$colour" "${USER:-$(id -un)}" "$(hostname)" "$outcome" <<'PY'
import datetime, json, os, sys
path, action, env, from_v, to_v, colour, user, host, outcome = sys.argv[1:]
record = {
    "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "action": action, "environment": env,
    "from_version": from_v or None, "to_version": to_v or None, "colour": colour or None,
    "user": user, "host": host, "outcome": outcome,
    "run_id": os.environ.get("RUNBOOK_RUN_ID") or None,
}
with open(path, "a", encoding="utf-8") as history:
    history.write(json.dumps(record) + "\n")
PY
}
