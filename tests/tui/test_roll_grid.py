"""A step that rolls across hosts, in the console: it runs through the one step runner, the
output pane shows a grid of host × state, the checklist row the roll's state, and `c`
cancels the running host and skips the others. The engines are names only (the commands
read `RUNBOOK_ROLL_HOST`); tests/integration/test_roll_engines.py runs docker on real ones."""

from __future__ import annotations

from pathlib import Path

from console.messages import RollHostChanged, StepFinished
from console.widgets.roll_grid import RollGrid
from console.widgets.step_list import StepList
from console.widgets.step_output import StepOutput
from runbook.config import Config, EnvironmentConfig
from tests.tui.conftest import MakeConsole
from tests.waiting import wait_until_async as until

ENGINES = ("unix:///tmp/a.sock", "unix:///tmp/b.sock", "unix:///tmp/c.sock")
RUNBOOK = """# Fleet

## Check every engine

1. Look at each engine

   ```sh {"hosts": "all", "batch": 1}
   CODE
   ```
"""


def console(make_console: MakeConsole, tmp_path: Path, code: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "repo" / "runbook.md"
    path.parent.mkdir()
    path.write_text(RUNBOOK.replace("CODE", code))
    config = Config(
        environments={"Development": EnvironmentConfig("Development", docker_hosts=ENGINES)}
    )
    return make_console(path, config=config)


def grid_states(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(app.screen.query_one(RollGrid).states)


def step_row(app) -> str:  # type: ignore[no-untyped-def]
    steps = app.screen.query_one(StepList)
    return str(steps.get_option_at_index(0).prompt)


async def test_a_failing_host_stops_the_roll_and_the_grid_says_which_ran(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    messages: list[object] = []
    code = 'echo "on $RUNBOOK_ROLL_HOST"; test "$RUNBOOK_ROLL_HOST" != /tmp/b.sock'
    app = console(make_console, tmp_path, code)
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await until(lambda: app.main_screen is not None)
        steps = app.screen.query_one(StepList)
        await until(lambda: steps.current_step is not None)
        assert "⇶ rolls across all hosts" in step_row(app)
        steps.focus()
        await pilot.press("r")  # read-only: runs at once
        await until(lambda: any(isinstance(m, StepFinished) for m in messages), 30)
        await until(lambda: grid_states(app).get("/tmp/c.sock") == "skipped")
        finished = next(m for m in messages if isinstance(m, StepFinished))
        assert finished.status == "failed" and len(finished.run_ids) == 2
        assert grid_states(app) == {
            "/tmp/a.sock": "ok",
            "/tmp/b.sock": "failed",
            "/tmp/c.sock": "skipped",
        }
        grid = str(app.screen.query_one(RollGrid).render())
        assert "hosts ✓ 1 ok · ✗ 1 failed · » 1 skipped" in grid
        assert "/tmp/b.sock  failed   exit 1" in grid
        assert "✓ 1 ok · ✗ 1 failed · » 1 skipped" in step_row(app)
        log = app.screen.query_one(StepOutput).log_widget
        assert "[/tmp/a.sock] on /tmp/a.sock" in [line.text for line in log.lines]
        changes = [(m.host, m.state) for m in messages if isinstance(m, RollHostChanged)]
        assert changes[-1] == ("/tmp/c.sock", "skipped")


async def test_cancel_cancels_the_running_host_and_skips_the_rest(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    messages: list[object] = []
    app = console(make_console, tmp_path, "echo started; sleep 60")
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await until(lambda: app.main_screen is not None)
        steps = app.screen.query_one(StepList)
        await until(lambda: steps.current_step is not None)
        steps.focus()
        await pilot.press("r")
        log = app.screen.query_one(StepOutput).log_widget
        await until(lambda: "[/tmp/a.sock] started" in [line.text for line in log.lines], 30)
        assert grid_states(app)["/tmp/a.sock"] == "running"
        await pilot.press("c")
        await until(lambda: any(isinstance(m, StepFinished) for m in messages), 30)
        await until(lambda: grid_states(app).get("/tmp/c.sock") == "skipped")
        finished = next(m for m in messages if isinstance(m, StepFinished))
        assert finished.status == "cancelled" and finished.cancelled_by == "alice"
        assert grid_states(app) == {
            "/tmp/a.sock": "cancelled",
            "/tmp/b.sock": "skipped",
            "/tmp/c.sock": "skipped",
        }
