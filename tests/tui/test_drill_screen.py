"""The drill screen, on the real engine and as local processes: start, run the fix from the
list, finish with a score."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.app import App

from console.incident.drill_screen import DrillScreen
from console.panes.containers import ContainersPane
from console.panes.dock import LivePanes
from runbook.config import Config, ExecutionConfig
from runbook.document.parser import load
from runbook.drills.runner import Drill
from runbook.drills.sandboxes import DockerSandbox, ProcessSandbox, engine_reachable
from runbook.drills.scenarios import find_scenario
from runbook.incident.store import IncidentStore
from tests.required import unavailable
from tests.waiting import wait_until_async as until

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


class Harness(App[None]):
    def __init__(self, screen: DrillScreen) -> None:
        super().__init__()
        self._drill_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._drill_screen)


@pytest.mark.parametrize("runtime", ["docker", "local"])
async def test_drill_screen_readiness_fixed_from_the_step_list(
    tmp_path: Path, runtime: str
) -> None:
    if runtime == "docker" and not engine_reachable():
        unavailable("Docker engine not reachable (run: bash scripts/services.sh)")
    kind = DockerSandbox if runtime == "docker" else ProcessSandbox
    drill = Drill(
        find_scenario("readiness-failing"),
        load(REPO / ".monkeytown" / "devops" / "runbook.md"),
        sandbox=kind(f"ui{os.getpid() % 10000}", REPO, tmp_path / "sandbox"),
        config=Config(execution=ExecutionConfig(state_dir=str(tmp_path / "state"))),
        store=IncidentStore(tmp_path / "incidents"),
        trainee="pilot",
    )
    screen = DrillScreen(drill)
    app = Harness(screen)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.screen.query_one("#drill-banner").has_class("-shown")
            await until(
                lambda: drill.incident is not None and app.screen.query("IncidentPanel"), 60
            )
            assert drill.incident is not None, "the drill did not start"
            live = app.screen.query_one("#drill-live", LivePanes)
            assert live.settings.base_url == drill.sandbox.base_url
            assert live.settings.environment == drill.sandbox.environment
            assert bool(live.query(ContainersPane)) == (runtime == "docker")
            await pilot.press("enter")  # step 1: ./deploy/update-config.sh prod
            await until(lambda: drill.mitigated and not screen.busy, 60)
            assert drill.mitigated
            await until(lambda: screen.mitigation_shown, 10)
            assert "Mitigated" in str(app.screen.query_one("#drill-status").render())
            await pilot.press("f")
            await until(lambda: screen.score is not None, 30)
            assert screen.score is not None and screen.score.points == 100
            status = str(app.screen.query_one("#drill-status").render())
            assert "readiness-failing: mitigated, 100 points" in status
    finally:
        drill.abort()
