"""The Makefile's log-line count is LOG_LINES; a LINES of the terminal never passes through it.

An exported LINES made the console (`make console`) paint at 50 rows whatever the
terminal's size, so make neither exports that name nor reads it from the environment.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = '_probe: ; @echo "LOG_LINES=$(LOG_LINES) env=$${LINES-unset},$${COLUMNS-unset}"'


def make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "-s", "--no-print-directory", *args],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        pytest.param((), {}, "LOG_LINES=50", id="shell-size-ignored"),
        pytest.param(("LINES=100",), {}, "LOG_LINES=100", id="command-line-lines"),
        pytest.param(("LOG_LINES=12",), {}, "LOG_LINES=12", id="command-line-log-lines"),
        pytest.param((), {"LOG_LINES": "13"}, "LOG_LINES=13", id="environment-log-lines"),
    ],
)
def test_recipes_get_log_lines_and_no_terminal_size(
    args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    # Every case runs under a shell that exports its terminal's size.
    result = make("--eval", PROBE, "_probe", *args, **{"LINES": "7", "COLUMNS": "9", **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{expected} env=unset,unset"


def test_history_tails_log_lines_not_the_terminals_height() -> None:
    shown = make("-n", "history", LINES="3").stdout
    assert "tail -n 50 " in shown
    assert "tail -n 4 " in make("-n", "history", "LINES=4").stdout


def test_logs_tail_refuses_a_count_that_is_not_a_number() -> None:
    result = subprocess.run(
        ["bash", "deploy/logs-tail.sh"],
        cwd=REPO,
        env={**os.environ, "LOG_LINES": "lots"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "logs-tail: LOG_LINES (make logs-tail LINES=n) must be a number of lines, not 'lots'"
    ]
