"""Incident mode wired into the console: palette start, timeline recording, embedded sandbox,
alert context from the command line."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from console.incident.deadlines import DeadlineBar, DeadlineCountdown
from console.launch import _live_panes, alert_context_for, build_parser
from console.panes.health import HealthPane
from console.panes.observations import ContainerRestarted, HealthChanged, ThresholdCrossed
from console.screens.variables import VariablesScreen
from console.widgets.status_bar import StatusBar
from console.widgets.step_list import StepList
from console.widgets.step_output import StepOutput
from runbook.config import load_config
from runbook.drills.embedded import free_port
from runbook.incident.model import Incident
from tests.required import unavailable
from tests.tui.conftest import (
    PROJECT_RUNBOOK,
    FakeClock,
    MakeConsole,
    palette_offers,
    wait_for_workers,
)
from tests.waiting import wait_until_async as until

OPS = Path(__file__).parent / "fixtures" / "ops.md"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "prometheus-operator"


async def start_from_palette(pilot, app, level: str = "P1") -> Incident:  # type: ignore[no-untyped-def]
    await until(lambda: app.main_screen is not None)
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*f"incident: Start {level}")
    await palette_offers(app, f"incident: Start {level}")
    await pilot.press("enter")
    await until(lambda: app.incidents.incident is not None)
    await pilot.pause()
    incident = app.incidents.incident
    assert incident is not None
    return incident


def recorded(app) -> Incident:  # type: ignore[no-untyped-def]
    """The incident as stored, once the writer has written everything queued."""
    assert app.incidents.writer.wait_idle()
    return app.incidents.store.load(app.incidents.incident.id)


async def test_start_p1_from_the_palette_opens_its_checklist_with_countdowns(
    make_console: MakeConsole, clock: FakeClock
) -> None:
    app = make_console()
    async with app.run_test(size=(120, 36)) as pilot:
        incident = await start_from_palette(pilot, app)
        assert incident.severity == "P1"
        procedure = app.main_screen.query_one(StepList).procedure
        assert procedure is not None and procedure.key == incident.procedure
        assert procedure.title.startswith("P1")
        ack = app.main_screen.query_one(".deadline-acknowledge", DeadlineCountdown)
        escalate = app.main_screen.query_one(".deadline-escalate", DeadlineCountdown)
        assert "05:00 left" in str(ack.render()) and "15:00 left" in str(escalate.render())
        clock.advance(250)
        app.main_screen.query_one(DeadlineBar).tick()
        await pilot.pause()
        assert ack.state == "red" and escalate.state == "ok"
        clock.advance(60)
        app.main_screen.query_one(DeadlineBar).tick()
        await pilot.pause()
        assert ack.state == "due"
        assert any("deadline has passed" in str(n.message) for n in app._notifications)  # noqa: SLF001
        await pilot.press("a")
        await pilot.pause()
        stored = recorded(app)
        assert stored.acknowledged_by == "alice"
        kinds = [event.kind for event in stored.events]
        assert kinds[0] == "opened" and "deadline-due" in kinds and "acknowledged" in kinds
        hint = app.main_screen.query_one("#incident-hint")
        assert "e escalate" in str(hint.render())  # the deployment hint line, with the keys
        await until(lambda: "a ack" not in str(hint.render()), 10, "a is no longer offered")


async def test_ticking_skipping_and_running_steps_land_in_the_timeline(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    folder = tmp_path / "ops"
    folder.mkdir()
    runbook_path = folder / "runbook.md"
    text = OPS.read_text()
    # The ops drill has no severities: give it a P1 whose procedure is "Greet".
    text += (
        "\n## On-Call Procedures\n\n### P1 - Critical (System Down)\n\n"
        "1. Say hello: `echo hello-from-step`\n2. Look around\n3. Write it up\n"
    )
    runbook_path.write_text(text)
    app = make_console(runbook_path)
    async with app.run_test(size=(120, 36)) as pilot:
        incident = await start_from_palette(pilot, app)
        assert incident.procedure.endswith("P1 - Critical (System Down)")
        await pilot.press("r")  # step 1 runs: a command event with its exit status
        await wait_for_workers(app)
        await until(lambda: app.running is None)
        await pilot.press("space")  # step 2 ticked
        await pilot.press("s")
        await pilot.pause()
        await pilot.press(*"not needed", "enter")  # step 3 skipped with a reason
        await pilot.pause()
        stored = recorded(app)
        by_kind = {event.kind: event for event in stored.events}
        command = by_kind["command"]
        assert command.data["exit_code"] == 0 and "echo hello-from-step" in command.text
        assert "hello-from-step" in command.data["output"]
        done = [e for e in stored.events if e.kind == "step-done"]
        assert [e.data["step"] for e in done] == [1, 2] and done[1].actor == "alice"
        assert by_kind["step-skipped"].data["reason"] == "not needed"


async def test_threshold_health_and_restart_messages_land_in_the_timeline(
    make_console: MakeConsole,
) -> None:
    app = make_console()
    async with app.run_test(size=(120, 36)) as pilot:
        app.main_screen.query_one("#pane-live").post_message(
            ThresholdCrossed("Error Rate", "critical", "ok", "7.0 %", "scrape", None)
        )
        await pilot.pause()
        await start_from_palette(pilot, app)  # nothing was recorded before the incident
        app.main_screen.query_one("#pane-live").post_message(
            ThresholdCrossed("Request Latency (p99)", "warning", "ok", "0.7 s", "scrape", None)
        )
        live = app.main_screen.query_one("#pane-live")
        live.post_message(HealthChanged("/ready", False, "expected 200, got 503", 503))
        live.post_message(ContainerRestarted("monkeytown-web-blue", 3))
        await pilot.pause()
        stored = recorded(app)
        breaches = [e for e in stored.events if e.kind == "threshold-breach"]
        assert [e.data["metric"] for e in breaches] == ["Request Latency (p99)"]
        assert breaches[0].actor == "console" and "warning" in breaches[0].text
        kinds = [e.kind for e in stored.events]
        assert kinds[-2:] == ["health-change", "container-restart"]
        assert "/ready failing" in stored.events[-2].text


async def test_embedded_sandbox_when_nothing_answers(
    make_console: MakeConsole, isolated_dirs: Path
) -> None:
    port = free_port()
    config_file = isolated_dirs / "config" / "runbook-console.toml"
    config_file.write_text(
        f'[environments.Development]\nbase_url = "http://127.0.0.1:{port}"\n'
        "[sources]\nhealth_interval_s = 0.5\n"
    )
    app = make_console(PROJECT_RUNBOOK, config=load_config(), live_panes=_live_panes)
    app.embedded.engine_reachable = lambda _host: False
    try:
        async with app.run_test(size=(120, 40)):
            await until(lambda: app.embedded.sandbox is not None, 20)
            await until(lambda: bool(app.main_screen.query(HealthPane)), 5)
            pane = app.main_screen.query_one(HealthPane)
            assert pane.sources.settings.base_url == app.embedded.sandbox.base_url  # type: ignore[union-attr]
            await until(lambda: len(pane._ok) > 0, 15)  # noqa: SLF001
            await until(lambda: all(pane._ok.values()), 15)  # noqa: SLF001
            assert "SANDBOX" in str(app.main_screen.query_one("#live-notice").render())
            assert app.main_screen.query_one(StatusBar).mode == "SANDBOX"
    finally:
        app.embedded.stop()


@pytest.mark.parametrize("environment", ["Production", "Staging"])
async def test_no_sandbox_outside_development(make_console: MakeConsole, environment: str) -> None:
    app = make_console(environment=environment, live_panes=None)
    app.embedded.engine_reachable = lambda _host: False
    async with app.run_test(size=(120, 36)) as pilot:
        await app.embedded.prepare()
        await pilot.pause()
        assert app.embedded.sandbox is None


async def dry_run_text(pilot, app) -> str:  # type: ignore[no-untyped-def]
    await pilot.press("d")
    await until(lambda: isinstance(app.screen, VariablesScreen))
    form = app.screen
    assert all(field.value for field in form.query(Input)), "every variable prefilled"
    for _ in range(5):  # enter moves to the next field, and submits on the last
        if not isinstance(app.screen, VariablesScreen):
            break
        await pilot.press("enter")
        await pilot.pause()
    await wait_for_workers(app)
    await pilot.pause()
    log = app.screen.query_one(StepOutput).log_widget
    return "\n".join(line.text for line in log.lines)


async def test_alert_labels_fill_variables_of_a_corpus_runbook(make_console: MakeConsole) -> None:
    if not CORPUS.is_dir():
        unavailable("../shared/corpus is not beside this checkout")
    args = build_parser().parse_args(
        [str(CORPUS), "--alert", "KubePodCrashLooping", "--label", "namespace=shop"]
        + ["--label", "pod=web-1"]
    )
    context = alert_context_for(args, Path(args.path))
    app = make_console(Path(context.runbook.path or ""))
    context.apply(app.settings)
    assert app.settings.variables["NAMESPACE"] == "shop"
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: app.main_screen is not None)
        procedure = app.main_screen.query_one(StepList).procedure
        assert procedure is not None and procedure.key == context.target.procedure.key  # type: ignore[union-attr]
        assert "kubectl -n shop get pod web-1" in await dry_run_text(pilot, app)


async def test_alert_labels_fill_variables_of_the_project_runbook(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    payload = tmp_path / "webhook.json"
    payload.write_text(
        '{"version": "4", "status": "firing", "alerts": [{"status": "firing", '
        '"labels": {"alertname": "ContainerWontStart", "colour": "green"}}]}'
    )
    args = build_parser().parse_args([str(PROJECT_RUNBOOK), "--payload", str(payload)])
    context = alert_context_for(args, Path(args.path))
    app = make_console(PROJECT_RUNBOOK)
    context.apply(app.settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: app.main_screen is not None)
        procedure = app.main_screen.query_one(StepList).procedure
        assert procedure is not None and procedure.title == "Container Won't Start"
        text = " ".join((await dry_run_text(pilot, app)).split())
        assert "docker logs monkeytown-web-green" in text


async def test_recent_deployment_hint_offers_the_rollback_step(
    make_console: MakeConsole, clock: FakeClock, isolated_dirs: Path
) -> None:
    history = isolated_dirs / "deployment-history"
    history.mkdir(exist_ok=True)
    deployed = (clock.now - timedelta(minutes=12)).isoformat()
    (history / "deployments.jsonl").write_text(
        json.dumps(
            {"time": deployed, "action": "deploy", "outcome": "succeeded", "to_version": "v2.4.1"}
        )
        + "\n"
    )
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await start_from_palette(pilot, app)
        await until(lambda: app.incidents.hint is not None)
        hint = str(app.main_screen.query_one("#incident-hint").render())
        assert "Deployed v2.4.1 12m ago · b rollback" in hint
        await pilot.press("b")
        await pilot.pause()
        steps = app.main_screen.query_one(StepList)
        assert steps.highlighted == 2 and "rollback" in steps.current_step.title.casefold()  # type: ignore[union-attr]


async def test_closing_from_the_timeline_screen_hides_the_countdowns(
    make_console: MakeConsole,
) -> None:
    from console.incident.screen import IncidentScreen

    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        incident = await start_from_palette(pilot, app)
        await pilot.press("i")
        await until(lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"rolled back", "enter")
        await pilot.pause()
        await pilot.press("escape")
        await until(lambda: app.incidents.incident is None)
        assert not app.main_screen.query_one("#incident-strip").has_class("-shown")
        assert app.incidents.store.load(incident.id).resolution == "rolled back"


async def test_palette_acknowledges_the_open_incident(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await start_from_palette(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"incident: Acknowledge")
        await palette_offers(app, "incident: Acknowledge")
        await pilot.press("enter")
        await pilot.pause()
        assert recorded(app).acknowledged_by == "alice"
