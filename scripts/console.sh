#!/usr/bin/env bash
# Run the console: installs it into .venv on first use, then opens the project's
# own runbook (or the PATH and options given).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$repo/.venv/bin/runbook-console" ]; then
    python3 -m venv "$repo/.venv"
    "$repo/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$repo"
fi
exec "$repo/.venv/bin/runbook-console" "$@"
