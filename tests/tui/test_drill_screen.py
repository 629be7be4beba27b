"""The drill screen, on the real engine and as local processes: start, run the fix from the
list, finish with a score."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Label

from console.incident.drill_screen import DrillScreen
from console.panes.containers import ContainersPane
from console.panes.dock import LivePanes
from console.panes.gauges import GaugesPane
from console.screens.confirm import ConfirmScreen
from runbook.config import Config, ExecutionConfig
from runbook.document.parser import load
from runbook.drills.runner import Drill
from runbook.drills.sandboxes import DockerSandbox, ProcessSandbox, engine_reachable
from runbook.drills.scenarios import find_scenario
from runbook.incident.store import IncidentStore
from tests.drill_config import QUICK_GAUGES
from tests.required import unavailable
from tests.tui.conftest import MakeConsole
from tests.waiting import wait_until_async as until

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"


@pytest.mark.parametrize("runtime", ["docker", "local"])
async def test_drill_screen_readiness_fixed_from_the_step_list(
    make_console: MakeConsole, tmp_path: Path, runtime: str
) -> None:
    if runtime == "docker" and not engine_reachable():
        unavailable("Docker engine not reachable (run: bash scripts/services.sh)")
    kind = DockerSandbox if runtime == "docker" else ProcessSandbox
    drill = Drill(
        find_scenario("readiness-failing"),
        load(RUNBOOK),
        sandbox=kind(f"ui{os.getpid() % 10000}", REPO, tmp_path / "sandbox"),
        config=Config(
            execution=ExecutionConfig(state_dir=str(tmp_path / "state")), sources=QUICK_GAUGES
        ),
        store=IncidentStore(tmp_path / "incidents"),
        trainee="pilot",
    )
    screen = DrillScreen(drill)
    app = make_console(RUNBOOK)  # the console's step runner runs the drill's steps
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await app.push_screen(screen)
            assert app.screen.query_one("#drill-banner").has_class("-shown")
            await until(
                lambda: drill.incident is not None and app.screen.query("IncidentPanel"), 60
            )
            assert drill.incident is not None, "the drill did not start"
            live = app.screen.query_one("#drill-live", LivePanes)
            # Mounted beside the incident panel; its panes are composed a moment later.
            await until(lambda: bool(live.query("#live-health")), 30, "the live panes")
            assert live.settings.base_url == drill.sandbox.base_url
            assert live.settings.environment == drill.sandbox.environment
            assert bool(live.query(ContainersPane)) == (runtime == "docker")
            await pilot.press("a")  # acknowledge: an unacknowledged drill cannot score 100
            await pilot.press("enter")  # step 1: ./deploy/update-config.sh prod
            # The same confirmation as a real incident's, marked DRILL: declined, nothing ran.
            await until(lambda: isinstance(app.screen, ConfirmScreen))
            assert app.screen.request.drill  # type: ignore[attr-defined]
            assert "[DRILL]" in str(app.screen.query_one("#confirm-title", Label).render())
            await pilot.press("n")
            await until(lambda: not screen.busy)
            assert not drill.mitigated
            assert "not confirmed" in str(app.screen.query_one("#drill-status").render())
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await until(lambda: drill.mitigated and not screen.busy, 60)
            assert drill.mitigated
            await until(lambda: screen.mitigation_shown, 10)
            assert "Mitigated" in str(app.screen.query_one("#drill-status").render())
            gauges = live.query_one(GaugesPane)
            assert gauges.sources.settings.hysteresis == drill.checks.hysteresis
            assert not [v for v in gauges.values if v.state in ("warning", "critical")]
            await pilot.press("f")
            await until(lambda: screen.score is not None, 30)
            assert screen.score is not None and screen.score.points == 100
            status = str(app.screen.query_one("#drill-status").render())
            assert "readiness-failing: mitigated, 100 points" in status
    finally:
        drill.abort()
