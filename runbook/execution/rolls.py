"""Rolls on disk: a roll outlives the console that drives it, and is closed truthfully.

The hosts of a roll run under detached supervisors (one run each, see runbook.execution.runs),
but the roll itself (which host starts next, the closing `roll` audit record) is driven by
the console that started it. So that a console that dies mid-roll leaves something to find,
the roll is written down as it starts: `<state dir>/rolls/<roll id>.json` holds its plan
(every host, by batch) and its `roll-start` audit record, and the driving console holds an
exclusive `flock` on that file until it has written the closing record and removed the file.

A roll file whose lock can be taken is an *open* roll: its driver is gone (the kernel drops
a dead process's locks, so there is no pid to trust or to be reused). Whoever takes the lock
(a restarted console, `runbook-console rolls --close`) owns it, reads every host's state
from the runs (`finished` ok/failed/cancelled, still `running`, `unknown` when its
supervisor died without a result, or `skipped`: never started, the roll's driver having
stopped first) and closes it with a `roll` record that says so (`status: interrupted`).

    for roll in open_rolls(config.rolls_dir):          # each one locked for this process
        hosts = roll.host_outcomes(config.runs_dir)
        roll.close(trail, hosts, closed_by="alice")    # audit record, file removed, unlocked
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.execution import runs
from runbook.execution.audit import AuditError, AuditTrail
from runbook.execution.rollout import HostOutcome, HostState, RollHost, RollOutcome, RollPlan
from runbook.execution.runs import RunInfo

NOT_STARTED = "never started: the console driving the roll stopped before this host's turn"
NO_RESULT = "its supervisor stopped without a result"


class RollFile:
    """The driving console's hold on its roll's file (see the module's doc)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def create(
        cls, rolls_dir: Path, roll_id: str, plan: RollPlan, start: Mapping[str, Any]
    ) -> RollFile:
        """Write the roll's file and lock it (the lock first, so no one sees it unlocked).

        Raises:
            OSError: the state directory cannot be written.
        """
        rolls_dir.mkdir(parents=True, exist_ok=True)
        path = rolls_dir / f"{roll_id}.json"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = {"roll_id": roll_id, "plan": plan_to_json(plan), "start": dict(start)}
            os.write(fd, (json.dumps(data, ensure_ascii=False) + "\n").encode())
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        return cls(path, fd)

    def done(self) -> None:
        """The closing record is written: the file goes, then the lock."""
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self.fd)


