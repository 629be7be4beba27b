"""`runbook-console incident ...`: start, run, ack, note, close, report.

The incident subcommands run through the CLI's own `main()` in the test's process (a Python
start per command cost a third of a second of CPU, 13 times a test); `report` runs as its
own process, so the entry point and a process that only reads the incident files are
covered too.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

from console.cli import main

REPO = Path(__file__).resolve().parents[2]
SECRET = "hunter2-very-secret"
RUNBOOK = """# Ops

## On-Call Procedures

### P1 - Critical (System Down)

1. Acknowledge alert within 5 minutes
2. Check: `echo token=$MY_API_TOKEN; echo checked`
3. Restart: `echo restarting; exit 4`
4. Escalate if not resolved within 15 minutes

### P2 - High (Degraded Service)

1. Acknowledge alert within 15 minutes
2. Investigate root cause
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`runbook-console incident ARGS` as `main()` runs it: exit code, stdout and stderr."""
    argv = ["incident", *args]
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, {"MY_API_TOKEN": SECRET, "RUNBOOK_OPERATOR": "alice"}),
        contextlib.chdir(REPO),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse refuses bad arguments with exit code 2
            code = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def test_incident_lifecycle_from_the_cli(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    runbook = tmp_path / "runbook.md"
    runbook.write_text(RUNBOOK)
    started = cli("start", "--severity", "p1", "--title", "api down", str(runbook))
    assert started.returncode == 0, started.stderr
    assert re.search(r"Acknowledge within 5 minutes +ok +0[45]:\d\d left", started.stdout)
    assert "Escalate if not resolved within 15 minutes" in started.stdout

    assert cli("ack").returncode == 0
    again = cli("ack")
    assert again.returncode == 1 and "already acknowledged" in again.stderr

    ran = cli("run", "2")
    assert ran.returncode == 0, ran.stderr
    assert SECRET not in ran.stdout and "token=********" in ran.stdout
    failed = cli("run", "3", "--confirm", "Development")
    assert failed.returncode == 1
    assert cli("step", "4", "skipped", "--reason", "fixed before 15 minutes").returncode == 0
    assert cli("note", "root cause: bad restart script").returncode == 0
    assert cli("severity", "P2").returncode == 0
    closed = cli("close", "--resolution", "restarted by hand")
    assert closed.returncode == 0 and "closed: restarted by hand" in closed.stdout

    listed = cli("list", "--json")
    (summary,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert summary["status"] == "closed" and summary["severity"] == "P2"

    timeline = cli("timeline", "--json")
    events = [json.loads(line) for line in timeline.stdout.splitlines()]
    assert [e["kind"] for e in events] == [
        "opened",
        "acknowledged",
        "step-done",  # step 1, "Acknowledge alert within 5 minutes", ticked by `ack`
        "command",
        "step-done",
        "command",
        "step-failed",
        "step-skipped",
        "note",
        "severity-changed",
        "closed",
    ]
    assert all(e["actor"] == "alice" for e in events)
    assert events[3]["data"]["output"] == ["token=********", "checked"]
    assert events[5]["data"]["exit_code"] == 4
    assert "Escalate if not resolved within 15 minutes" in events[7]["text"]  # the step's title
    steps_only = cli("timeline", "--kind", "step-")
    assert len(steps_only.stdout.splitlines()) == 4

    report = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from console.cli import main; sys.exit(main())",
            "report",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "MY_API_TOKEN": SECRET},
        timeout=60,
    ).stdout
    assert SECRET not in report
    assert "exit 4 (failed) by alice" in report and "echo restarting; exit 4" in report
    assert "- **Severity:** P2 High (Degraded Service)" in report


def test_unknown_severity_and_no_open_incident(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    runbook = tmp_path / "runbook.md"
    runbook.write_text(RUNBOOK)
    bad = cli("start", "--severity", "P9", str(runbook))
    assert bad.returncode == 1 and "no severity 'P9'" in bad.stderr and "P1, P2" in bad.stderr
    none = cli("ack")
    assert none.returncode == 1 and "no open incident" in none.stderr


def _start(tmp_path: Path, *extra: str, text: str = RUNBOOK) -> str:
    (tmp_path / ".git").mkdir(exist_ok=True)
    runbook = tmp_path / "runbook.md"
    runbook.write_text(text)
    started = cli("start", "--severity", "P1", *extra, str(runbook))
    assert started.returncode == 0, started.stderr
    found = re.search(r"^(INC-\S+) opened", started.stdout, re.M)
    assert found, started.stdout
    return found.group(1)


def _kinds() -> list[str]:
    timeline = cli("timeline", "--json")
    return [json.loads(line)["kind"] for line in timeline.stdout.splitlines()]


def test_ack_ticks_the_acknowledge_step_and_ticking_it_acknowledges(tmp_path: Path) -> None:
    _start(tmp_path)
    acked = cli("ack")
    assert acked.returncode == 0, acked.stderr
    assert "Step 1 done: Acknowledge alert within 5 minutes" in acked.stdout
    assert _kinds() == ["opened", "acknowledged", "step-done"]
    assert cli("close", "--resolution", "done").returncode == 0

    _start(tmp_path)
    ticked = cli("step", "1", "done")
    assert ticked.returncode == 0, ticked.stderr
    assert "Incident acknowledged" in ticked.stdout
    assert _kinds() == ["opened", "step-done", "acknowledged"]
    again = cli("ack")
    assert again.returncode == 1 and "already acknowledged" in again.stderr
    bad = cli("step", "one", "done")
    assert bad.returncode == 2 and "not a step number" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_closing_without_mitigation_reports_no_invented_mitigation(tmp_path: Path) -> None:
    incident_id = _start(tmp_path)
    assert cli("ack").returncode == 0
    closed = cli("close", "--resolution", "false alarm")
    assert closed.returncode == 0, closed.stderr
    assert "mitigated not recorded" in closed.stdout
    assert "mitigated" not in _kinds()
    (summary,) = [json.loads(line) for line in cli("list", "--json").stdout.splitlines()]
    assert summary["mitigated_at"] is None
    report = subprocess.run(
        [sys.executable, "-m", "console.cli", "report", incident_id],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert report.returncode == 0, report.stderr
    assert "| Time to mitigate | not recorded |" in report.stdout
    assert "Escalate done" not in report.stdout and "| escalated:" not in report.stdout


def test_status_hint_after_a_rollback_offers_no_rollback(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    history = Path(os.environ["DEPLOY_HISTORY_DIR"]) / "deployments.jsonl"
    history.parent.mkdir(parents=True, exist_ok=True)
    records = [
        ("deploy", "v1", "v2", now - timedelta(minutes=20)),
        ("rollback-now", "v2", "v1", now - timedelta(minutes=3)),
    ]
    history.write_text(
        "".join(
            json.dumps(
                {
                    "time": moment.isoformat(),
                    "action": action,
                    "from_version": old,
                    "to_version": new,
                    "outcome": "succeeded",
                    "environment": "prod",
                    "user": "dora",
                }
            )
            + "\n"
            for action, old, new, moment in records
        )
    )
    _start(tmp_path)
    status = cli("status")
    assert status.returncode == 0, status.stderr
    assert re.search(r"hint: Rolled back to v1 \(prod\) [34] min ago by dora$", status.stdout, re.M)
    assert "rollback:" not in status.stdout


def test_gauges_at_open_mitigation_and_close_are_in_the_report(tmp_path: Path) -> None:
    from runbook.drills.embedded import start_embedded

    service = start_embedded()
    try:
        url = service.base_url
        project_runbook = (REPO / ".monkeytown" / "devops" / "runbook.md").read_text()
        incident_id = _start(tmp_path, "--base-url", url, text=project_runbook)
        assert cli("mitigated", "--base-url", url).returncode == 0
        assert cli("close", "--resolution", "fine", "--base-url", url).returncode == 0
    finally:
        service.stop()
    readings = [
        json.loads(line)
        for line in cli("timeline", "--json", "--kind", "readings").stdout.splitlines()
    ]
    assert [r["data"]["moment"] for r in readings] == ["open", "mitigation", "close"]
    assert all(r["data"]["readings"] for r in readings)
    report = subprocess.run(
        [sys.executable, "-m", "console.cli", "report", incident_id],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    ).stdout
    assert "No gauge readings were taken" not in report
    assert "| Metric | At open | At mitigation | At close | Source |" in report
