"""Build runbooks by hand and collect what the executor reports, for the execution tests."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from runbook.config import Config, ExecutionConfig
from runbook.execution.executor import StepResult
from runbook.execution.plan import Plan
from runbook.execution.runs import OutputLine
from runbook.model import Command, Procedure, Risk, Runbook, Step, Variable

PROCEDURE = "Emergency Rollback"


def make_runbook(
    *codes: str,
    risk: Risk = "read-only",
    path: Path | None = None,
    timeout_s: float | None = None,
    variables: tuple[Variable, ...] = (),
    verify: str | None = None,
) -> Runbook:
    """One procedure whose step N runs codes[N-1] (then `verify`, its `rb-verify` check);
    written to `path` when given (for the hash)."""
    sha = "0" * 64
    if path is not None:
        path.write_text("# Test\n\n" + "\n".join(codes) + "\n")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
    steps = tuple(
        Step(
            index=number,
            text=f"Step {number}",
            line=number,
            kind="command",
            commands=(
                Command(
                    code=code,
                    line=number,
                    risk=risk,
                    variables=variables,
                    timeout_s=timeout_s,
                    verify=verify,
                ),
            ),
        )
        for number, code in enumerate(codes, start=1)
    )
    return Runbook(
        title="Test",
        sha256=sha,
        path=str(path) if path else None,
        procedures=(Procedure(title=PROCEDURE, line=1, steps=steps),),
    )


def fast_config(grace_s: float = 1.0, **execution: object) -> Config:
    return Config(execution=ExecutionConfig(grace_s=grace_s, **execution))  # type: ignore[arg-type]


@dataclass
class Recorder:
    """A StepReporter that keeps everything and signals when a given text appears."""

    wait_for: str | None = None
    lines: list[OutputLine] = field(default_factory=list)
    results: list[StepResult] = field(default_factory=list)
    started_plans: list[Plan] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)
    seen: threading.Event = field(default_factory=threading.Event)

    def started(self, plan: Plan) -> None:
        self.started_plans.append(plan)
        self.threads.add(threading.current_thread().name)

    def output(self, plan: Plan, line: OutputLine) -> None:
        self.lines.append(line)
        self.threads.add(threading.current_thread().name)
        if self.wait_for is not None and self.wait_for in line.text:
            self.seen.set()

    def finished(self, plan: Plan, result: StepResult) -> None:
        self.results.append(result)

    def texts(self, stream: str | None = None) -> list[str]:
        return [line.text for line in self.lines if stream is None or line.stream == stream]


def processes_with_run_id(run_id: str) -> list[int]:
    """Live processes whose environment carries RUNBOOK_RUN_ID=run_id (every descendant does)."""
    needle = f"RUNBOOK_RUN_ID={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text()
        except OSError:
            continue
        if state[state.rfind(")") + 2] == "Z":
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return [pid for pid in found if pid != os.getpid()]
