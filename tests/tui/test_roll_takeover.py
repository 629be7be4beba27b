"""A roll whose console died mid-roll, in the console opened next on the same runbook and
environment: the grid shows every host's state (finished, still running, never started),
the running host is followed to its end, and the roll is closed with a truthful `roll`
record; the step ends failed, "interrupted", naming the hosts that never started.

The dead console is a real `runbook-console run` process killed with SIGKILL while host b
runs; the engines are names only (the step reads RUNBOOK_ROLL_HOST)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from console.messages import StepFinished
from console.widgets.roll_grid import RollGrid
from console.widgets.step_list import StepList
from runbook.config import Config, EnvironmentConfig, load_config
from runbook.execution.audit import read_records
from runbook.execution.runs import list_runs
from tests.tui.conftest import MakeConsole
from tests.waiting import wait_until
from tests.waiting import wait_until_async as until

REPO = Path(__file__).resolve().parents[2]
ENGINES = ("unix:///tmp/tk-a.sock", "unix:///tmp/tk-b.sock", "unix:///tmp/tk-c.sock")
A, B, C = (engine.removeprefix("unix://") for engine in ENGINES)
RUNBOOK = f"""# Fleet

## Check every engine

1. Look at each engine

   ```sh {{"hosts": "all", "batch": 1}}
   echo "on $RUNBOOK_ROLL_HOST"
   if [ "$RUNBOOK_ROLL_HOST" = {B} ]; then while [ ! -e "$ROLL_RELEASE" ]; do sleep 0.05; done; fi
   echo "done on $RUNBOOK_ROLL_HOST"
   ```
"""


def host_running(host: str) -> bool:
    runs = list_runs(load_config().runs_dir)
    return any(r.spec.get("host") == host and r.status == "running" for r in runs)


async def test_the_next_console_follows_the_running_host_and_closes_the_roll(
    make_console: MakeConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = tmp_path / "release"
    monkeypatch.setenv("ROLL_RELEASE", str(release))
    path = tmp_path / "repo" / "runbook.md"
    path.parent.mkdir()
    path.write_text(RUNBOOK)
    config_file = tmp_path / "config.toml"
    config_file.write_text(f"[environments.Development]\ndocker_hosts = {list(ENGINES)!r}\n")
    driver = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run", str(path), "-p", "Check every engine"]
        + ["--config", str(config_file), "--env", "Development"],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: host_running(B), 60)
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
        config = Config(
            environments={"Development": EnvironmentConfig("Development", docker_hosts=ENGINES)}
        )
        messages: list[object] = []
        app = make_console(path, config=config)
        async with app.run_test(size=(120, 40), message_hook=messages.append):
            await until(lambda: app.main_screen is not None)
            grid = app.screen.query_one(RollGrid)
            await until(lambda: grid.states.get(B) == "running", 30)
            assert grid.states == {A: "ok", B: "running", C: "skipped"}
            assert app.running is not None  # c would cancel the host it follows
            release.write_text("")
            await until(lambda: any(isinstance(m, StepFinished) for m in messages), 60)
            finished = next(m for m in messages if isinstance(m, StepFinished))
            assert finished.status == "failed"
            assert finished.detail == f"interrupted: 2 of 3 hosts ok; skipped: {C}"
            await until(lambda: grid.states.get(B) == "ok")
            assert "never started" in str(grid.render())
            row = str(app.screen.query_one(StepList).get_option_at_index(0).prompt)
            assert "✓ 2 ok · » 1 skipped" in row
        [record] = [r for r in read_records(config.audit_file) if r.get("event") == "roll"]
        assert record["status"] == "interrupted" and record["closed_by"] == "alice"
        assert (record["ok"], record["skipped"], record["running"]) == ([A, B], [C], [])
    finally:
        release.write_text("")
        if driver.poll() is None:
            driver.kill()
            driver.wait(30)
