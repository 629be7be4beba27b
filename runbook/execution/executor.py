"""Run a planned step safely and report on it, for the headless CLI and the TUI alike.

```python
executor = Executor(config)
step_plan = executor.plan(runbook, "Emergency Rollback", 1, environment="Production")
confirmation = step_plan.confirm(typed="Production")      # after the operator's yes
result = executor.run(step_plan, reporter, confirmation)  # blocks; call from a thread worker
executor.cancel(by="alice")                               # from any thread
```

`run` checks the plan (missing values, confirmation, runbook unchanged on disk),
then hands the step (its commands as one bash script) to a detached
supervisor (`runbook.execution.supervisor`) that holds the environment lock and writes
output, audit and result to the run directory; `run` tails that directory and
calls the reporter from its own thread. If the console dies, the supervisor
carries on; `runbook.execution.runs.list_runs` finds the run later and `Executor.follow`
picks it up again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import runbook
from runbook.config import Config
from runbook.execution import audit, history, runs
from runbook.execution.audit import AuditError, AuditTrail
from runbook.execution.environment import without_terminal_size
from runbook.execution.locks import EnvironmentLock, LockBusy, LockError, LockHolder
from runbook.execution.masking import Masker
from runbook.execution.plan import Confirmation, Plan, file_sha256
from runbook.execution.plan import plan as make_plan
from runbook.execution.rollout import (
    DOCKER_CONTEXT,
    DOCKER_HOST,
    HostOutcome,
    RollHost,
    RollPlan,
    run_roll,
)
from runbook.execution.rolls import OpenRoll, RollFile
from runbook.execution.run_spec import SPEC_FILE, RunSpec, VerifySpec
from runbook.execution.runs import OutputLine, RunInfo
from runbook.model import Procedure, Runbook, Step
from runbook.storage import paths
from runbook.storage.atomic_file import read_json, write_json_atomic

StepStatus = Literal["succeeded", "failed", "cancelled", "timed-out", "refused"]
POLL_S = 0.05
SUPERVISOR_START_S = 30.0
"""A supervisor says its pid in state.json as it starts: a run followed from another
console with no pid this long after its spec was written never got one (its console
died between writing the spec and starting it)."""
_FINAL = ("succeeded", "failed", "cancelled", "timed-out", "refused")
_SUPERVISOR_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from runbook.execution.supervisor import main; sys.exit(main(sys.argv[2:]))"
)


@dataclass(frozen=True)
class StepResult:
    status: StepStatus
    exit_code: int | None = None
    reason: str | None = None
    """Why a step was refused or could not finish."""
    cancelled_by: str | None = None
    run_ids: tuple[str, ...] = ()
    started: str | None = None
    ended: str | None = None
    duration_s: float = 0.0
    output_tail: tuple[str, ...] = ()
    verified: bool | None = None
    """Whether the step's `rb-verify` checks passed; None when none ran."""
    hosts: tuple[HostOutcome, ...] = ()
    """For a step that rolled across hosts: how each host ended, in the roll's order."""

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @classmethod
    def from_state(
        cls, state: Mapping[str, object], run_ids: tuple[str, ...] = (), tail: tuple[str, ...] = ()
    ) -> StepResult:
        """A result from a run's `state.json` (as `Executor.follow` returns it)."""
        status = str(state.get("status", "failed"))
        exit_code = state.get("exit_code")
        duration = state.get("duration_s")
        checks = state.get("verify")
        verified = None
        if isinstance(checks, list) and checks:
            verified = all(isinstance(c, dict) and c.get("status") == "passed" for c in checks)
        return cls(
            status=status if status in _FINAL else "failed",  # type: ignore[arg-type]
            exit_code=exit_code if isinstance(exit_code, int) else None,
            reason=str(state["reason"]) if state.get("reason") else None,
            cancelled_by=str(state["cancelled_by"]) if state.get("cancelled_by") else None,
            run_ids=run_ids,
            started=str(state["started"]) if state.get("started") else None,
            ended=str(state["ended"]) if state.get("ended") else None,
            duration_s=float(duration) if isinstance(duration, int | float) else 0.0,
            output_tail=tail,
            verified=verified,
        )


