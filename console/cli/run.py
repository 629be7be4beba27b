"""`runbook-console run PATH --procedure NAME`: walk a procedure on a plain terminal.

Each step is printed; read-only commands run at once; mutating and destructive
ones ask y/N (for production, the environment's name typed out). Without a
terminal, mutating steps are refused unless `--confirm ENV` names the target
environment. Output streams with timestamps; Ctrl-C cancels the running step.

Exit codes: 0 every step ran and succeeded, 1 a step failed, was cancelled or
timed out, 2 usage or file problems, 3 a step was refused or declined.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from console.cli._common import CliError, load_settings
from runbook.config import DEFAULT_ENVIRONMENT, Config
from runbook.execution.executor import Executor, StepReporter, StepResult
from runbook.execution.plan import Confirmation, ConfirmationError, Plan, PlanError, verify_commands
from runbook.execution.resolve import default_value, placeholder_name, suggestions
from runbook.execution.rollout import HostOutcome
from runbook.execution.runs import OutputLine, unfinished_runs
from runbook.model import Procedure, Runbook, Step
from runbook.storage.session import Session, SessionStore, StepStatus, checklist_status

NAME = "run"
HELP = "Walk a procedure on a plain terminal: confirm, run, stream output, record."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="the runbook markdown file")
    parser.add_argument("--procedure", "-p", required=True, help="procedure title or key")
    parser.add_argument("--step", "-s", type=int, metavar="N", help="run only step N")
    parser.add_argument(
        "--env", "-e", metavar="ENV", help=f"target (default {DEFAULT_ENVIRONMENT})"
    )
    parser.add_argument("--dry-run", action="store_true", help="print resolved commands only")
    parser.add_argument(
        "--var", action="append", default=[], metavar="K=V", help="a variable's value"
    )
    parser.add_argument(
        "--confirm", metavar="ENV", help="confirm mutating steps against ENV without a terminal"
    )
    parser.add_argument("--resume", action="store_true", help="skip steps already done")
    parser.add_argument("--config", metavar="FILE", help="config file to use")


@dataclass
class _Printer:
    """The plain-terminal StepReporter: timestamped lines, stderr kept on stderr."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def started(self, plan: Plan) -> None:
        print(f"  running in {plan.cwd} ({plan.environment})", file=self.out, flush=True)

    def output(self, plan: Plan, line: OutputLine) -> None:
        stamp = _clock(line.time)
        if line.stream == "stderr":
            print(f"{stamp} ! {line.text}", file=self.err, flush=True)
        elif line.stream == "system":
            print(f"{stamp} # {line.text}", file=self.out, flush=True)
        else:
            print(f"{stamp} | {line.text}", file=self.out, flush=True)

    def host(self, plan: Plan, outcome: HostOutcome) -> None:
        """One line per change of a roll's host (pending ones are in the plan printed)."""
        if outcome.state == "pending":
            return
        line = f"  host {outcome.host.name}: {outcome.state}"
        if outcome.exit_code is not None and outcome.state != "running":
            line += f" (exit {outcome.exit_code})"
        if outcome.reason and outcome.state != "ok":
            line += f": {outcome.reason}"
        failed = outcome.state in ("failed", "cancelled")
        print(line, file=self.err if failed else self.out, flush=True)

    def finished(self, plan: Plan, result: StepResult) -> None:
        if result.hosts and result.ok:
            print(f"  roll: {result.output_tail[0]}", file=self.out, flush=True)
        if result.status == "refused":
            print(f"  refused: {result.reason}", file=self.err, flush=True)
        elif result.reason and not result.ok:
            print(f"  {result.status}: {result.reason}", file=self.err, flush=True)
        elif result.verified:
            checks = len(plan.verify)
            noun = "check" if checks == 1 else "checks"
            print(f"  verified: {checks} {noun} passed", file=self.out, flush=True)


