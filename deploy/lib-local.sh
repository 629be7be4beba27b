#!/usr/bin/env bash
# The local runtime for deploy/*.sh (sourced by lib.sh when DEPLOY_RUNTIME=local): on a box
# with no Docker engine, deploy/service/procd.py holds the "images" (a version and its
# environment; the code is this checkout's) and runs the colours and the proxy
# (deploy/service/proxy.py) as local processes it restarts like Docker would.
# Start its engine once: make local-engine (LOCAL_ENGINE_DIR says where it keeps its state).
# shellcheck disable=SC2034

LOCAL_ENGINE_DIR="${LOCAL_ENGINE_DIR:-$REPO_ROOT/.monkeytown/devops/local-engine}"
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  [ -x "$REPO_ROOT/.venv/bin/python" ] && PYTHON="$REPO_ROOT/.venv/bin/python"
fi

procd() { "$PYTHON" "$REPO_ROOT/deploy/service/procd.py" --root "$LOCAL_ENGINE_DIR" "$@"; }

require_runtime() {
  procd ping || die "local engine not running for $LOCAL_ENGINE_DIR; start it: make local-engine DEPLOY_RUNTIME=local"
}

rt_image_exists() { procd image-inspect "$1" --format id >/dev/null 2>&1; }
rt_image_id() { procd image-inspect "$1" --format id; }
rt_image_version() { procd image-inspect "$1" --format version 2>/dev/null || true; }
rt_tag() { procd tag "$1" "$2"; }

rt_exists() { procd inspect "$1" --format status >/dev/null 2>&1; }
rt_running() { [ "$(procd inspect "$1" --format status 2>/dev/null)" = running ]; }
# One fact about a container: image (id), version, colour, status, started_at, health, restarts.
rt_field() {
  local port
  case "$2" in
    colour) procd inspect "$1" --format label:monkeytown.colour 2>/dev/null || true ;;
    health)
      # No health probes in the engine: ask the endpoint the Docker HEALTHCHECK asks.
      port="$PROXY_PORT"
      [ "$1" = "$(web_container blue)" ] && port="$BLUE_PORT"
      [ "$1" = "$(web_container green)" ] && port="$GREEN_PORT"
      if http_ok "http://$LISTEN_HOST:$port/health"; then echo healthy; else echo unhealthy; fi
      ;;
    image | version | status | started_at | restarts)
      procd inspect "$1" --format "$2" 2>/dev/null || true
      ;;
    *) die "unknown container field $2" ;;
  esac
}
rt_stop() { procd stop "$1" >/dev/null 2>&1 || true; }
rt_remove() { procd rm "$1" >/dev/null 2>&1 || true; }
rt_signal() { procd kill "$1" --signal "$2" >/dev/null; }
# rt_logs NAME LINES [follow]
rt_logs() {
  if [ "${3:-}" = follow ]; then
    exec "$PYTHON" "$REPO_ROOT/deploy/service/procd.py" --root "$LOCAL_ENGINE_DIR" \
      logs "$1" --tail "$2" --follow
  fi
  procd logs "$1" --tail "$2"
}

# Start one colour's web process from an image (replacing a stopped or old one).
start_web() {
  local colour="$1" image="$2" name port line
  name="$(web_container "$colour")"
  port="$(colour_port "$colour")"
  "$PYTHON" -c 'import prometheus_client' 2>/dev/null \
    || die "$PYTHON cannot import prometheus_client; set PYTHON to the venv's python (make test creates it)"
  rt_remove "$name"
  local drill_env=()
  while IFS= read -r line; do
    [ -n "$line" ] && drill_env+=(--env "$line")
  done < <(drill_environment)
  procd run "$name" --image "$image" \
    --label "monkeytown.prefix=$PREFIX" --label "monkeytown.colour=$colour" \
    "${drill_env[@]}" \
    --env APP_HOST="$LISTEN_HOST" --env APP_PORT="$port" \
    --env APP_CONFIG="$STATE_DIR/config/app.json" --env PYTHONUNBUFFERED=1 \
    -- "$PYTHON" "$REPO_ROOT/deploy/service/app.py" >/dev/null
}

# The proxy's upstream (atomic rename; the proxy reads it at start and on SIGHUP).
write_proxy_conf() {
  local colour="$1"
  mkdir -p "$STATE_DIR/proxy"
  printf '{"colour": "%s", "host": "%s", "port": %s}\n' "$colour" "$LISTEN_HOST" \
    "$(colour_port "$colour")" >"$STATE_DIR/proxy/.site.json.new"
  mv "$STATE_DIR/proxy/.site.json.new" "$STATE_DIR/proxy/site.json"
}

start_proxy() {
  write_proxy_conf "$1"
  procd run "$PROXY_CONTAINER" --image "$PROXY_IMAGE" --label "monkeytown.prefix=$PREFIX" \
    --env PYTHONUNBUFFERED=1 \
    -- "$PYTHON" "$REPO_ROOT/deploy/service/proxy.py" --site "$STATE_DIR/proxy/site.json" \
    --host "$LISTEN_HOST" --port "$PROXY_PORT" >/dev/null
}

# Graceful reload: requests in flight finish on the old colour.
reload_proxy() {
  write_proxy_conf "$1"
  rt_signal "$PROXY_CONTAINER" HUP
}
