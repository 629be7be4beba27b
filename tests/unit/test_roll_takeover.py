"""A roll whose console dies mid-roll: its file (runbook.execution.rolls) is found once its
driver is gone, every host's state is read from the runs, and the roll is closed with a
truthful `roll` record, by `runbook-console rolls --close` (a host still running says so)
or by a console that follows the running hosts to their end (Executor.follow_roll).

The driver is a real `runbook-console run` process, killed with SIGKILL while host b runs;
the hosts' engines are names only (the step reads RUNBOOK_ROLL_HOST)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runbook.config import load_config
from runbook.execution.audit import read_records
from runbook.execution.executor import Executor
from runbook.execution.rollout import HostOutcome, RollHost
from runbook.execution.rolls import NO_RESULT, NOT_STARTED, host_outcome, open_rolls
from runbook.execution.runs import RunInfo, list_runs
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
A, B, C = "/tmp/rt-a.sock", "/tmp/rt-b.sock", "/tmp/rt-c.sock"

RUNBOOK = f"""# Test runbook

## Diagnose

```sh {{"hosts": "all", "batch": 1}}
# Each engine
echo "on $RUNBOOK_ROLL_HOST"
if [ "$RUNBOOK_ROLL_HOST" = {B} ]; then while [ ! -e "$ROLL_RELEASE" ]; do sleep 0.05; done; fi
echo "done on $RUNBOOK_ROLL_HOST"
```
"""


@dataclass
class Killed:
    """A roll whose driver was killed while host b ran (a finished, c never started)."""

    config: Path
    release: Path

    def let_b_finish(self) -> None:
        self.release.write_text("")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def host_run(host: str) -> RunInfo | None:
    runs_dir = load_config().runs_dir
    return next((r for r in list_runs(runs_dir) if r.spec.get("host") == host), None)


@pytest.fixture
def killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Killed]:
    release = tmp_path / "release"
    monkeypatch.setenv("ROLL_RELEASE", str(release))
    runbook = tmp_path / "repo" / "runbook.md"
    runbook.parent.mkdir()
    runbook.write_text(RUNBOOK)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[environments.Development]\ndocker_hosts = ["unix://{A}", "unix://{B}", "unix://{C}"]\n'
    )
    driver = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run", str(runbook), "-p", "Diagnose"]
        + ["--config", str(config)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: (run := host_run(B)) is not None and run.status == "running", 60)
        # While its console lives, the roll is its console's: no one else takes it.
        assert open_rolls(load_config().rolls_dir) == []
        listed = cli("rolls", "--config", str(config))
        assert "driven by a live console: Development  Diagnose step 1" in listed.stdout
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
        yield Killed(config, release)
    finally:
        release.write_text("")  # host b's run ends whatever the test did
        if driver.poll() is None:
            driver.kill()
            driver.wait(30)
        wait_until(lambda: (run := host_run(B)) is None or run.finished, 60)


def closing_records() -> list[dict[str, object]]:
    return [r for r in read_records(load_config().audit_file) if r.get("event") == "roll"]


def test_rolls_lists_every_host_and_close_records_them_as_they_stand(killed: Killed) -> None:
    listed = cli("rolls", "--config", str(killed.config))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert " open: Development  Diagnose step 1 (" in lines[0]
    assert lines[1].startswith(f"  {A}  ok         run ") and lines[1].endswith("exit 0")
    assert lines[2].startswith(f"  {B}  running    run ")
    assert lines[3] == f"  {C}  skipped    {NOT_STARTED}"

    closed = cli("rolls", "--close", "all", "--config", str(killed.config))
    assert closed.returncode == 0, closed.stderr
    assert f"  recorded: interrupted: 1 of 3 hosts ok; running: {B}; skipped: {C}" in (
        closed.stdout
    )
    [record] = closing_records()
    assert record["status"] == "interrupted"
    assert (record["ok"], record["running"], record["skipped"]) == ([A], [B], [C])
    assert record["ran"] == [A, B] and record["unknown"] == []
    assert record["procedure"] == "Diagnose" and record["environment"] == "Development"
    assert record["closed_by"] == os.environ.get("USER", record["closed_by"])
    # Closed once: nothing left to list or close, and the console's roll-start is matched.
    again = cli("rolls", "--close", "all", "--config", str(killed.config))
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "runbook-console: no single open roll matches 'all' (runbook-console rolls lists them)"
    )
    starts = [r for r in read_records(load_config().audit_file) if r.get("event") == "roll-start"]
    assert [s["roll_id"] for s in starts] == [record["roll_id"]]
    assert (
        json.loads(cli("rolls", "--json", "--config", str(killed.config)).stdout or "null") is None
    )


@dataclass
class Follower:
    lines: list[str]
    changes: list[tuple[str, str]]

    def output(self, plan: object, line: object) -> None:
        self.lines.append(line.text)  # type: ignore[attr-defined]

    def host(self, plan: object, outcome: HostOutcome) -> None:
        self.changes.append((outcome.host.name, outcome.state))

    def started(self, plan: object) -> None:
        raise AssertionError("a roll taken over never starts again")

    def finished(self, plan: object, result: object) -> None:
        pass


def test_a_console_takes_over_follows_the_running_host_and_closes_the_roll(
    killed: Killed,
) -> None:
    config = load_config(killed.config)
    [roll] = open_rolls(config.rolls_dir)
    assert (roll.environment, roll.procedure, roll.step) == ("Development", "Diagnose", 1)
    follower = Follower([], [])
    results = []
    thread = threading.Thread(
        target=lambda: results.append(Executor(config).follow_roll(roll, follower))  # type: ignore[arg-type]
    )
    thread.start()
    wait_until(lambda: (B, "running") in follower.changes, 30)
    assert follower.changes[:3] == [(A, "ok"), (B, "running"), (C, "skipped")]
    assert closing_records() == []  # not before the running host ends
    killed.let_b_finish()
    thread.join(60)
    [result] = results
    assert result.status == "failed"
    assert result.reason == f"interrupted: 2 of 3 hosts ok; skipped: {C}"
    assert follower.changes[3:] == [(B, "ok")]
    assert f"[{B}] on {B}" in follower.lines and f"[{B}] done on {B}" in follower.lines
    [record] = closing_records()
    assert record["status"] == "interrupted"
    assert (record["ok"], record["running"], record["skipped"]) == ([A, B], [], [C])
    assert open_rolls(config.rolls_dir) == [] and not any(config.rolls_dir.iterdir())


def test_a_host_whose_supervisor_died_is_unknown(tmp_path: Path) -> None:
    host = RollHost("b", "unix:///b.sock")
    gone = subprocess.Popen(["true"])
    gone.wait()
    lost = RunInfo("r1", tmp_path, {}, {"status": "running", "supervisor_pid": gone.pid})
    assert host_outcome(host, lost) == HostOutcome(host, "unknown", run_id="r1", reason=NO_RESULT)
    ended = RunInfo("r2", tmp_path, {}, {"status": "cancelled", "cancelled_by": "bob"})
    assert host_outcome(host, ended) == HostOutcome(
        host, "cancelled", run_id="r2", reason="cancelled by bob"
    )
    assert host_outcome(host, None).state == "skipped"