class StepReporter(Protocol):
    """Receives a step's progress; all calls come from the thread that called `run`.

    `started` comes once the first command's supervisor is spawned (so
    `Executor.active_run_id` names its run and can be saved in the session),
    then `output` for every line, then `finished` once. A step refused before
    anything is spawned (confirmation, missing values) gets only `finished`; one
    the supervisor refuses (lock held, audit trail unwritable) gets `started`,
    the refusal as a `system` line, then `finished`. The TUI implements this by
    posting messages.
    """

    def started(self, plan: Plan) -> None: ...

    def output(self, plan: Plan, line: OutputLine) -> None: ...

    def finished(self, plan: Plan, result: StepResult) -> None: ...


@runtime_checkable
class RollReporter(Protocol):
    """A StepReporter that also follows a roll host by host (a progress grid).

    `host` comes once per host as pending when the roll starts, then at every change
    (running, then ok, failed or cancelled; skipped for a host never started). Calls
    to a reporter are never made from two threads at once.
    """

    def host(self, plan: Plan, outcome: HostOutcome) -> None: ...


class NullReporter:
    def started(self, plan: Plan) -> None:
        pass

    def output(self, plan: Plan, line: OutputLine) -> None:
        pass

    def finished(self, plan: Plan, result: StepResult) -> None:
        pass


