#!/usr/bin/env bash
# Run Prometheus in the foreground for this sandbox: deploy/prometheus/prometheus.yml with the
# sandbox's ports, the runbook's alert rules, data under the state dir, listening on
# 127.0.0.1:${PROMETHEUS_PORT:-9090}.
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || die "prometheus not installed; run: bash scripts/services.sh"
listen="$LISTEN_HOST:${PROMETHEUS_PORT:-9090}"
config_dir="$STATE_DIR/prometheus"
mkdir -p "$config_dir/data"
sed -e "s/127\.0\.0\.1:3000/$LISTEN_HOST:$PROXY_PORT/" \
    -e "s/127\.0\.0\.1:3001/$LISTEN_HOST:$BLUE_PORT/" \
    -e "s/127\.0\.0\.1:3002/$LISTEN_HOST:$GREEN_PORT/" \
    "$REPO_ROOT/deploy/prometheus/prometheus.yml" >"$config_dir/prometheus.yml"
cp "$REPO_ROOT/deploy/prometheus/alerts.yml" "$config_dir/alerts.yml"
say "prometheus on http://$listen scraping $LISTEN_HOST:$PROXY_PORT, :$BLUE_PORT, :$GREEN_PORT"
exec prometheus --config.file="$config_dir/prometheus.yml" --web.listen-address="$listen" \
  --storage.tsdb.path="$config_dir/data" --log.level=warn
