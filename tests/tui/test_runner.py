"""One step runner: container actions follow the same rules as checklist steps (the lock and
its holder, read-only, one at a time, the audit and the incident timeline).

The containers pane watches an engine that is not there (a missing socket), so its rows
come from posted events and `docker` fails when it runs: it still runs, for real, through
the executor's supervisor, so the lock, the audit and the timeline are the real ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from console.app import RunbookConsole
from console.messages import StepFinished
from console.panes.containers import ContainersPane
from console.panes.dock import LivePanes
from console.panes.live_table import LiveTablePane
from console.panes.messages import DockerEventArrived
from console.panes.quiet import QuietTable
from console.panes.services import ServicesPane
from console.runner import CONTAINERS
from console.screens.confirm import ConfirmScreen
from console.widgets.step_list import StepList
from console.widgets.step_output import StepOutput
from runbook.execution.locks import read_holder
from runbook.incident.model import Incident
from runbook.sources.docker.containers import ContainerInfo, ContainersListed
from runbook.sources.live import LiveSources
from runbook.sources.services import ServiceInfo, ServicesListed
from runbook.sources.settings import SourceSettings
from tests.tui.conftest import MakeConsole
from tests.waiting import wait_until_async as until

OPS = Path(__file__).parent / "fixtures" / "ops.md"
P1 = (
    "\n## On-Call Procedures\n\n### P1 - Critical (System Down)\n\n"
    "1. Mark it: `mkdir -p marked`\n2. Look around\n"
)
WEB = ContainerInfo(
    "c0ffee000001", "web-blue", "monkeytown-web:v2", "running", "healthy", time.time() - 120, 1
)
HOLD_LOCK = """
import os, sys
from pathlib import Path
from runbook.execution.locks import EnvironmentLock, LockHolder
holder = LockHolder(user="bob", pid=os.getpid(), since="2026-01-17T03:00:00+00:00",
                    environment=sys.argv[2], procedure="Emergency Rollback", step=1)
lock = EnvironmentLock.acquire(Path(sys.argv[1]), holder)
print("held", flush=True)
sys.stdin.read()
"""
"""Another console: holds the environment's lock until its stdin closes."""


@pytest.fixture
def ops_p1(tmp_path: Path) -> Path:
    """The ops drill with a P1 whose first step changes something (commands run there)."""
    folder = tmp_path / "ops"
    folder.mkdir()
    path = folder / "runbook.md"
    path.write_text(OPS.read_text() + P1)
    return path


def engine_less_panes(tmp_path: Path, orchestrator: str = "docker") -> Callable[[Any], LivePanes]:
    """Live panes whose Docker engine is a missing socket and whose health is answered here."""

    def build(console: Any) -> LivePanes:
        settings = SourceSettings(
            environment=console.environment,
            orchestrator=orchestrator,
            docker_host=f"unix://{tmp_path}/no-docker.sock",
            base_url="http://service.test",
            health_interval_s=60.0,
        )
        sources = LiveSources.create(console.runbook, settings)
        sources.prober.client_factory = lambda: httpx.AsyncClient(
            transport=httpx.MockTransport(lambda _request: httpx.Response(200))
        )
        return LivePanes(
            console.runbook, settings, sources, config=console.settings.config, id="pane-live"
        )

    return build


P = TypeVar("P", bound=LiveTablePane)


def console_with_containers(
    make_console: MakeConsole,
    path: Path,
    tmp_path: Path,
    orchestrator: str = "docker",
    **overrides: object,
) -> RunbookConsole:
    app = make_console(path, live_panes=engine_less_panes(tmp_path, orchestrator), **overrides)
    app.embedded.engine_reachable = lambda _host: True  # no local sandbox service
    return app


async def select_row(app: RunbookConsole, kind: type[P], listed: object) -> P:
    """Wait for the live pane `kind` and its table, list `listed` in it, and focus its row."""

    def mounted() -> bool:
        screen = app.main_screen
        return screen is not None and any(pane.query(QuietTable) for pane in screen.query(kind))

    await until(mounted)
    assert app.main_screen is not None
    pane = app.main_screen.query_one(kind)
    pane.post_message(DockerEventArrived(listed))
    await until(lambda: pane.table.row_count == 1)
    pane.table.focus()
    return pane


async def select_container(pilot, app: RunbookConsole) -> ContainersPane:  # type: ignore[no-untyped-def]
    return await select_row(app, ContainersPane, ContainersListed((WEB,)))


