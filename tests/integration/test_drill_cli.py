"""`runbook-console drill` in a terminal-less subprocess, on local processes: what the
trainee types is what the drill records (issue 12, items 8 and 9)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.drill_config import write_quick_gauges

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def console(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "RUNBOOK_OPERATOR": "tess"},
        timeout=300,
    )


def test_ack_in_a_cli_drill_ticks_the_acknowledge_step() -> None:
    write_quick_gauges(Path(os.environ["RUNBOOK_CONFIG_FILE"]))
    drill = console("drill", "crash-loop", "--runtime", "local", stdin="ack\nend\n")
    assert "Traceback" not in drill.stderr, drill.stderr
    assert "step-done: Step 1 done: Acknowledge alert within 5 minutes" in drill.stdout
    found = re.search(r"report: runbook-console report (INC-\S+)", drill.stdout)
    assert found, drill.stdout

    (result,) = [
        json.loads(line) for line in console("drill", "--results", "--json").stdout.splitlines()
    ]
    assert result["steps"][0]["status"] == "done"
    assert [s["status"] for s in result["steps"][1:]] == ["untouched"] * 4

    report = console("report", found.group(1)).stdout
    timeline = report.split("## Timeline")[1].split("## Commands")[0]
    assert "acknowledged: Incident acknowledged" in timeline
    assert "step-done: Step 1 done: Acknowledge alert within 5 minutes" in timeline
    # The gauges at the drill's open and close are on its timeline and in the report.
    assert "readings: Gauges at open:" in timeline and "readings: Gauges at close:" in timeline
    assert "| Metric | At open | At close | Source |" in report
    assert "mitigated:" not in timeline
    assert "| Time to mitigate | not recorded |" in report