@dataclass
class OpenRoll:
    """A roll whose driver is gone, locked by this process until `close` or `release`."""

    roll_id: str
    plan: RollPlan
    start: dict[str, Any]
    """Its `roll-start` audit record: environment, runbook, procedure, step, command..."""
    path: Path
    fd: int = field(repr=False)

    @property
    def environment(self) -> str:
        return str(self.start.get("environment", ""))

    @property
    def procedure(self) -> str:
        return str(self.start.get("procedure", ""))

    @property
    def step(self) -> int:
        step = self.start.get("step")
        return step if isinstance(step, int) else 0

    def runs(self, runs_dir: Path) -> dict[str, RunInfo]:
        """Each started host's run (the newest, should a host have two), by host name."""
        found: dict[str, RunInfo] = {}
        for info in runs.list_runs(runs_dir):  # newest first
            if info.spec.get("roll_id") == self.roll_id:
                found.setdefault(str(info.spec.get("host")), info)
        return found

    def host_outcomes(self, runs_dir: Path) -> tuple[HostOutcome, ...]:
        """Where every host of the plan is now, in the plan's order."""
        started = self.runs(runs_dir)
        return tuple(host_outcome(host, started.get(host.name)) for host in self.plan.hosts)

    def close(
        self,
        trail: AuditTrail,
        hosts: tuple[HostOutcome, ...],
        closed_by: str,
        extra: Mapping[str, object] | None = None,
    ) -> RollOutcome:
        """Append the closing `roll` record (status `interrupted` unless every host finished
        as planned), remove the roll's file and let go of it. The record is best effort, as
        the driving console's own is: an audit trail that cannot be written loses it."""
        outcome = RollOutcome(hosts, interrupted=f"closed by {closed_by} after its console stopped")
        record = {
            **self.start,
            "time": runs.now_iso(),
            "event": "roll",
            **outcome.record(),
            "closed_by": closed_by,
            **(extra or {}),
        }
        record.pop("hosts_planned", None)
        with contextlib.suppress(AuditError):
            trail.append(record)
        with contextlib.suppress(OSError):
            self.path.unlink()
        self.release()
        return outcome

    def release(self) -> None:
        """Let go of the roll without closing it (another console may then take it)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def host_outcome(host: RollHost, run: RunInfo | None) -> HostOutcome:
    """A host's state from its run: none (never started), running, unknown, or how it ended."""
    if run is None:
        return HostOutcome(host, "skipped", reason=NOT_STARTED)
    status = run.status
    exit_code = run.state.get("exit_code")
    code = exit_code if isinstance(exit_code, int) else None
    if status == "lost":
        return HostOutcome(host, "unknown", run_id=run.run_id, reason=NO_RESULT)
    if status not in runs.FINAL_STATUSES:
        return HostOutcome(host, "running", run_id=run.run_id)
    state: HostState = {"succeeded": "ok", "cancelled": "cancelled"}.get(status, "failed")  # type: ignore[assignment]
    reason = run.state.get("reason")
    by = run.state.get("cancelled_by")
    if not reason and by:
        reason = f"cancelled by {by}"
    return HostOutcome(host, state, code, run.run_id, str(reason) if reason else None)


def open_rolls(
    rolls_dir: Path, wanted: Callable[[Mapping[str, Any]], bool] = lambda start: True
) -> list[OpenRoll]:
    """Every roll in `rolls_dir` whose driver is gone and whose `roll-start` record `wanted`
    accepts, oldest first, each locked for this process (`close` or `release` each)."""
    found = []
    for path in sorted(rolls_dir.glob("*.json")) if rolls_dir.is_dir() else []:
        roll = _take(path)
        if roll is None:
            continue
        if wanted(roll.start):
            found.append(roll)
        else:
            roll.release()
    return found


def running_rolls(rolls_dir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rolls a live console is driving now: (roll id, its `roll-start` record)."""
    for path in sorted(rolls_dir.glob("*.json")) if rolls_dir.is_dir() else []:
        roll = _take(path)
        if roll is not None:
            roll.release()
            continue
        data = _read(path)
        if data is not None:
            yield str(data.get("roll_id", path.stem)), dict(data.get("start") or {})


def _take(path: Path) -> OpenRoll | None:
    """The roll at `path` locked for this process, or None (driven by a live console, closed
    meanwhile, or unreadable)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Closed and removed between our open and our lock: the file is no longer the roll.
        if os.fstat(fd).st_ino != os.stat(path).st_ino:
            raise OSError("removed")
    except OSError:
        os.close(fd)
        return None
    data = _read(path)
    plan = plan_from_json(data.get("plan")) if data is not None else None
    if data is None or plan is None:
        os.close(fd)
        return None
    return OpenRoll(
        str(data.get("roll_id", path.stem)), plan, dict(data.get("start") or {}), path, fd
    )


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def plan_to_json(plan: RollPlan) -> dict[str, object]:
    return {
        "max_failures": plan.max_failures,
        "canary": plan.canary,
        "batches": [
            [{"name": h.name, "engine": h.engine} for h in batch] for batch in plan.batches
        ],
    }


def plan_from_json(data: object) -> RollPlan | None:
    if not isinstance(data, dict):
        return None
    try:
        batches = tuple(
            tuple(RollHost(str(h["name"]), str(h["engine"])) for h in batch)
            for batch in data["batches"]
        )
        return RollPlan(batches, int(data["max_failures"]), int(data["canary"]))
    except (KeyError, TypeError, ValueError):
        return None
