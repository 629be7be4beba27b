"""The bridge between the console and the core's executor.

The executor runs on a worker thread; `ConsoleReporter` turns its callbacks into
messages, the only thing code on that thread does with the UI. Confirmation happens
on the UI side before `run` is called, and the executor checks it again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from console.messages import RollHostChanged, StepFinished, StepOutput, StepStarted
from console.requests import ConfirmRequest, VariableQuestion
from console.settings import ConsoleSettings
from runbook.execution import resolve
from runbook.execution.locks import read_holder
from runbook.execution.masking import is_secret_name
from runbook.execution.plan import Confirmation, Plan, verify_commands
from runbook.execution.runs import OutputLine, RunInfo
from runbook.model import Procedure, Runbook, Step

if TYPE_CHECKING:
    from textual.message import Message

    from runbook.execution.executor import Executor, StepReporter, StepResult
    from runbook.execution.rollout import HostOutcome
    from runbook.execution.rolls import OpenRoll

STREAMS = {"stdout": "stdout", "stderr": "stderr", "system": "info"}
"""Executor stream names to the output pane's."""
DRY_RUN_LINES = 200
"""A dry-run shows at most this many lines in the output pane: the first and the last
halves (every line of a 100,000-line command, wrapped in the pane, took seconds)."""


class MessageSink(Protocol):
    """Where the reporter's messages go: the app (its post_message is thread-safe)."""

    def post_message(self, message: Message) -> bool: ...


class ConsoleReporter:
    """The executor's StepReporter: posts messages to the app (post_message is thread-safe)."""

    def __init__(self, app: MessageSink, procedure_key: str, step_index: int) -> None:
        self.app = app
        self.procedure_key = procedure_key
        self.step_index = step_index

    def started(self, plan: Plan) -> None:
        command = "\n".join(plan.resolved_commands)
        self.app.post_message(StepStarted(self.procedure_key, self.step_index, command))

    def output(self, plan: Plan | None, line: OutputLine) -> None:
        stream = STREAMS.get(line.stream, "stdout")
        self.app.post_message(
            StepOutput(self.procedure_key, self.step_index, [(stream, line.text)])
        )

    def host(self, plan: Plan | None, outcome: HostOutcome) -> None:
        self.app.post_message(
            RollHostChanged(
                self.procedure_key,
                self.step_index,
                outcome.host.name,
                outcome.state,
                outcome.exit_code,
                outcome.reason or "",
            )
        )

    def finished(self, plan: Plan | None, result: StepResult) -> None:
        detail = result.reason or ""
        if result.cancelled_by:
            detail = f"cancelled by {result.cancelled_by}"
        # The step's command exited 0 when only its check failed; the reason says which code.
        exit_code = None if result.verified is False else result.exit_code
        self.app.post_message(
            StepFinished(
                self.procedure_key,
                self.step_index,
                result.status,
                exit_code,
                detail,
                cancelled_by=result.cancelled_by,
                run_ids=result.run_ids,
            )
        )


def run_detachable(blocking: Callable[[], object], poll_s: float = 0.1) -> None:
    """Run `blocking` on a daemon thread and wait for it from the calling thread worker.

    A step outlives the console: when the app quits, Textual cancels the worker, which
    stops waiting here, and the daemon thread (only following the detached supervisor's
    files) no longer holds the process open. Exceptions reach the worker, so a failure
    still becomes a notification.
    """
    from textual.worker import get_current_worker

    errors: list[BaseException] = []

    def target() -> None:
        try:
            blocking()
        except BaseException as error:  # noqa: BLE001 - handed to the worker below
            errors.append(error)

    thread = threading.Thread(target=target, name="runbook-step", daemon=True)
    thread.start()
    worker = get_current_worker()
    while thread.is_alive():
        thread.join(poll_s)
        if worker.is_cancelled:
            return
    if errors:
        raise errors[0]