def _clock(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return iso


def parse_vars(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CliError(f"--var {pair!r}: expected NAME=VALUE")
        values[name.strip().strip("<>")] = value
    return values


def run(args: argparse.Namespace) -> int:
    config = load_settings(args.config)
    from runbook.document.parser import LoadError, load

    try:
        runbook = load(args.path)
    except LoadError as error:
        raise CliError(str(error), error.exit_code) from None
    procedure = runbook.procedure(args.procedure)
    if procedure is None:
        names = ", ".join(repr(p.title) for p in runbook.procedures) or "none"
        raise CliError(f"no procedure {args.procedure!r} in {args.path} (procedures: {names})")
    steps = list(procedure.steps)
    if args.step is not None:
        steps = [s for s in steps if s.index == args.step]
        if not steps:
            raise CliError(f"procedure {procedure.title!r} has no step {args.step}")
    walker = _Walker(args, config, runbook, procedure, parse_vars(args.var))
    return walker.walk(steps)


class _Walker:
    def __init__(
        self,
        args: argparse.Namespace,
        config: Config,
        runbook: Runbook,
        procedure: Procedure,
        values: dict[str, str],
    ) -> None:
        self.args = args
        self.config = config
        self.runbook = runbook
        self.procedure = procedure
        self.values = values
        self.environment = args.env or DEFAULT_ENVIRONMENT
        self.interactive = sys.stdin.isatty() and sys.stdout.isatty()
        self.executor = Executor(config)
        self.reporter: StepReporter = _Printer()
        self.session: Session | None = None

    def walk(self, steps: list[Step]) -> int:
        if not self.args.dry_run:
            self._report_unfinished_runs()
            self.session = self._open_session()
            self._offer_resume(steps)
        worst = 0
        for step in steps:
            code = self.step(step, len(self.procedure.steps))
            worst = max(worst, code)
            if code:
                break
        return worst

    def _report_unfinished_runs(self) -> None:
        """Steps of this runbook still running (a console that died, another operator)."""
        for info in unfinished_runs(self.config.runs_dir, self.runbook.path):
            spec = info.spec
            who = spec.get("identity", {}).get("user", "?")
            print(
                f"note: step {spec.get('step')} of {spec.get('procedure_title')!r} is still "
                f"{info.status} ({spec.get('environment')}, started by {who}); "
                f"follow it with: runbook-console runs {info.run_id}",
                flush=True,
            )

    def _offer_resume(self, steps: list[Step]) -> None:
        if self.session is None or self.args.resume or self.args.step is not None:
            return
        key = self.procedure.key
        done = [s for s in steps if self.session.step(key, s.index).status in ("done", "skipped")]
        if not done or not self.interactive:
            return
        answer = input(f"Resume: skip the {len(done)} step(s) already done? [Y/n] ")
        self.args.resume = answer.strip().lower() in ("", "y", "yes")

    def _open_session(self) -> Session | None:
        if self.runbook.path is None:
            return None
        from pathlib import Path

        from runbook.incident.store import IncidentStore

        # During an open incident of this runbook and environment, its own checklist.
        path = str(Path(self.runbook.path).resolve())
        try:
            incidents = IncidentStore(self.config.state_dir / "incidents")
            incident = incidents.open_for(path, self.runbook.sha256, self.environment)
        except (OSError, ValueError, TypeError, KeyError):
            incident = None
        store = SessionStore(self.config.sessions_dir)
        try:
            return store.resume(
                self.runbook.path,
                self.runbook.sha256,
                self.environment,
                incident.id if incident is not None else None,
            )
        except OSError as error:
            where = f" ({error.filename})" if error.filename else ""
            print(
                f"note: progress is not saved: {error.strerror or error}{where}",
                file=sys.stderr,
                flush=True,
            )
            return None

    def step(self, step: Step, total: int) -> int:
        print(f"\nStep {step.index}/{total} [{step.risk}] {step.title}", flush=True)
        key = self.procedure.key
        if (
            self.session
            and self.args.resume
            and self.session.step(key, step.index).status in ("done", "skipped")
        ):
            print("  already done in the saved session; skipping", flush=True)
            return 0
        if not step.commands:
            print("  " + step.text.strip().replace("\n", "\n  "), flush=True)
            if self.args.dry_run or not self.interactive:
                print("  (no command: a step for the operator)", flush=True)
                return 0
            answer = input("  Done? [y/N/s=skip] ").strip().lower()
            if self.session and answer in ("y", "s"):
                marked: StepStatus = "done" if answer == "y" else "skipped"
                self.session.mark(key, step.index, marked, by=_user())
            return 0
        try:
            plan = self._plan(step)
        except PlanError as error:
            raise CliError(str(error)) from None
        if self.args.dry_run:
            print(_details(plan), flush=True)
            if plan.missing:
                print("  missing values: " + ", ".join(plan.missing), flush=True)
            return 0
        confirmation = self._confirm(plan)
        if plan.needs_confirmation and confirmation is None:
            return 3
        if self.session:
            self.session.mark(key, step.index, "running", by=_user())
        result = self._execute(plan, confirmation)
        if self.session:
            status = checklist_status(result.status)
            self.session.mark(
                key,
                step.index,
                status,
                by=(result.cancelled_by if status == "cancelled" else None) or _user(),
                reason=None if result.ok else (result.reason or result.status),
                exit_code=result.exit_code,
                output=[("stdout", text) for text in result.output_tail],
            )
            for run_id in result.run_ids:
                self.session.step(key, step.index).run_ids.append(run_id)
            self.session.save()
        if result.status == "refused":
            return 3
        return 0 if result.ok else 1

    def _plan(self, step: Step) -> Plan:
        plan = self.executor.plan(
            self.runbook, self.procedure, step, environment=self.environment, values=self.values
        )
        if plan.missing and self.interactive and not self.args.dry_run:
            for command in (*step.commands, *verify_commands(step)):
                for variable in command.variables:
                    name = placeholder_name(variable)
                    if name not in plan.missing or name in self.values:
                        continue
                    offered = suggestions(command, variable)
                    notes = [f"assigned by {variable.assigned_by}"] if variable.assigned_by else []
                    notes += [f"e.g. {', '.join(offered[:5])}"] if offered else []
                    hint = f" ({'; '.join(notes)})" if notes else ""
                    default = default_value(variable, {}, {})
                    answer = input(f"  value for {name}{hint}: ").strip() or (default or "")
                    if answer:
                        self.values[name] = answer
            plan = self.executor.plan(
                self.runbook, self.procedure, step, environment=self.environment, values=self.values
            )
        return plan

    def _confirm(self, plan: Plan) -> Confirmation | None:
        if not plan.needs_confirmation:
            return None
        print(_details(plan), flush=True)
        if plan.missing:
            return plan.confirm(typed=plan.environment)  # refused as missing values next
        if self.args.confirm is not None:
            try:
                if self.args.confirm.strip().casefold() != plan.environment.casefold():
                    raise ConfirmationError(
                        f"--confirm {self.args.confirm} does not name the target {plan.environment}"
                    )
                return plan.confirm(typed=self.args.confirm)
            except ConfirmationError as error:
                print(f"  refused: {error}", file=sys.stderr, flush=True)
                return None
        if not self.interactive:
            print(
                f"  refused: a {plan.risk} step needs confirmation; without a terminal pass "
                f"--confirm {plan.environment}",
                file=sys.stderr,
                flush=True,
            )
            return None
        try:
            if plan.production:
                typed = input(f"  Type {plan.environment} to run this in production: ")
                return plan.confirm(typed=typed)
            if input("  Run it? [y/N] ").strip().lower() in ("y", "yes"):
                return plan.confirm()
        except (ConfirmationError, EOFError) as error:
            print(f"  not confirmed: {error}", file=sys.stderr, flush=True)
            return None
        print("  declined", flush=True)
        return None

    def _execute(self, plan: Plan, confirmation: Confirmation | None) -> StepResult:
        results: list[StepResult] = []
        done = threading.Event()

        def work() -> None:
            try:
                results.append(self.executor.run(plan, self.reporter, confirmation))
            finally:
                done.set()

        # Ctrl-C only raises a flag here: the handler must not take the executor's lock.
        interrupts: list[int] = []
        previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupts.append(signum))
        try:
            threading.Thread(target=work, name="runbook-step", daemon=True).start()
            cancelled = False
            while not done.wait(0.1):
                if interrupts and not cancelled:
                    cancelled = True
                    print("\n  cancelling (SIGTERM, then SIGKILL after grace)...", flush=True)
                    self.executor.cancel(by=_user())
        finally:
            signal.signal(signal.SIGINT, previous)
        return results[0] if results else StepResult(status="failed", reason="executor crashed")


def _details(plan: Plan) -> str:
    """The plan as a confirmation shows it, without the step title already printed."""
    return plan.describe().split("\n", 1)[1]


def _user() -> str:
    from runbook.execution.audit import operator_identity

    return str(operator_identity()["user"])
