"""A step that rolls across three private engines (tests/integration/engines.py): each host
runs `docker` against its own engine, with its own run and audit record; a host whose
engine dies mid-roll stops it, and the reporter's grid and the audit say which hosts ran."""

from __future__ import annotations

import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from engines import PrivateEngine, PrivateEngines

from runbook.config import Config, EnvironmentConfig, ExecutionConfig
from runbook.execution.audit import read_records
from runbook.execution.executor import Executor, StepResult
from runbook.execution.plan import Plan
from runbook.execution.rollout import HostOutcome
from runbook.execution.runs import OutputLine
from runbook.model import Command, Procedure, Rollout, Runbook, Step

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
