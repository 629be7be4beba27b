"""A step that rolls across three private engines (tests/integration/engines.py): each host
runs `docker` against its own engine, with its own run and audit record; a host whose
engine dies mid-roll stops it, and the reporter's grid and the audit say which hosts ran."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from engines import PrivateEngine, PrivateEngines

from runbook.config import Config, EnvironmentConfig, ExecutionConfig, load_config
from runbook.execution.audit import read_records
from runbook.execution.executor import Executor, StepResult
from runbook.execution.locks import EnvironmentLock, LockBusy, read_holder
from runbook.execution.plan import Plan
from runbook.execution.rollout import HostOutcome
from runbook.execution.rolls import open_rolls
from runbook.execution.runs import OutputLine, list_runs
from runbook.model import Command, Procedure, Rollout, Runbook, Step
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("private-engines")]


@pytest.fixture
def engines(private_engines: PrivateEngines) -> PrivateEngines:
    private_engines.revive()  # a test before this one (test_many_engines) may have killed c
    return private_engines


@pytest.fixture
def doomed(private_engines: PrivateEngines) -> Iterator[PrivateEngine]:
    """An engine of this test's own, killed by it (the session's engines stay up for the
    tests after it); stopped by PID and its roots removed at the end."""
    private_engines.revive()
    engine = PrivateEngine("doomed")
    try:
        engine.start()
        yield engine
    finally:
        engine.stop()


def rolled_runbook(code: str) -> Runbook:
    step = Step(
        index=1,
        text="Each engine",
        line=1,
        kind="command",
        commands=(Command(code=code, line=1, risk="read-only"),),
        rollout=Rollout(hosts=None, batch=1, canary=1),
    )
    return Runbook(
        title="Fleet",
        sha256="0" * 64,
        procedures=(Procedure(title="Diagnose", line=1, steps=(step,)),),
    )


def executor_for(engines: tuple[PrivateEngine, ...]) -> Executor:
    hosts = tuple(engine.url for engine in engines)
    return Executor(
        Config(
            environments={"Development": EnvironmentConfig("Development", docker_hosts=hosts)},
            execution=ExecutionConfig(grace_s=1.0, default_timeout_s=60),
        )
    )


@dataclass
class Grid:
    """A roll reporter: the output, each host's latest state, and a hook on each change."""

    lines: list[OutputLine] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)
    results: list[StepResult] = field(default_factory=list)
    on_running: dict[str, threading.Event] = field(default_factory=dict)
    hold: threading.Event = field(default_factory=threading.Event)

    def started(self, plan: Plan) -> None:
        pass

    def output(self, plan: Plan, line: OutputLine) -> None:
        self.lines.append(line)

    def host(self, plan: Plan, outcome: HostOutcome) -> None:
        self.states[outcome.host.name] = outcome.state
        if outcome.state == "running" and outcome.host.name in self.on_running:
            self.on_running[outcome.host.name].set()
            assert self.hold.wait(60)  # the host waits while the test breaks its engine

    def finished(self, plan: Plan, result: StepResult) -> None:
        self.results.append(result)


def name_of(engine: PrivateEngine) -> str:
    return engine.url.removeprefix("unix://")


def test_a_roll_runs_docker_on_each_engine_with_one_audit_record_per_host(
    engines: PrivateEngines,
) -> None:
    a, b, c = engines.engines
    image = shlex.quote(engines.image)
    code = (
        "docker info --format 'root={{.DockerRootDir}}'\n"
        f"docker run --rm --network host {image} sh -c true\n"
        "docker ps --format '{{.Names}}'"
    )
    executor = executor_for((a, b, c))
    plan = executor.plan(rolled_runbook(code), "Diagnose", 1)
    grid = Grid()
    assert plan.risk == "mutating"  # docker run: confirmed, and the lock taken once
    result = executor.run(plan, grid, plan.confirm())
    assert result.status == "succeeded", (result.reason, [line.text for line in grid.lines])
    assert grid.states == {name_of(e): "ok" for e in (a, b, c)}
    texts = [line.text for line in grid.lines if line.stream == "stdout"]
    for engine in (a, b, c):  # each host's docker answered from its own engine
        assert f"[{name_of(engine)}] root={engine.root}/data" in texts
    records = read_records(executor.config.audit_file)
    ends = [r for r in records if r["event"] == "end"]
    assert [(r["engine"], r["status"], r["exit_code"]) for r in ends] == [
        (e.url, "succeeded", 0) for e in (a, b, c)
    ]
    roll = next(r for r in records if r["event"] == "roll")
    assert roll["ran"] == [name_of(e) for e in (a, b, c)] and roll["skipped"] == []


