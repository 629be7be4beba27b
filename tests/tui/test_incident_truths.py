"""What the incident strip and checklist say is true (issue 12, items 7-9): the deployment
hint knows rollbacks and its age ticks; acknowledging ticks the acknowledge step; the
gauges the operator sees are recorded at open, mitigation and close."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from console.widgets.step_list import StepList
from tests.tui.conftest import FakeClock, MakeConsole, palette_offers
from tests.tui.test_incident_wiring import recorded, start_from_palette
from tests.waiting import wait_until_async as until


def write_history(isolated_dirs: Path, *records: dict[str, object]) -> None:
    history = isolated_dirs / "deployment-history"
    history.mkdir(exist_ok=True)
    (history / "deployments.jsonl").write_text(
        "".join(json.dumps({"outcome": "succeeded", **r}) + "\n" for r in records)
    )


def hint_text(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.main_screen.query_one("#incident-hint").render())


async def test_after_a_rollback_the_hint_says_so_and_offers_no_rollback(
    make_console: MakeConsole, clock: FakeClock, isolated_dirs: Path
) -> None:
    write_history(
        isolated_dirs,
        {
            "time": (clock.now - timedelta(minutes=12)).isoformat(),
            "action": "deploy",
            "to_version": "v2",
        },
        {
            "time": (clock.now - timedelta(minutes=3)).isoformat(),
            "action": "rollback-now",
            "to_version": "v1",
        },
    )
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await start_from_palette(pilot, app)
        await until(lambda: "Rolled back" in hint_text(app))
        assert "Rolled back to v1 3m ago" in hint_text(app)
        assert "b rollback" not in hint_text(app)
        assert app.main_screen.check_action("rollback", ()) is False
        assert not app.main_screen.query_one("#incident-hint").has_class("-recent")
        steps = app.main_screen.query_one(StepList)
        before = steps.highlighted
        await pilot.press("b")
        await pilot.pause()
        assert steps.highlighted == before


async def test_a_rollback_made_during_the_incident_reaches_the_hint(
    make_console: MakeConsole,
    clock: FakeClock,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import console.incident_bridge

    monkeypatch.setattr(console.incident_bridge, "HINT_RECHECK_S", 0.0)  # read at every tick
    deploy = {"time": (clock.now - timedelta(minutes=2)).isoformat(), "action": "deploy"}
    write_history(isolated_dirs, {**deploy, "to_version": "v2"})
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await start_from_palette(pilot, app)
        await until(lambda: "Deployed v2 2m ago · b rollback" in hint_text(app))
        # `make rollback-now`, from this console's checklist or another terminal.
        rollback = {"time": clock.now.isoformat(), "action": "rollback-now", "to_version": "v1"}
        write_history(isolated_dirs, {**deploy, "to_version": "v2"}, rollback)
        app.tick_clock()
        await until(lambda: "Rolled back to v1" in hint_text(app))
        assert "b rollback" not in hint_text(app)
        assert app.main_screen.check_action("rollback", ()) is False
        said = [n.title for n in app._notifications]  # noqa: SLF001
        assert said.count("Recent deployment?") == 1 and said.count("Rolled back") == 1
        app.tick_clock()  # read again, nothing new: nothing said twice
        await pilot.pause()
        said = [n.title for n in app._notifications]  # noqa: SLF001
        assert said.count("Rolled back") == 1


async def test_the_hint_age_ticks_with_the_clock(
    make_console: MakeConsole, clock: FakeClock, isolated_dirs: Path
) -> None:
    write_history(
        isolated_dirs,
        {
            "time": (clock.now - timedelta(minutes=12)).isoformat(),
            "action": "deploy",
            "to_version": "v2",
        },
    )
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await start_from_palette(pilot, app)
        await until(lambda: "12m ago" in hint_text(app))
        clock.advance(9 * 60)
        app.tick_clock()
        await until(lambda: "21m ago" in hint_text(app))
        assert "Deployed v2 21m ago · b rollback" in hint_text(app)
        assert app.main_screen.check_action("rollback", ()) is True


def checklist_row(app, index: int) -> str:  # type: ignore[no-untyped-def]
    prompt = app.main_screen.query_one(StepList).get_option_at_index(index - 1).prompt
    return str(getattr(prompt, "plain", prompt))


@pytest.mark.parametrize("how", ["key", "palette"])
async def test_acknowledging_ticks_the_acknowledge_step_once(
    make_console: MakeConsole, how: str
) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        incident = await start_from_palette(pilot, app)
        steps = app.main_screen.query_one(StepList)
        total = len(steps.procedure.steps)  # type: ignore[union-attr]
        assert steps.border_subtitle.startswith(f"0/{total} done")  # type: ignore[union-attr]
        if how == "key":
            await pilot.press("a")
        else:
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"incident: Acknowledge")
            await palette_offers(app, "incident: Acknowledge")
            await pilot.press("enter")
        await until(lambda: app.progress.record(incident.procedure, 1).status == "done")
        await pilot.pause()
        assert "✓" in checklist_row(app, 1)
        assert steps.border_subtitle.startswith(f"1/{total} done")  # type: ignore[union-attr]
        kinds = [e.kind for e in recorded(app).events]
        assert kinds.count("acknowledged") == 1 and kinds.count("step-done") == 1
        assert app.incidents.incident.acknowledged_by == "alice"  # type: ignore[union-attr]


async def test_the_incident_screens_acknowledge_and_escalate_tick_their_steps(
    make_console: MakeConsole,
) -> None:
    from console.incident.screen import IncidentScreen

    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        incident = await start_from_palette(pilot, app)
        await pilot.press("i")
        await until(lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("a")
        await until(lambda: app.progress.record(incident.procedure, 1).status == "done")
        await pilot.press("e")
        await pilot.pause()
        await pilot.press(*"sre-lead", "enter")
        await until(lambda: app.progress.record(incident.procedure, 5).status == "done")
        stored = recorded(app)
        assert stored.acknowledged_by == "alice" and stored.escalated_at is not None
        done = [e.data["step"] for e in stored.events if e.kind == "step-done"]
        assert done == [1, 5]
        await pilot.press("escape")
        await until(lambda: app.screen is app.main_screen)
        assert "✓" in checklist_row(app, 1) and "✓" in checklist_row(app, 5)


async def test_the_gauges_on_screen_are_recorded_at_open_mitigation_and_close(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    import httpx

    from console.incident.screen import IncidentScreen
    from console.panes.gauges import GaugesPane
    from console.widgets.live_column import LiveColumn
    from runbook.sources.live import LiveSources
    from runbook.sources.settings import SourceSettings
    from tests.tui.test_live_panes import FakePrometheus, health_handler

    app = make_console()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: app.main_screen is not None)
        settings = SourceSettings(
            docker_host=f"unix://{tmp_path}/no-docker.sock",
            base_url="http://service.test",
            prometheus_url="http://prom.test",
            prometheus_interval_s=0.2,
        )
        sources = LiveSources.create(app.runbook, settings)
        fake = FakePrometheus()
        fake.values = {"Memory Usage": 97.0, "CPU Usage": 20.0}
        sources.prometheus = fake  # type: ignore[assignment]
        sources.prober.client_factory = lambda: httpx.AsyncClient(
            transport=httpx.MockTransport(health_handler)
        )
        gauges = GaugesPane(sources, id="pane-live")
        await app.main_screen.query_one(LiveColumn).replace(gauges)
        await until(lambda: any(r.value == 97.0 for r in app.incidents.readings))

        incident = await start_from_palette(pilot, app)
        fake.values = {"Memory Usage": 41.0, "CPU Usage": 20.0}
        await until(lambda: any(r.value == 41.0 for r in app.incidents.readings))
        await pilot.press("i")
        await until(lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("m")
        await until(lambda: app.incidents.store.load(incident.id).mitigated_at is not None)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"restarted", "enter")
        await until(lambda: not app.incidents.store.load(incident.id).is_open)

        stored = app.incidents.store.load(incident.id)
        readings = {
            e.data["moment"]: e.data["readings"] for e in stored.events if e.kind == "readings"
        }
        memory = {
            moment: [r for r in rs if r["metric"] == "Memory Usage"]
            for moment, rs in readings.items()
        }
        assert memory["open"][0]["value"] == 97.0
        assert memory["mitigation"][0]["value"] == 41.0
        assert memory["close"][0]["value"] == 41.0
        assert all(v.metric in {r["metric"] for r in readings["close"]} for v in gauges.values)