class Driver:
    """What the console asks of the core for one runbook and environment."""

    def __init__(self, runbook: Runbook, settings: ConsoleSettings, environment: str) -> None:
        self.runbook = runbook
        self.settings = settings
        self.environment = environment
        self.config = settings.config
        self.env_settings = self.config.environment(environment).env
        self._executor: Executor | None = None

    @property
    def executor(self) -> Executor:
        # Imported on first use: process handling is not needed to draw the first frame.
        if self._executor is None:
            from runbook.execution.executor import Executor

            self._executor = Executor(self.config)
        return self._executor

    def edited_on_disk(self) -> bool:
        """Whether the runbook's file is no longer the text shown (a confirmation of the
        shown text would be refused)."""
        from runbook.execution.plan import file_sha256

        path = self.runbook.path
        return path is not None and file_sha256(path) != self.runbook.sha256

    def questions(self, step: Step) -> list[VariableQuestion]:
        """The variables the step's commands need, with their defaults."""
        seen: dict[str, VariableQuestion] = {}
        for command in (*step.commands, *verify_commands(step)):
            for variable in command.variables:
                if variable.kind == "export":
                    continue
                name = resolve.placeholder_name(variable)
                if name in seen:
                    continue
                default = (
                    self.settings.variables.get(name)
                    or resolve.default_value(variable, self.env_settings, os.environ)
                    or ""
                )
                hint = "image tag" if resolve.image_repository(command, variable) else ""
                if variable.assigned_by:
                    # A literal is offered as a suggestion; a computed value must be typed.
                    typed = "" if variable.earlier_value else "; type the value it gave"
                    hint = f"assigned by {variable.assigned_by}{typed}"
                secret = is_secret_name(name, self.config.secrets.names)
                seen[name] = VariableQuestion(name=name, default=default, hint=hint, secret=secret)
        return list(seen.values())

    def suggestions(self, step: Step) -> dict[str, list[str]]:
        """Offers per variable (image tags the Docker engine holds); slow, so run on a thread."""
        offers: dict[str, list[str]] = {}
        for command in step.commands:
            for variable in command.variables:
                name = resolve.placeholder_name(variable)
                if name not in offers:
                    offers[name] = resolve.suggestions(command, variable)
        return offers

    def plan(self, procedure: Procedure, step: Step, values: dict[str, str]) -> Plan:
        values = {**self.settings.variables, **values}
        return self.executor.plan(
            self.runbook, procedure, step, environment=self.environment, values=values
        )

    def dry_run_lines(self, plan: Plan) -> list[str]:
        """What a run would do, as lines; starts nothing. Past `DRY_RUN_LINES`, the middle
        of the commands is left out, and a line says how much."""
        lines = plan.describe().splitlines()
        if len(lines) > DRY_RUN_LINES:
            kept = DRY_RUN_LINES // 2
            left_out = len(lines) - 2 * kept
            lines[kept:-kept] = [
                f"    … {left_out:,} lines not shown (f in the step's detail shows every one)"
            ]
        if plan.missing:
            lines.append(f"missing values: {', '.join(plan.missing)}")
        lines.append(
            "needs confirmation" if plan.needs_confirmation else "runs without confirmation"
        )
        return lines

    def confirm_request(
        self,
        plan: Plan,
        title: str | None = None,
        lock_dir: Path | None = None,
        drill: bool = False,
    ) -> ConfirmRequest:
        """What the confirmation shows, with whoever holds the environment's lock now.

        `title` replaces "procedure › step n: title" (a container action's); `lock_dir`
        the config's (a drill's sandbox has its own). A `drill`'s dialog is marked [DRILL].
        """
        holder = read_holder(lock_dir or self.config.lock_dir, plan.environment)
        return ConfirmRequest.from_plan(
            plan,
            title=title or f"{plan.procedure_title} › step {plan.step_index}: {plan.step_title}",
            lock_note=holder.describe() if holder is not None else "",
            drill=drill,
        )

    def run(
        self, plan: Plan, confirmation: Confirmation | None, reporter: StepReporter
    ) -> StepResult:
        """Run the planned step; blocks, so it is called from a thread worker."""
        return self.executor.run(plan, reporter, confirmation)

    def follow(self, info: RunInfo, reporter: ConsoleReporter) -> None:
        """Re-attach to a run a previous console started; blocks until it ends."""
        state = self.executor.follow(info, lambda line: reporter.output(None, line))
        from runbook.execution.executor import StepResult

        reporter.finished(None, StepResult.from_state(state, (info.run_id,)))

    def follow_roll(self, roll: OpenRoll, reporter: ConsoleReporter) -> None:
        """Take over a roll a previous console left mid-roll; blocks until it is closed."""
        self.executor.follow_roll(roll, reporter, self.settings.user)

    def cancel(self, by: str) -> None:
        """Ask the running step to stop (thread-safe)."""
        self.executor.cancel(by)
