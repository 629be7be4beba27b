"""A rolled step through the executor: one supervised run per host with its own output,
exit status and audit record, the environment lock taken once, a `roll` audit record,
stop on failure and cancel. The engines are names only here: the commands read
`DOCKER_HOST` rather than call docker (tests/integration/test_roll_engines.py does)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from step_helpers import PROCEDURE, Recorder, make_runbook, processes_with_run_id

from runbook.config import Config, EnvironmentConfig, ExecutionConfig
from runbook.execution.audit import read_records
from runbook.execution.executor import Executor, RollReporter
from runbook.execution.locks import read_holder
from runbook.execution.plan import Plan
from runbook.execution.rollout import HostOutcome
from runbook.model import Risk, Rollout, Runbook

ENGINES = ("unix:///tmp/roll-a.sock", "unix:///tmp/roll-b.sock", "unix:///tmp/roll-c.sock")


def config() -> Config:
    return Config(
        environments={"Development": EnvironmentConfig("Development", docker_hosts=ENGINES)},
        execution=ExecutionConfig(grace_s=1.0),
    )


def rolled(code: str, risk: Risk = "read-only", **rollout: Any) -> Runbook:
    runbook = make_runbook(code, risk=risk)
    procedure = runbook.procedures[0]
    step = replace(procedure.steps[0], rollout=Rollout(hosts=None, **rollout))
    return replace(runbook, procedures=(replace(procedure, steps=(step,)),))


@dataclass
class GridRecorder(Recorder):
    """A Recorder that also keeps the roll's host changes, and what the lock said then."""

    changes: list[tuple[str, str]] = field(default_factory=list)
    holders: list[str | None] = field(default_factory=list)
    lock_dir: Path | None = None

    def host(self, plan: Plan, outcome: HostOutcome) -> None:
        self.changes.append((outcome.host.name, outcome.state))
        if outcome.state == "running" and self.lock_dir is not None:
            holder = read_holder(self.lock_dir, plan.environment)
            self.holders.append(holder.run_id if holder else None)


def test_one_run_per_host_each_with_its_engine_output_and_audit() -> None:
    executor = Executor(config())
    plan = executor.plan(rolled('echo "on $DOCKER_HOST as $RUNBOOK_ROLL_HOST"'), PROCEDURE, 1)
    recorder = GridRecorder()
    assert isinstance(recorder, RollReporter)
    result = executor.run(plan, recorder)
    assert result.status == "succeeded" and len(result.run_ids) == 3
    assert [o.state for o in result.hosts] == ["ok", "ok", "ok"]
    assert recorder.texts("stdout") == [
        f"[/tmp/roll-{x}.sock] on unix:///tmp/roll-{x}.sock as /tmp/roll-{x}.sock" for x in "abc"
    ]
    assert recorder.changes[:3] == [(f"/tmp/roll-{x}.sock", "pending") for x in "abc"]
    assert len(recorder.started_plans) == 1 and len(recorder.results) == 1
    records = read_records(executor.config.audit_file)
    ends = [r for r in records if r["event"] == "end"]
    assert [(r["host"], r["engine"], r["exit_code"]) for r in ends] == [
        (f"/tmp/roll-{x}.sock", f"unix:///tmp/roll-{x}.sock", 0) for x in "abc"
    ]
    roll = [r for r in records if r["event"] == "roll"]
    assert len(roll) == 1 and roll[0]["status"] == "succeeded"
    assert roll[0]["ran"] == [f"/tmp/roll-{x}.sock" for x in "abc"]
    assert {r["roll_id"] for r in records} == {roll[0]["roll_id"]}
    assert [r["run_id"] for r in ends] == list(result.run_ids)


def test_a_failing_host_stops_the_roll_and_the_audit_says_which_ran() -> None:
    executor = Executor(config())
    code = 'echo "on $RUNBOOK_ROLL_HOST"; test "$RUNBOOK_ROLL_HOST" != /tmp/roll-b.sock'
    plan = executor.plan(rolled(code), PROCEDURE, 1)
    result = executor.run(plan, GridRecorder())
    assert result.status == "failed" and result.exit_code == 1
    assert [o.state for o in result.hosts] == ["ok", "failed", "skipped"]
    assert result.reason == "1 of 3 hosts ok; failed: /tmp/roll-b.sock; skipped: /tmp/roll-c.sock"
    records = read_records(executor.config.audit_file)
    assert [r["host"] for r in records if r["event"] == "end"] == [
        "/tmp/roll-a.sock",
        "/tmp/roll-b.sock",
    ]
    roll = next(r for r in records if r["event"] == "roll")
    assert roll["ran"] == ["/tmp/roll-a.sock", "/tmp/roll-b.sock"]
    assert roll["failed"] == ["/tmp/roll-b.sock"] and roll["skipped"] == ["/tmp/roll-c.sock"]


def test_a_mutating_roll_takes_the_environment_lock_once_for_every_host() -> None:
    executor = Executor(config())
    plan = executor.plan(rolled("echo changed", risk="mutating", batch=2), PROCEDURE, 1)
    recorder = GridRecorder(lock_dir=executor.config.lock_dir)
    result = executor.run(plan, recorder, plan.confirm())
    assert [o.state for o in result.hosts] == ["ok", "ok", "ok"], result.reason
    roll = next(r for r in read_records(executor.config.audit_file) if r["event"] == "roll")
    assert recorder.holders == [roll["roll_id"]] * 3  # held by the roll, not by each host
    assert read_holder(executor.config.lock_dir, "Development") is None


def test_a_mutating_roll_is_refused_while_another_step_holds_the_lock() -> None:
    from runbook.execution.locks import EnvironmentLock, LockHolder

    executor = Executor(config())
    plan = executor.plan(rolled("echo changed", risk="mutating"), PROCEDURE, 1)
    other = LockHolder(
        user="bob", pid=1, since="2026-01-01T00:00:00+00:00", environment="Development"
    )
    held = EnvironmentLock.acquire(executor.config.lock_dir, other)
    try:
        result = executor.run(plan, GridRecorder(), plan.confirm())
    finally:
        held.release()
    assert result.status == "refused" and "locked by bob" in (result.reason or "")
    assert result.hosts == ()


def test_cancel_stops_the_running_host_and_skips_the_rest() -> None:
    executor = Executor(config())
    plan = executor.plan(rolled("echo started; sleep 60"), PROCEDURE, 1)
    recorder = GridRecorder(wait_for="started")
    results = []
    worker = threading.Thread(target=lambda: results.append(executor.run(plan, recorder)))
    worker.start()
    assert recorder.seen.wait(30)
    run_id = executor.active_run_id
    executor.cancel(by="alice")
    worker.join(30)
    result = results[0]
    assert result.status == "cancelled" and result.cancelled_by == "alice"
    assert [o.state for o in result.hosts] == ["cancelled", "skipped", "skipped"]
    assert run_id is not None and processes_with_run_id(run_id) == []
    roll = next(r for r in read_records(executor.config.audit_file) if r["event"] == "roll")
    assert roll["cancelled"] == ["/tmp/roll-a.sock"] and roll["status"] == "cancelled"
