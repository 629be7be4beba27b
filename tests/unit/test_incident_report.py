"""The incident report: timeline order, masked commands and output, durations, gauges."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runbook.document.parser import load
from runbook.execution.executor import StepResult
from runbook.execution.masking import MASK, Masker
from runbook.execution.plan import plan
from runbook.incident.events import IncidentReporter, command_event, step_event
from runbook.incident.model import open_incident
from runbook.incident.report import render
from runbook.incident.store import IncidentStore
from runbook.incident.timeline import make_event

REPO = Path(__file__).resolve().parents[2]
PROJECT_RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"
T0 = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)
SECRET = "s3cr3t-Tok3n-value"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _incident():
    runbook = load(PROJECT_RUNBOOK)
    incident = open_incident(runbook, "P1", title="web down", clock=lambda: T0, by="alice")
    step_plan = plan(runbook, incident.procedure, 3, environment="Development")
    result = StepResult(
        status="failed",
        exit_code=2,
        run_ids=("r1",),
        output_tail=(f"using token {SECRET}", "rollback-now: nothing deployed"),
    )
    masker = Masker([SECRET])
    # Recorded out of order on purpose: the report sorts by time.
    incident.record(_at(command_event(step_plan, result, masker, actor="bob"), 150))
    incident.acknowledge(by="bob", at=at(90))
    incident.record(
        _at(step_event(incident.procedure, 2, "Check status", "done", actor="bob"), 120)
    )
    incident.record(
        _at(
            step_event(incident.procedure, 4, "Check logs", "skipped", reason="known", actor="bob"),
            160,
        )
    )
    incident.add("threshold-breach", "Error Rate 12.0% critical", actor="console", at=at(30))
    incident.note(f"api key was {SECRET}", by="bob", at=at(170))
    incident.mitigate(by="bob", at=at(200))
    incident.close("rolled back by hand", by="bob", at=at(500))
    incident.gauges_open = [
        {
            "metric": "Error Rate",
            "value": 12.0,
            "unit": "%",
            "state": "critical",
            "source": "/metrics",
        },
        {
            "metric": "Request Latency (p99)",
            "value": 0.02,
            "unit": "s",
            "state": "ok",
            "source": "/metrics",
        },
    ]
    incident.gauges_close = [
        {"metric": "Error Rate", "value": 0.0, "unit": "%", "state": "ok", "source": "/metrics"},
    ]
    return incident


def _at(event, seconds: float):
    from dataclasses import replace

    from runbook.incident.timeline import iso

    return replace(event, time=iso(at(seconds)))


def test_report_timeline_is_in_time_order_with_actors() -> None:
    text = render(_incident(), masker=Masker([SECRET]))
    timeline = text.split("## Timeline")[1].split("## Commands")[0]
    kinds = [
        line.split("|")[3].strip().split(":")[0]
        for line in timeline.splitlines()
        if line.startswith("| 0")
    ]
    assert kinds == [
        "opened",
        "threshold-breach",
        "acknowledged",
        "step-done",
        "command",
        "step-skipped",
        "note",
        "mitigated",
        "closed",
    ]
    assert "| 03:02:40 | bob | step-skipped: Step 4 skipped: Check logs (known) |" in timeline


def test_report_durations_and_deadlines() -> None:
    text = render(_incident(), masker=Masker([SECRET]))
    assert "| Time to acknowledge | 1m 30s |" in text
    assert "| Time to mitigate | 3m 20s |" in text
    assert "| Time to resolve | 8m 20s |" in text
    assert "| Acknowledge within 5 minutes | 03:05:00 UTC | done in time |" in text
    # Mitigated at 3m20s, nobody escalated: the deadline was not met by an escalation.
    assert (
        "| Escalate if not resolved within 15 minutes | 03:15:00 UTC | "
        "not needed: resolved in time |"
    ) in text
    assert "- **Resolution:** rolled back by hand" in text


def test_report_commands_with_exit_status_and_masked_output() -> None:
    text = render(_incident(), masker=Masker([SECRET]))
    commands = text.split("## Commands")[1].split("## Gauges")[0]
    assert "### 1. 03:02:30 exit 2 (failed) by bob" in commands
    assert "make rollback-now" in commands
    assert f"using token {MASK}" in commands
    assert "rollback-now: nothing deployed" in commands
    assert SECRET not in text


def test_report_gauges_and_deployments(tmp_path: Path) -> None:
    history = tmp_path / "deployments.jsonl"
    history.write_text(
        json.dumps({"time": "2026-11-28T02:00:00Z", "action": "deploy", "to_version": "v1"})
        + "\n"
        + json.dumps(
            {
                "time": "2026-11-28T03:03:00Z",
                "action": "rollback",
                "from_version": "v2",
                "to_version": "v1",
                "outcome": "succeeded",
                "environment": "prod",
                "user": "bob",
            }
        )
        + "\n"
    )
    text = render(_incident(), masker=Masker([SECRET]), history_path=history)
    assert "| Error Rate | 12.0% (critical) | 0.0% (ok) | /metrics |" in text
    assert "| Request Latency (p99) | 20ms (ok) | - | /metrics |" in text
    deployments = text.split("## Deployments during the incident")[1]
    assert "rollback | prod | v2 -> v1 | succeeded | bob" in deployments
    assert "02:00:00" not in deployments


def test_reporter_records_real_command_with_masked_output(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DEPLOY_API_TOKEN", SECRET)
    runbook_file = tmp_path / "runbook.md"
    runbook_file.write_text(
        "# Ops\n\n## Check\n\n1. Print it: `echo token=$DEPLOY_API_TOKEN; exit 3`\n"
    )
    (tmp_path / ".git").mkdir()
    from runbook.config import Config, ExecutionConfig
    from runbook.execution.executor import Executor

    config = Config(
        execution=ExecutionConfig(
            state_dir=str(tmp_path / "state"), lock_dir=str(tmp_path / "locks")
        )
    )
    store = IncidentStore(tmp_path / "incidents")
    runbook = load(runbook_file)
    incident = open_incident(runbook, "P1") if runbook.severities else None
    assert incident is None  # this runbook has no severities; record into a P1 of the project's
    incident = open_incident(load(PROJECT_RUNBOOK), "P1")
    store.save(incident)
    reporter = IncidentReporter(lambda event: store.append(incident.id, event), actor="erin")
    executor = Executor(config)
    step_plan = executor.plan(runbook, "Check", 1)
    result = executor.run(step_plan, reporter, step_plan.confirm())
    assert result.exit_code == 3
    (event,) = [e for e in store.load(incident.id).events if e.kind == "command"]
    assert event.actor == "erin"
    assert event.data["exit_code"] == 3 and event.data["status"] == "failed"
    assert event.data["output"] == [f"token={MASK}"]
    report = render(store.load(incident.id), masker=Masker([SECRET]))
    assert SECRET not in report and "exit 3 (failed) by erin" in report


def test_report_cli_writes_file(tmp_path: Path) -> None:
    env = {**os.environ}
    store = IncidentStore(Path(env["RUNBOOK_STATE_DIR"]) / "incidents")
    incident = _incident()
    store.save(incident)
    out = tmp_path / "report.md"
    code = "import sys; from console.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", code, "report", incident.id[:18], "-o", str(out)],
        capture_output=True,
        text=True,
        env={**env, "DEPLOY_API_TOKEN": SECRET},
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("# Incident report: web down")
    assert SECRET not in text


def test_drill_incident_is_marked() -> None:
    incident = _incident()
    incident.drill = "DRILL-x"
    text = render(incident)
    assert text.splitlines()[0].endswith("(DRILL)")
    assert "**DRILL**" in text


@pytest.mark.parametrize(
    "seconds,expected", [(None, "not yet"), (5, "5s"), (65, "1m 05s"), (3725, "1h 02m 05s")]
)
def test_format_duration(seconds, expected) -> None:
    from runbook.incident.report import format_duration

    assert format_duration(seconds) == expected


def test_note_event_defaults_actor_to_operator(monkeypatch) -> None:
    monkeypatch.setenv("RUNBOOK_OPERATOR", "frank")
    assert make_event("note", "x").actor == "frank"


def _history_record(**fields: object) -> str:
    return json.dumps(fields) + "\n"


def test_one_report_builder_reads_the_deployments_for_every_caller(
    isolated_dirs: Path,
) -> None:
    """`build_report` finds the runbook repository's history itself: a caller that only
    has the incident (the TUI's `r`) gets the deployments the CLI's report lists."""
    from runbook.incident.report import build_report

    history = isolated_dirs / "deployment-history" / "deployments.jsonl"
    history.parent.mkdir(parents=True)
    history.write_text(
        _history_record(
            time="2026-11-28T03:03:00Z",
            action="rollback-now",
            from_version="v2",
            to_version="v1",
            outcome="succeeded",
            environment="prod",
            user="bob",
        )
    )
    incident = _incident()
    text = build_report(incident)
    deployments = text.split("## Deployments during the incident")[1]
    assert "rollback-now | prod | v2 -> v1 | succeeded | bob" in deployments
    assert "None recorded" not in deployments
    assert build_report(incident) == render(incident, history_path=history)


def test_readings_at_open_mitigation_and_close_are_timeline_events() -> None:
    runbook = load(PROJECT_RUNBOOK)
    incident = open_incident(runbook, "P1", title="web down", clock=lambda: T0, by="alice")
    error = {"metric": "Error Rate", "unit": "%", "source": "proxy"}
    incident.record_readings("open", [{**error, "value": 38.3, "state": "critical"}], at=at(1))
    incident.add("threshold-breach", "Error Rate 38.3 % critical", actor="console", at=at(2))
    incident.mitigate(by="bob", at=at(200))
    incident.record_readings(
        "mitigation", [{**error, "value": 4.0, "state": "warning"}], at=at(200)
    )
    incident.record_readings(
        "close", [{**error, "value": None, "state": "no-data", "source": "/metrics"}], at=at(400)
    )
    incident.close("rolled back", by="bob", at=at(400))
    kinds = [e.kind for e in incident.events]
    assert kinds.count("readings") == 3
    (first, *_) = [e for e in incident.events if e.kind == "readings"]
    assert first.actor == "console" and first.text == "Gauges at open: Error Rate 38.3% (critical)"
    text = render(incident, deployments=[])
    assert "No gauge readings were taken" not in text
    assert "| Metric | At open | At mitigation | At close | Source |" in text
    assert "| Error Rate | 38.3% (critical) | 4.0% (warning) | no data | /metrics |" in text
    timeline = text.split("## Timeline")[1].split("## Commands")[0]
    assert "readings: Gauges at mitigation: Error Rate 4.0% (warning)" in timeline
    assert "threshold-breach: Error Rate 38.3 % critical" in timeline


def test_readings_take_the_console_gauges_and_probe_readings() -> None:
    from runbook.drills.probes import Reading
    from runbook.incident.events import readings_event

    probe = Reading("Request Latency (p99)", 2.476, "s", "critical", "/metrics")
    event = readings_event("open", [probe])
    assert event.data["readings"] == [
        {
            "metric": "Request Latency (p99)",
            "value": 2.476,
            "unit": "s",
            "state": "critical",
            "source": "/metrics",
        }
    ]
    assert event.text == "Gauges at open: Request Latency (p99) 2476ms (critical)"


def test_report_of_an_incident_closed_without_mitigation() -> None:
    runbook = load(PROJECT_RUNBOOK)
    incident = open_incident(runbook, "P1", title="web down", clock=lambda: T0, by="alice")
    incident.acknowledge(by="bob", at=at(60))
    incident.close("false alarm", by="bob", at=at(1286))
    text = render(incident, deployments=[])
    assert "| Time to mitigate | not recorded |" in text
    assert "21m 26s" in text.split("Time to resolve")[1].splitlines()[0]
    assert "| Escalate if not resolved within 15 minutes | 03:15:00 UTC | not done:" in text
    assert "mitigated:" not in text.split("## Timeline")[1]


def test_report_judges_an_open_incident_deadlines_now() -> None:
    runbook = load(PROJECT_RUNBOOK)
    incident = open_incident(runbook, "P1", title="web down", clock=lambda: T0, by="alice")
    text = render(incident, deployments=[], now=at(60))
    assert "| Time to mitigate | not yet |" in text
    assert "| Acknowledge within 5 minutes | 03:05:00 UTC | counting |" in text
    later = render(incident, deployments=[], now=at(400))
    assert "| Acknowledge within 5 minutes | 03:05:00 UTC | not done: deadline passed |" in later


def test_log_excerpts_leave_the_console_probes_out() -> None:
    from runbook.sources.probe import PROBE_USER_AGENT

    runbook = load(PROJECT_RUNBOOK)
    incident = open_incident(runbook, "P1", title="web down", clock=lambda: T0, by="alice")
    step_plan = plan(runbook, incident.procedure, 3, environment="Development")
    real = '"GET / HTTP/1.1" 500 - "Mozilla/5.0"'
    probe = f'"GET /health HTTP/1.1" 200 - "{PROBE_USER_AGENT}"'
    result = StepResult(
        status="done", exit_code=0, run_ids=("r1",), output_tail=(real, *[probe] * 20, real)
    )
    event = command_event(step_plan, result, Masker([]))
    assert event.data["output"] == [real, real, "(20 console probe line(s) left out)"]
    # A probe line recorded by an older console stays out of the report too.
    older = make_event("command", "make logs-tail -> exit 0", output=[probe, real], commands=[])
    incident.record(_at(older, 10))
    text = render(incident, masker=Masker([]))
    assert real in text and probe not in text
