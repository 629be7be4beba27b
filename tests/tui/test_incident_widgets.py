"""Incident widgets: countdown colours on a fake clock, due notice once, timeline filter, banner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input

from console.incident import (
    DeadlineBar,
    DeadlineCountdown,
    DrillBanner,
    IncidentPanel,
    TimelinePane,
)
from console.incident.timeline import parse_filter
from console.messages import DeadlineDue
from runbook.document.parser import load
from runbook.incident.events import step_event
from runbook.incident.model import open_incident
from runbook.incident.store import IncidentStore
from tests.tui.conftest import wait_for_workers
from tests.waiting import wait_until_async as until

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = load(REPO / ".monkeytown" / "devops" / "runbook.md")
T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Harness(App[None]):
    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget
        self.due: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_deadline_bar_deadline_due(self, message: DeadlineDue) -> None:
        self.due.append(message.deadline.name)


async def test_countdowns_turn_amber_red_due_and_notify_once() -> None:
    clock = Clock()
    incident = open_incident(RUNBOOK, "P1", clock=clock)
    app = Harness(DeadlineBar(incident, clock=clock, tick_s=3600))
    async with app.run_test(size=(120, 10)) as pilot:
        bar = app.query_one(DeadlineBar)
        ack = app.query_one(".deadline-acknowledge", DeadlineCountdown)
        assert ack.state == "ok" and "05:00 left" in str(ack.render())
        for seconds, state in ((160, "amber"), (250, "red"), (301, "due")):
            clock.now = T0 + timedelta(seconds=seconds)
            bar.tick()
            await pilot.pause()
            assert ack.state == state and ack.has_class(f"-{state}")
        bar.tick()
        await pilot.pause()
        assert app.due == ["acknowledge"]
        incident.acknowledge(at=clock.now)
        await bar.set_incident(incident)
        assert app.query_one(".deadline-acknowledge", DeadlineCountdown).state == "late"


async def test_timeline_filter_by_kind_actor_and_text() -> None:
    incident = open_incident(RUNBOOK, "P1", clock=lambda: T0, by="alice")
    incident.acknowledge(by="bob", at=T0 + timedelta(seconds=5))
    incident.record(
        step_event(incident.procedure, 3, "Rollback", "skipped", reason="no deploy", actor="bob")
    )
    incident.note("disk is fine", by="carol", at=T0 + timedelta(seconds=9))
    app = Harness(TimelinePane(incident.events))
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(DataTable)
        assert table.row_count == 4
        await pilot.click("#timeline-filter")
        await pilot.press(*"kind:step-")
        assert [e.kind for e in app.query_one(TimelinePane).shown] == ["step-skipped"]
        app.query_one(Input).value = "actor:carol disk"
        await pilot.pause()
        assert table.row_count == 1


def test_parse_filter() -> None:
    parsed = parse_filter("kind:step- kind:command actor:bob disk full")
    assert (
        parsed.kinds == ("step-", "command")
        and parsed.actor == "bob"
        and parsed.text == "disk full"
    )


async def test_panel_follows_the_incident_file_and_shows_drill_banner(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path)
    incident = open_incident(RUNBOOK, "P2", title="DRILL: Readiness probe failing", drill="ab12")
    store.save(incident)
    app = Harness(IncidentPanel(incident, store, refresh_s=0.05))
    async with app.run_test(size=(120, 30)):
        banner = app.query_one(DrillBanner)
        assert banner.has_class("-shown") and "DRILL" in str(banner.render())
        store.update(incident.id, lambda i: i.note("from the CLI", by="dave"))
        await until(lambda: app.query_one(DataTable).row_count == 2, 10)
        assert app.query_one(DataTable).row_count == 2


async def test_banner_hidden_outside_drills() -> None:
    app = Harness(DrillBanner())
    async with app.run_test(size=(80, 5)):
        assert not app.query_one(DrillBanner).has_class("-shown")


class ScreenHarness(App[None]):
    def __init__(self, screen) -> None:
        super().__init__()
        self._first = screen

    def on_mount(self) -> None:
        self.push_screen(self._first)


async def test_incident_screen_actions_are_saved(tmp_path: Path) -> None:
    from console.incident.screen import IncidentScreen

    store = IncidentStore(tmp_path / "incidents")
    incident = open_incident(RUNBOOK, "P1", title="api down")
    store.save(incident)
    app = ScreenHarness(IncidentScreen(incident, store, reports_dir=tmp_path / "reports"))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("a")
        await wait_for_workers(app)
        assert store.load(incident.id).acknowledged_at is not None
        await pilot.press("n")
        await wait_for_workers(app)
        await pilot.press(*"saw 502s", "enter")
        await wait_for_workers(app)
        assert store.load(incident.id).events[-1].text == "saw 502s"
        await pilot.press("c")
        await wait_for_workers(app)
        await pilot.press(*"rolled back", "enter")
        await wait_for_workers(app)
        assert store.load(incident.id).resolution == "rolled back"
        await pilot.press("r")
        await wait_for_workers(app)
        report = (tmp_path / "reports" / f"{incident.id}.md").read_text()
        assert report.startswith("# Incident report: api down")
        assert "note: saw 502s" in report


async def test_palette_provider_offers_each_severity(tmp_path: Path, monkeypatch) -> None:
    from console.incident.commands import IncidentCommands

    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(tmp_path))

    class WithRunbook(App[None]):
        COMMANDS = App.COMMANDS | {IncidentCommands}
        runbook = RUNBOOK

    app = WithRunbook()
    async with app.run_test(size=(120, 30)) as pilot:
        provider = IncidentCommands(app.screen)
        titles = [title for title, _, _ in provider._commands()]
        assert "drill: Start crash-loop" in titles
        assert titles[:3] == [
            "incident: Start P1 Critical (System Down)",
            "incident: Start P2 High (Degraded Service)",
            "incident: Start P3 Warning (Degraded Experience)",
        ]
        start_p2 = next(cb for title, _, cb in provider._commands() if "P2" in title)
        start_p2()
        await pilot.pause()
        (saved,) = IncidentStore(tmp_path / "incidents").list()
        assert saved.severity == "P2"
        assert type(app.screen).__name__ == "IncidentScreen"


async def test_incident_screen_report_is_the_cli_report(
    tmp_path: Path, isolated_dirs: Path
) -> None:
    """The TUI's `r` and `runbook-console report` build the same report: the rollback
    recorded during the incident is listed by both."""
    import json
    import os
    import subprocess
    import sys

    from console.incident.screen import IncidentScreen

    now = datetime.now(UTC)
    history = isolated_dirs / "deployment-history" / "deployments.jsonl"
    history.parent.mkdir(parents=True)
    record = {
        "time": now.isoformat(),
        "action": "rollback-now",
        "from_version": "v2",
        "to_version": "v1",
        "outcome": "succeeded",
        "environment": "prod",
        "user": "bob",
    }
    history.write_text(json.dumps(record) + "\n")
    store = IncidentStore(Path(os.environ["RUNBOOK_STATE_DIR"]) / "incidents")
    incident = open_incident(RUNBOOK, "P1", title="api down", clock=lambda: now)
    incident.close("rolled back", at=now + timedelta(seconds=5))
    store.save(incident)
    app = ScreenHarness(IncidentScreen(incident, store, reports_dir=tmp_path / "reports"))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("r")
        await pilot.pause()
        path = tmp_path / "reports" / f"{incident.id}.md"
        assert path.is_file()
        tui_report = path.read_text()
    cli = subprocess.run(
        [sys.executable, "-m", "console.cli", "report", incident.id],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert "rollback-now | prod | v2 -> v1 | succeeded | bob" in tui_report
    assert tui_report == cli.stdout


def test_a_deadline_the_resolution_ended_is_not_shown_as_done() -> None:
    incident = open_incident(RUNBOOK, "P1", title="api down", clock=lambda: T0)
    incident.acknowledge(at=T0 + timedelta(minutes=1))
    incident.mitigate(at=T0 + timedelta(minutes=4))
    now = T0 + timedelta(minutes=30)
    ack, escalate = incident.deadlines(now)
    assert DeadlineCountdown(ack, labels="tiny").text(now) == "Ack done"
    assert DeadlineCountdown(escalate, labels="tiny").text(now) == "Escalate not needed"
    assert DeadlineCountdown(escalate).text(now) == (
        "Escalate if not resolved within 15 minutes: not needed: resolved 11:00 early"
    )