class Executor:
    """Runs one step at a time; `cancel` may be called from any thread."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self._guard = threading.Lock()
        self._running = False
        self._cancelled_by: str | None = None
        self._supervisors: dict[str, subprocess.Popen[bytes]] = {}
        self._active_run_id: str | None = None

    @property
    def active_run_id(self) -> str | None:
        """The run (see runbook.execution.runs) of the command in progress, if any."""
        return self._active_run_id

    def plan(
        self,
        runbook: Runbook,
        procedure: Procedure | str,
        step: Step | int,
        *,
        environment: str | None = None,
        values: Mapping[str, str] | None = None,
    ) -> Plan:
        """`runbook.execution.plan.plan` with this executor's config."""
        return make_plan(
            runbook, procedure, step, environment=environment, values=values, config=self.config
        )

    @staticmethod
    def dry_run(plan: Plan) -> tuple[str, ...]:
        """The commands the step would run, resolved; nothing is spawned."""
        return plan.resolved_commands

    def cancel(self, by: str) -> None:
        """Ask the running step to stop (SIGTERM, then SIGKILL after the grace period)."""
        with self._guard:
            if self._running and self._cancelled_by is None:
                self._cancelled_by = by

    def refusal(self, plan: Plan, confirmation: Confirmation | None) -> str | None:
        """Why the plan may not run now, or None."""
        if not plan.commands:
            return "this step has no command to run"
        if plan.missing:
            return "missing values for: " + ", ".join(plan.missing)
        if not plan.needs_confirmation:
            return None
        if confirmation is None:
            return f"{plan.risk} step needs confirmation"
        if confirmation.plan_digest != plan.digest or confirmation.environment != plan.environment:
            return "confirmation was given for a different command; confirm again"
        if plan.runbook_path is not None:
            current = file_sha256(plan.runbook_path)
            if current != confirmation.runbook_sha256:
                return "runbook changed since confirmation; confirm again"
        elif confirmation.runbook_sha256 != plan.runbook_sha256:
            return "runbook changed since confirmation; confirm again"
        return None

    def run(
        self,
        plan: Plan,
        reporter: StepReporter | None = None,
        confirmation: Confirmation | None = None,
    ) -> StepResult:
        """Run the step's commands in order as one script, stopping at the first failing line,
        then, if it succeeded, the step's `rb-verify` checks (a failing one fails the step).

        Blocks until the step ends; call it from a worker thread in a UI.
        """
        reporter = reporter or NullReporter()
        reason = self.refusal(plan, confirmation)
        if reason is not None:
            result = StepResult(status="refused", reason=reason)
            reporter.finished(plan, result)
            return result
        with self._guard:
            if self._running:
                raise RuntimeError("this Executor is already running a step")
            self._running, self._cancelled_by = True, None
        try:
            if plan.roll is not None:
                return self._run_roll(plan, plan.roll, reporter)
            return self._run_commands(plan, reporter)
        finally:
            with self._guard:
                self._running, self._cancelled_by = False, None
                self._active_run_id = None

    def _run_commands(self, plan: Plan, reporter: StepReporter) -> StepResult:
        """One supervised run for the whole step: its commands as one bash script, so they
        share shell variables, one lock, and one audit start and end record."""
        code, timeout_s, values_env = _script(plan)
        run_id = runs.new_run_id()
        try:
            directory = self._start(plan, code, timeout_s, values_env, run_id)
        except OSError as error:
            result = StepResult(status="refused", reason=f"cannot start the step: {error}")
        else:
            self._active_run_id = run_id
            reporter.started(plan)  # after the spawn, so `active_run_id` names the run
            state = self._follow(directory, lambda line: reporter.output(plan, line))
            output = runs.read_output(directory)
            tail = tuple(line.text for line in output if line.stream != "system")[-20:]
            result = StepResult.from_state(state, (run_id,), tail)
        reporter.finished(plan, result)
        return result

    def _run_roll(self, plan: Plan, roll: RollPlan, reporter: StepReporter) -> StepResult:
        """One supervised run per host, canary first, then batch by batch (see
        runbook.execution.rollout); the environment lock is taken here once for them all
        and handed to each host's supervisor; audit `roll-start` and `roll` records frame
        the hosts' own start and end records."""
        serial = _SerialReporter(reporter)
        roll_id = runs.new_run_id()
        started, started_at = runs.now_iso(), time.monotonic()
        trail = AuditTrail(self.config.audit_file)
        lock: EnvironmentLock | None = None
        if plan.mutating:
            problem = trail.check_writable()
            if problem is not None:
                return self._refuse(
                    plan, serial, f"{problem}; mutating steps do not run without an audit trail"
                )
            try:
                lock = EnvironmentLock.acquire(self.config.lock_dir, self._holder(plan, roll_id))
            except (LockBusy, LockError) as error:
                with contextlib.suppress(AuditError):
                    refused = self._roll_record("refused", plan, roll_id, reason=str(error))
                    trail.append({**refused, "status": "refused"})
                return self._refuse(plan, serial, str(error))
        roll_file: RollFile | None = None
        try:
            start = self._roll_record("roll-start", plan, roll_id, hosts=roll.describe())
            # Written down (and held) so that a console that takes over finds the roll.
            with contextlib.suppress(OSError):
                roll_file = RollFile.create(self.config.rolls_dir, roll_id, roll, start)
            with contextlib.suppress(AuditError):
                trail.append(start)
            serial.started(plan)
            outcome = run_roll(
                roll,
                lambda host: self._run_host(plan, host, roll_id, serial, lock),
                self._cancel_asked,
                lambda changed: serial.host(plan, changed),
            )
            duration_s = round(time.monotonic() - started_at, 3)
            summary = outcome.record()
            with contextlib.suppress(AuditError):
                trail.append(
                    self._roll_record("roll", plan, roll_id, duration_s=duration_s, **summary)
                )
        finally:
            if roll_file is not None:
                roll_file.done()
            if lock is not None:
                lock.release()
        failed = next((o for o in outcome.hosts if o.state == "failed"), None)
        result = StepResult(
            status="failed" if outcome.status == "interrupted" else outcome.status,  # not here
            exit_code=failed.exit_code
            if failed
            else (0 if outcome.status == "succeeded" else None),
            reason=None if outcome.status == "succeeded" else outcome.summary(),
            cancelled_by=outcome.cancelled_by,
            run_ids=tuple(o.run_id for o in outcome.hosts if o.run_id),
            started=started,
            ended=runs.now_iso(),
            duration_s=duration_s,
            output_tail=(outcome.summary(),),
            hosts=outcome.hosts,
        )
        serial.finished(plan, result)
        return result

    def _run_host(
        self,
        plan: Plan,
        host: RollHost,
        roll_id: str,
        reporter: StepReporter,
        lock: EnvironmentLock | None,
    ) -> HostOutcome:
        """The step on one host of a roll: a supervised run of its own, `DOCKER_HOST` (or
        `DOCKER_CONTEXT`) naming the host's engine; blocks until it ends."""
        code, timeout_s, values_env = _script(plan)
        run_id = runs.new_run_id()
        try:
            directory = self._start(
                plan,
                code,
                timeout_s,
                {**values_env, **dict(host.env)},
                run_id,
                host=host,
                roll_id=roll_id,
                lock=lock,
            )
        except OSError as error:
            return HostOutcome(host, "failed", reason=f"cannot start the step: {error}")
        self._active_run_id = run_id
        prefix = f"[{host.name}] "
        state = self._follow(
            directory, lambda line: reporter.output(plan, replace(line, text=prefix + line.text))
        )
        return _host_ended(host, state, run_id)

    def follow_roll(
        self, roll: OpenRoll, reporter: StepReporter, by: str | None = None
    ) -> StepResult:
        """Take over a roll whose console stopped mid-roll (runbook.execution.rolls): report
        every host's state, follow the hosts still running to their end (`cancel` stops them),
        then close the roll with a `roll` record saying which hosts finished, which never
        started and which are unknown. Blocks; the reporter gets `host`, `output` and
        `finished` (with plan None), never `started`. `by` is who closes it (the operator's
        identity when not given)."""
        with self._guard:
            if self._running:
                raise RuntimeError("this Executor is already running a step")
            self._running, self._cancelled_by = True, None
        try:
            return self._follow_roll(roll, _SerialReporter(reporter), by)
        finally:
            roll.release()  # closed by now, unless something failed: then another may take it
            with self._guard:
                self._running, self._cancelled_by = False, None
                self._active_run_id = None

    def _follow_roll(self, roll: OpenRoll, serial: _SerialReporter, by: str | None) -> StepResult:
        started_at = time.monotonic()
        hosts = {outcome.host: outcome for outcome in roll.host_outcomes(self.config.runs_dir)}
        for each in hosts.values():
            serial.host(None, each)  # type: ignore[arg-type]
        started = roll.runs(self.config.runs_dir)
        for each in hosts.values():  # what the hosts that ended said, as the roll's output
            if each.state != "running" and each.host.name in started:
                for line in runs.read_output(started[each.host.name].directory):
                    text = f"[{each.host.name}] {line.text}"
                    serial.output(None, replace(line, text=text))  # type: ignore[arg-type]
        guard = threading.Lock()

        def follow(outcome: HostOutcome) -> None:
            info = started[outcome.host.name]
            prefix = f"[{outcome.host.name}] "
            state = self._follow(
                info.directory,
                lambda line: serial.output(None, replace(line, text=prefix + line.text)),  # type: ignore[arg-type]
            )
            ended = _host_ended(outcome.host, state, info.run_id)
            with guard:
                hosts[outcome.host] = ended
            serial.host(None, ended)  # type: ignore[arg-type]

        threads = [
            threading.Thread(target=follow, args=(o,), name=f"roll-{o.host.name}", daemon=True)
            for o in hosts.values()
            if o.state == "running"
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        user = by or str(audit.operator_identity().get("user", "?"))
        ordered = tuple(hosts[host] for host in roll.plan.hosts)
        duration_s = round(time.monotonic() - started_at, 3)
        cancelled_by = self._cancel_asked()
        closed = roll.close(
            AuditTrail(self.config.audit_file),
            ordered,
            user,
            {"followed_s": duration_s},
            cancelled_by,
        )
        failed = next((o for o in closed.hosts if o.state == "failed"), None)
        status: StepStatus = "failed" if closed.status == "interrupted" else closed.status
        if cancelled_by is not None:
            status = "cancelled"  # the operator's choice, as for a roll this console started
        result = StepResult(
            status=status,
            exit_code=failed.exit_code if failed else (0 if status == "succeeded" else None),
            reason=None
            if status == "succeeded"
            else ("interrupted: " if closed.status == "interrupted" else "") + closed.summary(),
            cancelled_by=cancelled_by,
            run_ids=tuple(o.run_id for o in closed.hosts if o.run_id),
            ended=runs.now_iso(),
            duration_s=duration_s,
            output_tail=(closed.summary(),),
            hosts=closed.hosts,
        )
        serial.finished(None, result)  # type: ignore[arg-type]
        return result

    def _cancel_asked(self) -> str | None:
        with self._guard:
            return self._cancelled_by if self._running else None

    def _refuse(self, plan: Plan, reporter: StepReporter, reason: str) -> StepResult:
        result = StepResult(status="refused", reason=reason)
        reporter.finished(plan, result)
        return result

    def _holder(self, plan: Plan, run_id: str) -> LockHolder:
        return LockHolder(
            user=str(audit.operator_identity().get("user", "?")),
            pid=os.getpid(),
            since=runs.now_iso(),
            environment=plan.environment,
            runbook=plan.runbook_path,
            procedure=plan.procedure_title or plan.procedure,
            step=plan.step_index,
            run_id=run_id,
        )

    def _roll_record(
        self, event: str, plan: Plan, roll_id: str, **extra: object
    ) -> dict[str, object]:
        masker = Masker.from_env(
            os.environ, self.config.secrets.patterns, self.config.secrets.names
        )
        return {
            "time": runs.now_iso(),
            "event": event,
            "roll_id": roll_id,
            **audit.operator_identity(),
            "environment": plan.environment,
            "production": plan.production,
            "runbook": plan.runbook_path,
            "runbook_sha256": plan.runbook_sha256,
            "procedure": plan.procedure,
            "step": plan.step_index,
            "step_title": plan.step_title,
            "risk": plan.risk,
            "command": masker.mask("\n".join(plan.resolved_commands)),
            "cwd": plan.cwd,
            **extra,
        }

    def _start(
        self,
        plan: Plan,
        code: str,
        timeout_s: float,
        values_env: dict[str, str],
        run_id: str,
        *,
        host: RollHost | None = None,
        roll_id: str | None = None,
        lock: EnvironmentLock | None = None,
    ) -> Path:
        directory = self.config.runs_dir / run_id
        directory.mkdir(parents=True, exist_ok=False)
        repo_root = Path(plan.cwd)
        RunSpec(
            run_id=run_id,
            code=code,
            cwd=plan.cwd,
            timeout_s=timeout_s,
            grace_s=plan.grace_s,
            environment=plan.environment,
            production=plan.production,
            risk=plan.risk,
            mutating=plan.mutating,
            lock_dir=str(self.config.lock_dir),
            audit_file=str(self.config.audit_file),
            history_file=str(history.history_file(repo_root)),
            runbook_path=plan.runbook_path,
            runbook_sha256=plan.runbook_sha256,
            procedure=plan.procedure,
            procedure_title=plan.procedure_title,
            step=plan.step_index,
            step_title=plan.step_title,
            identity=audit.operator_identity(),
            secret_patterns=self.config.secrets.patterns,
            secret_names=self.config.secrets.names,
            verify=tuple(VerifySpec(check.code, check.risk) for check in plan.verify),
            verify_timeout_s=plan.verify_timeout_s,
            keep_runs=self.config.execution.keep_runs,
            keep_runs_days=self.config.execution.keep_runs_days,
            console_pid=os.getpid(),
            created=runs.now_iso(),
            host=host.name if host is not None else None,
            engine=host.engine if host is not None else None,
            roll_id=roll_id,
            lock_fd=lock.fd if lock is not None else None,
        ).write(directory)
        # Inherited only: a size the runbook or config declares is the step's own choice.
        env = {**without_terminal_size(os.environ), **dict(plan.env), **values_env}
        if DOCKER_CONTEXT in values_env:
            env.pop(DOCKER_HOST, None)  # an inherited DOCKER_HOST would win over the context
        package_root = str(Path(runbook.__file__).resolve().parent.parent)
        with (directory / "supervisor.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", _SUPERVISOR_BOOT, package_root, str(directory)],
                env=env,
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                pass_fds=(lock.fd,) if lock is not None else (),
            )
        self._supervisors[str(directory)] = process
        return directory

    def follow(self, info: RunInfo, on_line: Callable[[OutputLine], None]) -> dict[str, object]:
        """Stream an existing run's output (from the start) until it ends; its final state.

        Used to re-attach to a run started by a console that has since gone;
        `cancel` works on it as on a run started here. `StepResult.from_state`
        turns the returned state into a result.
        """
        with self._guard:
            if self._running:
                raise RuntimeError("this Executor is already running a step")
            self._running, self._cancelled_by = True, None
            self._active_run_id = info.run_id
        try:
            return self._follow(info.directory, on_line)
        finally:
            with self._guard:
                self._running, self._cancelled_by = False, None
                self._active_run_id = None

    def _follow(self, directory: Path, on_line: Callable[[OutputLine], None]) -> dict[str, object]:
        tail = runs.OutputTail(directory / "output.jsonl")
        asked = signalled = False
        process = self._supervisors.get(str(directory))
        while True:
            for line in tail.read_new():
                on_line(line)
            state = read_json(directory / "state.json")
            state = state if isinstance(state, dict) else {}
            if state.get("status") in runs.FINAL_STATUSES:
                for line in tail.read_new():
                    on_line(line)
                if process is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=2)
                    self._supervisors.pop(str(directory), None)
                return state
            with self._guard:
                by = self._cancelled_by if self._running else None
            if by is not None and not asked:
                asked = True
                write_json_atomic(directory / "cancel.json", {"by": by, "time": runs.now_iso()})
            pid = state.get("supervisor_pid")
            if asked and not signalled and isinstance(pid, int):
                # Signalled only once the supervisor has said its pid (and so has its handler).
                signalled = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            if self._supervisor_gone(process, state, directory):
                for line in tail.read_new():
                    on_line(line)
                final = read_json(directory / "state.json")
                if isinstance(final, dict) and final.get("status") in runs.FINAL_STATUSES:
                    return final
                return {
                    **state,
                    "status": "failed",
                    "reason": "the supervisor died; see " + str(directory / "supervisor.log"),
                }
            time.sleep(POLL_S)

    @staticmethod
    def _supervisor_gone(
        process: subprocess.Popen[bytes] | None, state: dict[str, object], directory: Path
    ) -> bool:
        if process is not None:
            return process.poll() is not None
        pid = state.get("supervisor_pid")
        if isinstance(pid, int):
            return not runs.pid_alive(pid)
        try:
            age = time.time() - (directory / SPEC_FILE).stat().st_mtime
        except OSError:
            age = float("inf")  # no spec either: nothing will ever run there
        return age > SUPERVISOR_START_S


