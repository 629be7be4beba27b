#!/usr/bin/env bash
# Apply deploy/config/ENV.json to the running service without a restart: validate it
# (a broken file is refused and nothing changes), install it where the containers read it,
# send SIGHUP, confirm the service still answers.   Usage: deploy/update-config.sh ENV
# CONFIG_FILE overrides the source file (drills and tests use it).
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"

env_name="${1:-}"
[ -n "$env_name" ] || die "usage: deploy/update-config.sh ENV (dev, staging or prod)"
source_file="${CONFIG_FILE:-$REPO_ROOT/deploy/config/$env_name.json}"
[ -f "$source_file" ] || die "no config file $source_file"
if ! message="$(python3 "$REPO_ROOT/deploy/service/service_config.py" "$source_file" 2>&1)"; then
  die "refused, nothing changed: $message"
fi
require_runtime
take_lock

live="$(active_colour)"
[ -n "$live" ] || die "nothing deployed in sandbox $PREFIX; run: make deploy VERSION=<version>"
mkdir -p "$STATE_DIR/config"
cp "$source_file" "$STATE_DIR/config/.app.json.new"
chmod 644 "$STATE_DIR/config/.app.json.new"
mv "$STATE_DIR/config/.app.json.new" "$STATE_DIR/config/app.json"
echo "$env_name" >"$STATE_DIR/environment"
say "installed $source_file as $STATE_DIR/config/app.json"

for colour in blue green; do
  name="$(web_container "$colour")"
  rt_running "$name" || continue
  rt_signal "$name" HUP
  say "sent SIGHUP to $name (started $(rt_field "$name" started_at))"
done
sleep 0.5
wait_healthy "$(colour_port "$live")" 10 || die "live colour $live unhealthy after reload; see: make logs-tail"
say "config $env_name applied without restart; live colour $live healthy"