async def select_service(pilot, app: RunbookConsole) -> ServicesPane:  # type: ignore[no-untyped-def]
    web = ServiceInfo("5e4b1ce00001abcd", "web", "monkeytown-web:v2", running=1, desired=1)
    return await select_row(app, ServicesPane, ServicesListed((web,), ()))


def shows_p1(app: RunbookConsole) -> bool:
    procedure = app.screen.query_one(StepList).procedure
    return procedure is not None and procedure.title.startswith("P1")


async def confirm_screen(pilot, app: RunbookConsole) -> ConfirmScreen:  # type: ignore[no-untyped-def]
    await until(lambda: isinstance(app.screen, ConfirmScreen))
    assert isinstance(app.screen, ConfirmScreen)
    return app.screen


async def finished(pilot, messages: list[object], key: str) -> StepFinished:  # type: ignore[no-untyped-def]
    def found() -> list[StepFinished]:
        return [m for m in messages if isinstance(m, StepFinished) and m.procedure_key == key]

    await until(lambda: bool(found()), 20)
    return found()[-1]


def notified(app: RunbookConsole) -> list[str]:
    return [str(n.message) for n in app._notifications]  # noqa: SLF001


def timeline(app: RunbookConsole) -> Incident:
    assert app.incidents.writer.wait_idle()
    assert app.incidents.incident is not None
    return app.incidents.store.load(app.incidents.incident.id)


@contextmanager
def lock_held_by_another_console(app: RunbookConsole) -> Iterator[str]:
    """Another process holds the console's environment lock; yields how the lock reads."""
    lock_dir = app.settings.config.lock_dir
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_dir), app.environment],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "held"
        holder = read_holder(lock_dir, app.environment)
        assert holder is not None and holder.user == "bob"
        yield holder.describe()
    finally:
        process.stdin.close()
        process.wait(10)


async def test_a_container_action_is_refused_like_a_step_while_another_console_holds_the_lock(
    make_console: MakeConsole, ops_p1: Path, tmp_path: Path
) -> None:
    messages: list[object] = []
    app = console_with_containers(make_console, ops_p1, tmp_path)
    async with app.run_test(size=(200, 60), message_hook=messages.append) as pilot:
        await until(lambda: app.main_screen is not None)
        app.incidents.start("P1")
        await until(lambda: app.incidents.incident is not None)
        await until(lambda: shows_p1(app))  # the incident's procedure opened (it takes focus)
        with lock_held_by_another_console(app) as held:
            assert held.startswith(f"{app.environment} is locked by bob since ")
            await select_container(pilot, app)
            await pilot.press("R")
            shown_for_action = (await confirm_screen(pilot, app)).request.lock_note
            await pilot.press("y")
            action = await finished(pilot, messages, CONTAINERS)
            said = f"docker restart web-blue refused: {action.detail}"
            await until(lambda: said in notified(app))

            steps = app.screen.query_one(StepList)
            assert steps.procedure is not None and steps.procedure.title.startswith("P1")
            assert steps.current_step is not None and steps.current_step.index == 1
            steps.focus()
            await pilot.press("r")
            shown_for_step = (await confirm_screen(pilot, app)).request.lock_note
            await pilot.press("y")
            step = await finished(pilot, messages, steps.procedure.key)
            said = f"Step 1 refused: {step.detail}"
            await until(lambda: said in notified(app))

        assert shown_for_action == shown_for_step == held, "both dialogs name the holder"
        assert (action.status, action.detail) == (step.status, step.detail) == ("refused", held)
        commands = [e for e in timeline(app).events if e.kind == "command"]
        assert [e.data["status"] for e in commands] == ["refused", "refused"]
        assert " restart c0ffee000001" in commands[0].text
        assert "mkdir -p marked" in commands[1].text
        assert app.running is None