def _host_ended(host: RollHost, state: Mapping[str, object], run_id: str) -> HostOutcome:
    """How one host of a roll ended, from its run's final state."""
    result = StepResult.from_state(state, (run_id,))
    ended = {"succeeded": "ok", "cancelled": "cancelled"}.get(result.status, "failed")
    reason = result.reason or (
        f"cancelled by {result.cancelled_by}" if result.cancelled_by else None
    )
    return HostOutcome(host, ended, result.exit_code, run_id, reason)  # type: ignore[arg-type]


def _script(plan: Plan) -> tuple[str, float, dict[str, str]]:
    """The step's commands as one script, its timeout and the values given as environment."""
    code = "\n".join(plan.resolved_commands)
    timeout_s = sum(command.timeout_s for command in plan.commands)
    values_env: dict[str, str] = {}
    for command in plan.commands:
        values_env.update(command.env)
    for check in plan.verify:
        values_env.update(check.env)
    return code, timeout_s, values_env


class _SerialReporter:
    """A reporter the hosts of a batch share: one call at a time, as StepReporter promises."""

    def __init__(self, inner: StepReporter) -> None:
        self.inner = inner
        self.guard = threading.Lock()

    def started(self, plan: Plan) -> None:
        with self.guard:
            self.inner.started(plan)

    def output(self, plan: Plan, line: OutputLine) -> None:
        with self.guard:
            self.inner.output(plan, line)

    def finished(self, plan: Plan, result: StepResult) -> None:
        with self.guard:
            self.inner.finished(plan, result)

    def host(self, plan: Plan, outcome: HostOutcome) -> None:
        if isinstance(self.inner, RollReporter):
            with self.guard:
                self.inner.host(plan, outcome)


def repository_root(runbook_path: str | None) -> Path:
    return paths.repository_root(runbook_path)
