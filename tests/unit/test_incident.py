"""Incident mode: deadlines on an injected clock, explicit actions, storage, deploy hint."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runbook.document.parser import load
from runbook.incident.deployments import deployment_hint
from runbook.incident.events import step_event
from runbook.incident.model import Incident, IncidentError, find_severity, open_incident
from runbook.incident.store import IncidentBusy, IncidentStore
from runbook.incident.timeline import filter_events, iso, make_event
from tests.lock_holder import LockHolder

REPO = Path(__file__).resolve().parents[2]
PROJECT_RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"
T0 = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def runbook():
    return load(PROJECT_RUNBOOK)


def test_p1_deadlines_come_from_the_runbook_and_change_colour(runbook) -> None:
    clock = FakeClock()
    incident = open_incident(runbook, "p1", title="site down", clock=clock, by="alice")
    ack, escalate = incident.deadlines(clock())
    assert (ack.name, ack.window_s) == ("acknowledge", 300)
    assert (escalate.name, escalate.window_s) == ("escalate", 900)
    assert incident.procedure == "On-Call Procedures / P1 - Critical (System Down)"

    states = []
    for offset in (0, 149, 151, 239, 241, 299, 300, 400):
        clock.now = T0 + timedelta(seconds=offset)
        states.append(ack.state(clock()))
    assert states == ["ok", "ok", "amber", "amber", "red", "red", "due", "due"]
    assert ack.countdown(T0 + timedelta(seconds=61)) == "03:59 left"
    assert ack.countdown(T0 + timedelta(seconds=363)) == "+01:03 overdue"


def test_acknowledge_and_escalate_are_timestamped_events(runbook) -> None:
    clock = FakeClock()
    incident = open_incident(runbook, "P1", clock=clock, by="alice")
    incident.acknowledge(by="bob", at=clock.advance(200))
    incident.escalate(to="team-lead", by="bob", at=clock.advance(800))
    ack, escalate = incident.deadlines(clock())
    assert ack.state(clock()) == "met" and ack.remaining_s(clock()) == 100
    assert escalate.state(clock()) == "late"
    assert incident.acknowledged_at == iso(T0 + timedelta(seconds=200))
    assert incident.acknowledged_by == "bob"
    kinds = [(e.kind, e.actor) for e in incident.events]
    assert kinds == [("opened", "alice"), ("acknowledged", "bob"), ("escalated", "bob")]
    with pytest.raises(IncidentError):
        incident.acknowledge(at=clock())


def test_due_deadlines_are_recorded_once(runbook) -> None:
    clock = FakeClock()
    incident = open_incident(runbook, "P1", clock=clock)
    assert incident.check_deadlines(clock.advance(100)) == []
    first = incident.check_deadlines(clock.advance(250))
    assert [d.name for d in first] == ["acknowledge"]
    assert incident.check_deadlines(clock.advance(10)) == []
    later = incident.check_deadlines(clock.advance(600))
    assert [d.name for d in later] == ["escalate"]
    due_events = [e for e in incident.events if e.kind == "deadline-due"]
    assert [e.time for e in due_events] == [
        iso(T0 + timedelta(seconds=300)),
        iso(T0 + timedelta(seconds=900)),
    ]
    assert all(e.actor == "console" for e in due_events)


def test_resolving_in_time_meets_the_escalation_deadline(runbook) -> None:
    clock = FakeClock()
    incident = open_incident(runbook, "P1", clock=clock)
    incident.acknowledge(at=clock.advance(60))
    incident.mitigate(at=clock.advance(240))
    incident.close("rolled back to v1", at=clock.advance(120))
    # Acknowledged in time; nobody escalated, and nobody had to: not an escalation done.
    assert [d.state(clock.advance(3600)) for d in incident.deadlines()] == ["met", "moot"]
    assert incident.durations() == {"acknowledge": 60, "mitigate": 300, "resolve": 420}
    assert incident.status == "closed"
    with pytest.raises(IncidentError):
        incident.note("too late", at=clock())  # notes are fine...
        incident.escalate(at=clock())  # ...escalating a closed incident is not


def test_severity_change_restarts_the_countdowns(runbook) -> None:
    clock = FakeClock()
    incident = open_incident(runbook, "P2", clock=clock)
    (ack,) = [d for d in incident.deadlines() if d.name == "acknowledge"]
    assert ack.window_s == 900 and len(incident.deadlines()) == 1
    incident.change_severity(find_severity(runbook, "P1"), by="carol", at=clock.advance(600))
    ack, escalate = incident.deadlines()
    assert ack.starts_at == T0 + timedelta(seconds=600)
    assert escalate.due_at == T0 + timedelta(seconds=1500)
    assert incident.procedure.endswith("P1 - Critical (System Down)")
    assert incident.events[-1].kind == "severity-changed"
    assert incident.events[-1].data == {"previous": "P2", "severity": "P1"}


def test_p3_has_no_countdown_and_unknown_severity_is_refused(runbook) -> None:
    assert open_incident(runbook, "P3").deadlines() == []
    with pytest.raises(IncidentError, match="P1, P2, P3"):
        open_incident(runbook, "P0")


def test_store_round_trip_prefix_and_current(runbook, tmp_path: Path) -> None:
    store = IncidentStore(tmp_path / "incidents")
    clock = FakeClock()
    first = open_incident(runbook, "P1", clock=clock, title="one")
    store.save(first)
    first_closed = store.update(first.id, lambda i: i.close("done", at=clock.advance(5)))
    second = open_incident(runbook, "P2", clock=FakeClock(T0 + timedelta(hours=1)), title="two")
    store.save(second)
    assert store.resolve_id(None) == second.id
    assert store.load(first.id[:20]).title == "one"
    assert store.load(first.id).to_dict() == first_closed.to_dict()
    store.append(second.id, step_event(second.procedure, 2, "Investigate", "skipped", reason="x"))
    assert store.load("current").events[-1].kind == "step-skipped"
    mode = (store.path_for(second.id).stat().st_mode) & 0o777
    assert mode == 0o600


def test_the_open_incident_of_an_environment_is_never_anothers(runbook, tmp_path: Path) -> None:
    store = IncidentStore(tmp_path / "incidents")
    path = str(PROJECT_RUNBOOK.resolve())
    hours = iter(range(10))

    def opened(environment: str | None, drill: bool = False) -> Incident:
        clock = FakeClock(T0 + timedelta(hours=next(hours)))
        incident = open_incident(runbook, "P1", clock=clock, environment=environment)
        incident.drill = "readiness-failing" if drill else None
        store.save(incident)
        return incident

    development = opened("Development")
    assert store.open_for(path, runbook.sha256, "Production") is None
    production = opened("Production")
    opened("Development", drill=True)  # a drill is nobody's real incident
    assert store.open_for(path, runbook.sha256, "development").id == development.id  # type: ignore[union-attr]
    assert store.open_for(path, runbook.sha256, "Production").id == production.id  # type: ignore[union-attr]
    assert store.open_for("/elsewhere.md", "other text", "Production") is None
    store.update(production.id, lambda i: i.close("fixed"))
    assert store.open_for(path, runbook.sha256, "Production") is None
    anywhere = opened(None)  # names no environment: every environment's
    assert store.open_for(path, runbook.sha256, "Production").id == anywhere.id  # type: ignore[union-attr]


def test_concurrent_appends_lose_nothing(runbook, tmp_path: Path) -> None:
    store = IncidentStore(tmp_path / "incidents")
    incident = open_incident(runbook, "P1")
    store.save(incident)
    code = (
        "import sys; from runbook.incident.store import IncidentStore; "
        "from runbook.incident.timeline import make_event; from pathlib import Path\n"
        "store = IncidentStore(Path(sys.argv[1]))\n"
        "for n in range(20): store.append(sys.argv[2], make_event('note', f'{sys.argv[3]} {n}'))"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", code, str(store.directory), incident.id, name])
        for name in ("a", "b", "c")
    ]
    assert all(w.wait(timeout=60) == 0 for w in writers)
    notes = [e for e in store.load(incident.id).events if e.kind == "note"]
    assert len(notes) == 60


def test_a_lock_held_elsewhere_times_out_with_a_clear_error(runbook, tmp_path: Path) -> None:
    store = IncidentStore(tmp_path / "incidents", lock_timeout_s=0.2)
    incident = open_incident(runbook, "P1")
    store.save(incident)
    busy = rf"incident {incident.id} is busy .*try again"
    with LockHolder(store.lock_path(incident.id)), pytest.raises(IncidentBusy, match=busy):
        store.append(incident.id, make_event("note", "while the CLI writes"))
    store.append(incident.id, make_event("note", "after"))
    assert [e.text for e in store.load(incident.id).events if e.kind == "note"] == ["after"]


def test_a_waiter_gets_the_lock_once_it_is_released(runbook, tmp_path: Path) -> None:
    store = IncidentStore(tmp_path / "incidents", lock_timeout_s=60)
    incident = open_incident(runbook, "P1")
    store.save(incident)
    outcome: list[object] = []
    with LockHolder(store.lock_path(incident.id)) as holder:
        writer = threading.Thread(
            target=lambda: outcome.append(store.append(incident.id, make_event("note", "waited")))
        )
        writer.start()
        holder.release()
        writer.join(timeout=60)
    assert outcome == [None]
    assert [e.text for e in store.load(incident.id).events if e.kind == "note"] == ["waited"]


def test_timeline_filters(runbook) -> None:
    clock = FakeClock()
    incident = open_incident(runbook, "P1", clock=clock, by="alice")
    incident.acknowledge(by="bob", at=clock.advance(10))
    incident.note("disk looks fine", by="bob", at=clock.advance(10))
    incident.record(step_event(incident.procedure, 2, "Check", "done", actor="bob"))
    incident.record(step_event(incident.procedure, 3, "Rollback", "skipped", reason="no deploy"))
    assert [e.kind for e in filter_events(incident.events, kinds=["step-"])] == [
        "step-done",
        "step-skipped",
    ]
    assert [e.kind for e in filter_events(incident.events, actor="BOB", kinds=["note"])] == ["note"]
    assert [e.text for e in filter_events(incident.events, text="DISK")] == ["disk looks fine"]
    since = filter_events(
        incident.events, since=T0 + timedelta(seconds=5), until=T0 + timedelta(seconds=15)
    )
    assert [e.kind for e in since] == ["acknowledged"]


def _history(path: Path, *records: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_recent_deployment_hint_offers_the_p1_rollback_step(runbook, tmp_path: Path) -> None:
    history = _history(
        tmp_path / "deployments.jsonl",
        {
            "time": "2026-11-28T01:00:00Z",
            "action": "deploy",
            "to_version": "v1",
            "outcome": "succeeded",
        },
        {
            "time": "2026-11-28T02:40:00Z",
            "action": "deploy",
            "to_version": "v2",
            "outcome": "succeeded",
            "environment": "prod",
            "user": "dora",
        },
        {
            "time": "2026-11-28T02:50:00Z",
            "action": "deploy",
            "to_version": "v3",
            "outcome": "failed",
        },
    )
    procedure = find_severity(runbook, "P1").procedure
    hint = deployment_hint(runbook, procedure, T0, history)
    assert hint is not None
    assert hint.record["to_version"] == "v2" and int(hint.age_s) == 1200
    assert (hint.procedure, hint.step) == (procedure, 3)
    assert "v2 (prod) 20 min ago by dora" in hint.text
    assert deployment_hint(runbook, procedure, T0 + timedelta(hours=2), history) is None
    # P3's procedure has no rollback step: the rollback procedure itself is offered.
    p3 = deployment_hint(runbook, find_severity(runbook, "P3").procedure, T0, history)
    assert p3 is not None and p3.step is None
    assert p3.procedure is not None and "Rollback" in p3.procedure


def test_console_event_helpers_for_the_panes() -> None:
    from runbook.incident.events import health_event, restart_event, threshold_event

    assert health_event("/ready", False, "expected 200, got 503", 503).text == (
        "/ready failing: expected 200, got 503"
    )
    breach = threshold_event("Error Rate", "critical", "ok", "12.0 %")
    assert breach is not None and breach.kind == "threshold-breach" and breach.actor == "console"
    recovery = threshold_event("Error Rate", "ok", "critical", "0.2 %")
    assert recovery is not None and recovery.kind == "threshold-recovery"
    assert threshold_event("Error Rate", "critical", "critical", "9 %") is None
    assert threshold_event("Error Rate", "ok", "no-data", "0 %") is None
    assert restart_event("web-green", 3).text == "web-green restarted (3 restarts)"


def test_a_resolution_is_not_an_escalation(runbook) -> None:
    clock = FakeClock()
    incident = open_incident(runbook, "P1", clock=clock)
    incident.acknowledge(at=clock.advance(60))
    incident.mitigate(at=clock.advance(240))
    ack, escalate = incident.deadlines(clock.advance(30))
    assert ack.done and ack.state(clock()) == "met"
    assert not escalate.done and escalate.state(clock()) == "moot"
    assert escalate.countdown(clock()) == "not needed: resolved 10:00 early"
    assert "done" not in escalate.countdown(clock())
    assert incident.escalated_at is None
    assert [e.kind for e in incident.events] == ["opened", "acknowledged", "mitigated"]


def test_resolved_after_the_deadline_without_escalating_is_missed(runbook) -> None:
    clock = FakeClock()
    incident = open_incident(runbook, "P1", clock=clock)
    incident.mitigate(at=clock.advance(1200))
    ack, escalate = incident.deadlines(clock.advance(60))
    assert (ack.state(clock()), escalate.state(clock())) == ("missed", "missed")
    assert escalate.countdown(clock()) == "missed: resolved +05:00 late"
    # An escalation that did happen, even after the resolution, is an escalation done late.
    incident.escalate(to="sre-lead", at=clock.advance(60))
    assert [d.state(clock()) for d in incident.deadlines()][1] == "late"


def test_closing_an_unmitigated_incident_invents_no_mitigation(runbook) -> None:
    clock = FakeClock()
    incident = open_incident(runbook, "P1", clock=clock)
    incident.acknowledge(at=clock.advance(60))
    incident.close("false alarm", at=clock.advance(1286))
    assert incident.mitigated_at is None
    assert incident.durations()["mitigate"] is None
    assert incident.durations()["resolve"] == 1346
    assert [e.kind for e in incident.events] == ["opened", "acknowledged", "closed"]
    assert Incident.from_dict(incident.to_dict()).mitigated_at is None


def test_recent_deployment_hint_knows_about_rollbacks(runbook, tmp_path: Path) -> None:
    deploy = {
        "time": "2026-11-28T02:40:00Z",
        "action": "deploy",
        "from_version": "v1",
        "to_version": "v2",
        "outcome": "succeeded",
        "environment": "prod",
        "user": "dora",
    }
    rollback = {
        "time": "2026-11-28T02:55:00Z",
        "action": "rollback-now",
        "from_version": "v2",
        "to_version": "v1",
        "outcome": "succeeded",
        "environment": "prod",
        "user": "erin",
    }
    failed_rollback = {**rollback, "time": "2026-11-28T02:58:00Z", "outcome": "failed"}
    procedure = find_severity(runbook, "P1").procedure

    history = _history(tmp_path / "a" / "deployments.jsonl", deploy)
    hint = deployment_hint(runbook, procedure, T0, history)
    assert hint is not None and not hint.rolled_back and hint.offers_rollback
    assert hint.strip_text(T0) == "Deployed v2 20m ago · b rollback"

    history = _history(tmp_path / "b" / "deployments.jsonl", deploy, rollback, failed_rollback)
    hint = deployment_hint(runbook, procedure, T0, history)
    assert hint is not None and hint.rolled_back and not hint.offers_rollback
    assert (hint.procedure, hint.step) == (None, None)
    assert hint.strip_text(T0) == "Rolled back to v1 5m ago"
    assert hint.text == "Rolled back to v1 (prod) 5 min ago by erin"
    # The age ticks from a given moment, without reading the history again.
    later = T0 + timedelta(minutes=21)
    assert hint.age_at(later) == 26 * 60
    assert hint.strip_text(later) == "Rolled back to v1 26m ago"

    redeploy = {**deploy, "time": "2026-11-28T02:59:00Z", "to_version": "v3"}
    history = _history(tmp_path / "c" / "deployments.jsonl", deploy, rollback, redeploy)
    hint = deployment_hint(runbook, procedure, T0, history)
    assert hint is not None and hint.strip_text(T0) == "Deployed v3 1m ago · b rollback"


def test_acknowledging_ticks_the_acknowledge_step_and_ticking_it_acknowledges(
    runbook,
) -> None:
    from runbook.incident import actions

    clock = FakeClock()
    procedure = runbook.procedure(find_severity(runbook, "P1").procedure)
    assert procedure is not None
    (step,) = [s for s in procedure.steps if s.incident_action == "acknowledge"]

    incident = open_incident(runbook, "P1", clock=clock)
    recorded = actions.acknowledge(incident, procedure, by="alice", at=clock.advance(30))
    assert [e.kind for e in recorded] == ["acknowledged", "step-done"]
    assert recorded[1].data == {"procedure": procedure.key, "step": step.index}
    assert recorded[1].actor == "alice"
    assert actions.ticked_step(recorded) == (procedure.key, step.index)
    assert actions.step_marked(incident, procedure.key, step.index)

    other = open_incident(runbook, "P1", clock=clock)
    recorded = actions.mark_step(other, procedure, step.index, "done", by="bob")
    assert [e.kind for e in recorded] == ["step-done", "acknowledged"]
    assert other.acknowledged_by == "bob"
    # Ticked again, or another step: no second acknowledgement.
    assert len(actions.mark_step(other, procedure, step.index, "done", by="bob")) == 1
    assert len(actions.mark_step(other, procedure, step.index + 1, "done", by="bob")) == 1
    # Skipping the step is not acknowledging.
    third = open_incident(runbook, "P1", clock=clock)
    actions.mark_step(third, procedure, step.index, "skipped", reason="paged twice")
    assert third.acknowledged_at is None


def test_escalating_ticks_the_escalate_step_once(runbook) -> None:
    from runbook.incident import actions

    procedure = runbook.procedure(find_severity(runbook, "P1").procedure)
    assert procedure is not None
    incident = open_incident(runbook, "P1")
    assert [e.kind for e in actions.escalate(incident, procedure, to="sre")] == [
        "escalated",
        "step-done",
    ]
    assert [e.kind for e in actions.escalate(incident, procedure, to="cto")] == ["escalated"]