async def test_an_allowed_container_action_lands_in_the_incident_timeline_and_ticks_nothing(
    make_console: MakeConsole, ops_p1: Path, tmp_path: Path
) -> None:
    messages: list[object] = []
    app = console_with_containers(make_console, ops_p1, tmp_path)
    async with app.run_test(size=(200, 60), message_hook=messages.append) as pilot:
        await until(lambda: app.main_screen is not None)
        app.incidents.start("P1")
        await until(lambda: app.incidents.incident is not None)
        await until(lambda: shows_p1(app))  # the incident's procedure opened (it takes focus)
        incident = app.incidents.incident
        assert incident is not None
        await select_container(pilot, app)
        await pilot.press("R")
        confirm = await confirm_screen(pilot, app)
        assert confirm.request.title == "docker restart web-blue"
        assert confirm.request.lock_note == ""
        await pilot.press("y")
        done = await finished(pilot, messages, CONTAINERS)
        assert done.status in ("succeeded", "failed")  # it ran (no engine answers here)

        stored = timeline(app)
        command = next(e for e in stored.events if e.kind == "command")
        # The configured engine is named in the command, so the audit says where it ran.
        engine = f"unix://{tmp_path}/no-docker.sock"
        assert command.data["commands"] == [f"docker --host {engine} restart c0ffee000001"]
        assert command.data["exit_code"] is not None and command.actor == "alice"
        assert not [e for e in stored.events if e.kind.startswith("step-")]
        procedure = app.runbook.procedure(incident.procedure)
        assert procedure is not None
        assert {app.progress.record(procedure.key, s.index).status for s in procedure.steps} == {
            "pending"
        }
        audit = app.settings.config.audit_file.read_text()
        assert f"docker --host {engine} restart c0ffee000001" in audit
        title = str(app.screen.query_one("#output-title").render())
        assert title.startswith("docker restart web-blue ")
        log = app.screen.query_one(StepOutput).log_widget
        shown = [line.text for line in log.lines]
        assert any("Cannot connect to the Docker daemon" in text for text in shown), shown


async def test_a_service_action_takes_the_same_path_refused_under_the_lock_then_audited(
    make_console: MakeConsole, ops_p1: Path, tmp_path: Path
) -> None:
    messages: list[object] = []
    app = console_with_containers(make_console, ops_p1, tmp_path, orchestrator="swarm")
    async with app.run_test(size=(200, 60), message_hook=messages.append) as pilot:
        await until(lambda: app.main_screen is not None)
        with lock_held_by_another_console(app) as held:
            await select_service(pilot, app)
            await pilot.press("R")
            confirm = await confirm_screen(pilot, app)
            assert confirm.request.title == "docker service restart web"
            assert confirm.request.lock_note == held
            await pilot.press("y")
            refused = await finished(pilot, messages, CONTAINERS)
            assert (refused.status, refused.detail) == ("refused", held)
        messages.clear()
        await pilot.press("R")
        await confirm_screen(pilot, app)
        await pilot.press("y")
        done = await finished(pilot, messages, CONTAINERS)
        assert done.status in ("succeeded", "failed")  # it ran (no engine answers here)
        engine = f"unix://{tmp_path}/no-docker.sock"
        audit = app.settings.config.audit_file.read_text()
        assert f"docker --host {engine} service update --force --detach 5e4b1ce00001" in audit


async def test_read_only_refuses_a_container_restart_in_words_and_runs_inspect(
    make_console: MakeConsole, ops_p1: Path, tmp_path: Path
) -> None:
    messages: list[object] = []
    app = console_with_containers(make_console, ops_p1, tmp_path, read_only=True)
    async with app.run_test(size=(200, 60), message_hook=messages.append) as pilot:
        await select_container(pilot, app)
        await pilot.press("R")
        refusal = "Read-only console: docker restart web-blue changes things and is not run here."
        await until(lambda: refusal in notified(app))
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.running is None
        assert not [m for m in messages if isinstance(m, StepFinished)]
        audit = app.settings.config.audit_file
        runs = app.settings.config.runs_dir
        assert not audit.exists() and not (runs.exists() and any(runs.iterdir()))

        await pilot.press("I")  # read-only: runs at once, audited
        done = await finished(pilot, messages, CONTAINERS)
        assert done.status in ("succeeded", "failed")
        records = [json.loads(line) for line in audit.read_text().splitlines()]
        assert records and all(" inspect c0ffee000001" in str(r) for r in records)