def test_an_engine_dying_mid_roll_stops_it_and_grid_and_audit_say_which_ran(
    engines: PrivateEngines, doomed: PrivateEngine
) -> None:
    a, b, c = engines.engines[0], doomed, engines.engines[1]
    executor = executor_for((a, b, c))
    plan = executor.plan(rolled_runbook("docker ps --format '{{.Names}}'"), "Diagnose", 1)
    grid = Grid(on_running={name_of(doomed): threading.Event()})
    results: list[StepResult] = []
    worker = threading.Thread(target=lambda: results.append(executor.run(plan, grid)))
    worker.start()
    try:
        assert grid.on_running[name_of(doomed)].wait(60)
        assert grid.states == {name_of(a): "ok", name_of(b): "running", name_of(c): "pending"}
        doomed.kill()  # its host has just started: its docker finds no engine
    finally:
        grid.hold.set()
        worker.join(120)
    result = results[0]
    assert result.status == "failed" and result.exit_code not in (None, 0)
    assert grid.states == {name_of(a): "ok", name_of(b): "failed", name_of(c): "skipped"}
    records = read_records(executor.config.audit_file)
    assert [r["engine"] for r in records if r["event"] == "end"] == [a.url, b.url]
    roll = next(r for r in records if r["event"] == "roll")
    assert roll["ran"] == [name_of(a), name_of(b)]
    assert roll["failed"] == [name_of(b)] and roll["skipped"] == [name_of(c)]
    assert "Cannot connect" in " ".join(line.text for line in grid.lines) or any(
        "docker.sock" in line.text for line in grid.lines if line.stream == "stderr"
    )


def test_a_roll_whose_console_dies_is_found_followed_and_closed_truthfully(
    engines: PrivateEngines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console driving a mutating roll across a, b and c is killed (SIGKILL) while b
    runs: b carries on under its supervisor, holding the environment lock; c never starts.
    `runbook-console rolls` shows each host's state; a console taking over (follow_roll)
    follows b to its end and writes the closing record: a and b ran, c never started."""
    a, b, c = engines.engines
    release = tmp_path / "release"
    monkeypatch.setenv("ROLL_RELEASE", str(release))
    image = shlex.quote(engines.image)
    runbook = tmp_path / "repo" / "runbook.md"
    runbook.parent.mkdir()
    runbook.write_text(
        "# Fleet\n\n## Diagnose\n\n"
        '```sh {"hosts": "all", "batch": 1}\n'
        "# Each engine\n"
        "docker info --format 'root={{.DockerRootDir}}'\n"
        f"docker run --rm --network host {image} sh -c true\n"
        f'if [ "$RUNBOOK_ROLL_HOST" = {name_of(b)} ]; then\n'
        '  while [ ! -e "$ROLL_RELEASE" ]; do sleep 0.05; done\n'
        "fi\n"
        "```\n"
    )
    config_file = tmp_path / "config.toml"
    urls = [engine.url for engine in (a, b, c)]
    config_file.write_text(f"[environments.Development]\ndocker_hosts = {urls!r}\n")
    config = load_config(config_file)
    cli = [sys.executable, "-m", "console.cli"]
    driver = subprocess.Popen(
        [*cli, "run", str(runbook), "-p", "Diagnose", "--confirm", "Development"]
        + ["--config", str(config_file)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def b_running() -> bool:
        runs = list_runs(config.runs_dir)
        return any(r.spec.get("host") == name_of(b) and r.status == "running" for r in runs)

    try:
        wait_until(b_running, 120, "host b runs")
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
        holder = read_holder(config.lock_dir, "Development")  # b's supervisor holds it still
        assert holder is not None and holder.procedure == "Diagnose"
        with pytest.raises(LockBusy):
            EnvironmentLock.acquire(config.lock_dir, replace(holder, pid=os.getpid()))

        listed = subprocess.run(
            [*cli, "rolls", "--config", str(config_file)],
            cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        lines = listed.stdout.splitlines()
        assert " open: Development  Diagnose step 1 (" in lines[0], listed
        assert [line.split()[:2] for line in lines[1:4]] == [
            [name_of(a), "ok"], [name_of(b), "running"], [name_of(c), "skipped"],
        ]  # fmt: skip

        [roll] = open_rolls(config.rolls_dir)
        grid = Grid()
        results: list[StepResult] = []
        worker = threading.Thread(
            target=lambda: results.append(Executor(config).follow_roll(roll, grid, "alice"))
        )
        worker.start()
        wait_until(lambda: grid.states.get(name_of(b)) == "running", 30)
        release.write_text("")
        worker.join(120)
    finally:
        release.write_text("")
        if driver.poll() is None:
            driver.kill()
            driver.wait(30)
    [result] = results
    assert result.status == "failed"
    assert result.reason == f"interrupted: 2 of 3 hosts ok; skipped: {name_of(c)}"
    assert grid.states == {name_of(a): "ok", name_of(b): "ok", name_of(c): "skipped"}
    assert f"[{name_of(b)}] root={b.root}/data" in [line.text for line in grid.lines]
    records = read_records(config.audit_file)
    assert [r["engine"] for r in records if r["event"] == "end"] == [a.url, b.url]
    [closing] = [r for r in records if r["event"] == "roll"]
    assert closing["status"] == "interrupted" and closing["closed_by"] == "alice"
    assert closing["ran"] == [name_of(a), name_of(b)] and closing["skipped"] == [name_of(c)]
    assert read_holder(config.lock_dir, "Development") is None  # b ended: the lock went
    assert open_rolls(config.rolls_dir) == []
