#!/usr/bin/env bash
# The whole test suite, from a fresh machine: virtualenv, dependencies, the real
# services (Docker Engine; Prometheus is started by the tests themselves), lint,
# type check, import contracts and every test. `make test` and .ci/run call this.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# pip warns about find-links folders this machine's config names but lacks: noise, not news.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 \
    | { grep -v "^WARNING: Location" || true; }

# Byte-compile the checkout once. Where PYTHONDONTWRITEBYTECODE is set (this machine sets it),
# no process writes a cache, so every worker and every CLI subprocess the tests start
# compiled runbook/ and console/ again from source: a third of a CLI subprocess's CPU.
.venv/bin/python -m compileall -q -j 0 runbook console tests deploy bench >/dev/null

# pytest rewrites the asserts of every test module it imports and caches the result beside
# it, except where PYTHONDONTWRITEBYTECODE is set: then each worker rewrote every module, 5 s
# of its 8 s CPU of collection. One collection allowed to write fills that cache while the
# services start and lint runs; the workers read it (reading needs no write permission).
PYTHONDONTWRITEBYTECODE= .venv/bin/pytest -p no:cacheprovider -n 0 --collect-only -q \
    >/dev/null 2>&1 &
collect_pid=$!

bash scripts/services.sh

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

# mypy and the import contracts run beside the tests (their output follows the tests'); the
# run fails if any of them fails.
checks_log="$(mktemp)"
trap 'rm -f "$checks_log"' EXIT
(
    set -e
    echo "== mypy"
    .venv/bin/mypy
    echo "== import contracts"
    .venv/bin/lint-imports
) >"$checks_log" 2>&1 &
checks_pid=$!

wait "$collect_pid" || true # a collection error shows again in the run below
echo "== pytest"
export RUNBOOK_REQUIRE_SERVICES=1
tests_status=0
.venv/bin/pytest -p no:cacheprovider "$@" || tests_status=$?
checks_status=0
wait "$checks_pid" || checks_status=$?
cat "$checks_log"
if [ "$checks_status" -ne 0 ]; then
    echo "== mypy or the import contracts failed (exit $checks_status)" >&2
fi
if [ "$tests_status" -ne 0 ]; then
    exit "$tests_status"
fi
exit "$checks_status"