async def test_one_at_a_time_a_container_action_waits_for_the_running_step(
    make_console: MakeConsole, ops_p1: Path, tmp_path: Path
) -> None:
    messages: list[object] = []
    app = console_with_containers(make_console, ops_p1, tmp_path)
    async with app.run_test(size=(200, 60), message_hook=messages.append) as pilot:
        await until(lambda: app.main_screen is not None)
        slow = app.runbook.procedure("Slow")
        assert slow is not None
        main = app.main_screen
        assert main is not None
        main.jump_to(slow.key)
        await pilot.pause()
        main.query_one(StepList).focus()
        await pilot.press("r")
        await until(lambda: app.progress.record(slow.key, 1).status == "running")
        await select_container(pilot, app)
        await pilot.press("R")
        busy = "Step 1 is still running: one step at a time (c cancels)."
        await until(lambda: busy in notified(app))
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.running == (slow.key, 1)
        main.query_one(StepList).focus()
        await pilot.press("c")
        cancelled = await finished(pilot, messages, slow.key)
        assert cancelled.status == "cancelled"
        assert not [m for m in messages if isinstance(m, StepFinished) and m.step_index == 0]
        audit = app.settings.config.audit_file.read_text()
        assert "docker restart" not in audit


async def test_the_palette_runs_the_selected_step_through_the_runner(
    make_console: MakeConsole, ops_p1: Path
) -> None:
    messages: list[object] = []
    app = make_console(ops_p1)
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        await until(lambda: app.main_screen is not None)
        slow = app.runbook.procedure("Slow")
        assert slow is not None and app.main_screen is not None
        app.main_screen.jump_to(slow.key)
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"step: Run selected")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(lambda: app.running == (slow.key, 1))
        assert app.session_state == "running step 1"
        app.runner.cancel()
        cancelled = await finished(pilot, messages, slow.key)
        assert cancelled.status == "cancelled" and app.running is None


async def test_a_drill_step_waits_for_the_running_step_too(
    make_console: MakeConsole, ops_p1: Path, project_runbook: Path, tmp_path: Path
) -> None:
    from console.messages import DrillStepRan, DrillStepRequested
    from runbook.config import Config, ExecutionConfig
    from runbook.document.parser import load
    from runbook.drills.runner import Drill
    from runbook.drills.sandboxes import ProcessSandbox
    from runbook.drills.scenarios import find_scenario

    drill = Drill(  # never started: the runner refuses before it touches the sandbox
        find_scenario("readiness-failing"),
        load(project_runbook),
        sandbox=ProcessSandbox("busy", project_runbook.parents[2], tmp_path / "sandbox"),
        config=Config(execution=ExecutionConfig(state_dir=str(tmp_path / "drill-state"))),
    )
    messages: list[object] = []
    app = make_console(ops_p1)
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        await until(lambda: app.main_screen is not None)
        slow = app.runbook.procedure("Slow")
        assert slow is not None and app.main_screen is not None
        app.main_screen.jump_to(slow.key)
        await pilot.pause()
        await pilot.press("r")
        await until(lambda: app.running == (slow.key, 1))
        app.screen.post_message(DrillStepRequested(drill, 1, app.screen))
        await until(lambda: any(isinstance(m, DrillStepRan) for m in messages))
        ran = next(m for m in messages if isinstance(m, DrillStepRan))
        assert (ran.index, ran.result.status) == (1, "refused")
        assert "Step 1 is still running: one step at a time (c cancels)." in notified(app)
        assert app.running == (slow.key, 1)
        app.runner.cancel()
        assert (await finished(pilot, messages, slow.key)).status == "cancelled"


async def test_a_container_action_while_a_step_is_prepared_is_refused_and_the_step_goes_on(
    make_console: MakeConsole, ops_p1: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tui.test_prepare_huge import HeldPlan

    messages: list[object] = []
    app = console_with_containers(make_console, ops_p1, tmp_path)
    async with app.run_test(size=(200, 60), message_hook=messages.append) as pilot:
        await until(lambda: app.main_screen is not None)
        slow = app.runbook.procedure("Slow")
        assert slow is not None
        main = app.main_screen
        assert main is not None
        main.jump_to(slow.key)
        await pilot.pause()
        main.query_one(StepList).focus()
        held = HeldPlan(app.runner.driver.plan)
        monkeypatch.setattr(app.runner.driver, "plan", held)
        await pilot.press("r")
        await until(held.entered.is_set, what="step 1 is being prepared")
        await select_container(pilot, app)
        await pilot.press("R")
        await until(lambda: "Step 1 is being prepared: one at a time." in notified(app))
        held.released.set()
        await until(lambda: app.progress.record(slow.key, 1).status == "running")
        assert held.calls == 1 and not isinstance(app.screen, ConfirmScreen)
        main.query_one(StepList).focus()
        await pilot.press("c")
        cancelled = await finished(pilot, messages, slow.key)
        assert cancelled.status == "cancelled"
        assert "docker restart" not in app.settings.config.audit_file.read_text()
