"""The step runner: the one way the console runs anything.

    app.runner.run_step(procedure, step, dry_run)  # a checklist step: r, d, the palette
    app.runner.run_container_action(request)       # ContainerActionRequested (containers pane)
    app.runner.run_drill_step(request)             # DrillStepRequested (the drill screen)
    app.runner.cancel()

Whatever runs, the same rules hold, in this order: one run at a time in a console; a
read-only console refuses, in words, what changes things; the variables a command needs
are asked for; the plan is shown for confirmation with whoever holds the environment's
lock (production asks for its name to be typed). The executor's supervisor then takes
the environment lock, masks the output and writes the audit trail, and an open incident
records the command with its exit status. The executor reports through
`console.driver.ConsoleReporter` as StepStarted, StepOutput and StepFinished messages,
which the app hands to `started`, `output` and `finished` here.

A container action is not a checklist step: it runs as the pseudo procedure
"containers", shows in the output pane and ticks nothing. A drill step, and a container
action from the drill screen's panes, runs in the drill's sandbox through the drill (its
executor, lock directory and incident); read-only does not stop these, since they
change only the sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, Literal, Protocol

from console.messages import DrillStepRan, StepFinished
from runbook.storage.session import checklist_status

if TYPE_CHECKING:
    from textual.message import Message
    from textual.message_pump import MessagePump
    from textual.notifications import SeverityLevel
    from textual.worker import Worker

    from console.driver import Driver
    from console.incident_bridge import IncidentBridge
    from console.messages import DrillStepRequested, RollHostChanged, StepOutput, StepStarted
    from console.panes.messages import ContainerActionRequested
    from console.progress import Progress, StepStatus
    from console.screens.main import MainScreen
    from console.screens.variables import VariablesScreen
    from console.session import SessionKeeper
    from console.settings import ConsoleSettings
    from runbook.drills.runner import Drill
    from runbook.execution.plan import Confirmation, Plan
    from runbook.execution.rolls import OpenRoll
    from runbook.execution.runs import RunInfo
    from runbook.model import Procedure, Runbook, Step

RunKind = Literal["step", "container", "drill"]
CONTAINERS = "containers"
"""The pseudo procedure key of container actions (step 0: no checklist step has it)."""


class RunnerHost(Protocol):
    """What the runner needs of the console it runs in (the app): its runbook, settings and
    state, the screen to show output on, and Textual's services. Typed here so that the
    runner never imports the app (console.app imports the runner)."""

    runbook: Runbook
    settings: ConsoleSettings
    environment: str
    read_only: bool
    progress: Progress
    session: SessionKeeper
    incidents: IncidentBridge

    @property
    def main_screen(self) -> MainScreen | None: ...

    @property
    def session_state(self) -> str: ...

    def refresh_step(self, procedure_key: str, step_index: int) -> None: ...

    def update_status(self, **values: object) -> None: ...

    def set_status(
        self,
        procedure_key: str,
        step_index: int,
        status: StepStatus,
        reason: str | None = None,
        exit_code: int | None = None,
        by: str | None = None,
    ) -> None: ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...

    def post_message(self, message: Message) -> bool: ...

    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    async def push_screen_wait(self, screen: Any) -> Any: ...

    def reload_runbook(self, why: str = "") -> None: ...

    def run_worker(
        self,
        work: Any,
        name: str | None = "",
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        start: bool = True,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[Any]: ...


@dataclass(frozen=True)
class Run:
    """What runs now: one at a time per console."""

    kind: RunKind
    procedure_key: str
    step_index: int
    title: str
    drill: Drill | None = None
    """The drill whose sandbox it runs in, if any."""
    reply_to: MessagePump | None = None
    """Gets `DrillStepRan` when a drill step ends."""
    cursor_mark: int | None = None
    """The checklist cursor when a step's run started (see MainScreen.advance_from); None
    for a run this console did not start (followed after a restart): it never moves it."""

    @property
    def key(self) -> tuple[str, int]:
        return (self.procedure_key, self.step_index)

    @property
    def name(self) -> str:
        """How it is named: "step 3", "docker restart web-blue", "drill step 2"."""
        if self.kind == "container":
            return self.title
        return f"{'drill step' if self.kind == 'drill' else 'step'} {self.step_index}"

    @property
    def label(self) -> str:
        """The name at the start of a sentence (a command stays as typed)."""
        return self.name if self.kind == "container" else self.name.capitalize()


class StepRunner:
    """Confirms, runs, cancels and records every run of one console."""

    def __init__(self, app: RunnerHost) -> None:
        self.app = app
        self.current: Run | None = None
        self.preparing: tuple[str, int] | None = None
        """(procedure key, step index) of the step whose run is being prepared (its plan
        worked out, its dialogs open), from `r` or `d` until it starts or is given up."""
        self._planning = False
        """The plan is being worked out (the status bar says so)."""

    @cached_property
    def driver(self) -> Driver:
        """The bridge to the executor, built when something first runs."""
        # Imported here: planning and running steps are not needed to draw the checklist.
        from console.driver import Driver

        app = self.app
        return Driver(app.runbook, app.settings, app.environment)

    @property
    def running(self) -> tuple[str, int] | None:
        """(procedure key, step index) of what runs now; ("containers", 0) for an action."""
        return self.current.key if self.current is not None else None

    def describe(self) -> str | None:
        """What runs, as the status bar says it ("running step 3", "preparing step 2…"),
        or None."""
        if self.current is not None:
            return f"running {self.current.name}"
        if self._planning and self.preparing is not None:
            return f"preparing step {self.preparing[1]}…"
        return None

    # Refusals (said in words, never silent) ---------------------------------------------

    def _busy(self) -> bool:
        if self.current is None:
            return False
        self.app.notify(
            f"{self.current.label} is still running: one step at a time (c cancels).",
            severity="warning",
        )
        return True

    def _refuse_read_only(self, what: str) -> None:
        self.app.notify(
            f"Read-only console: {what} changes things and is not run here.", severity="warning"
        )

    async def _confirm(
        self, plan: Plan, label: str, title: str | None = None, drill: Drill | None = None
    ) -> tuple[bool, Confirmation | None]:
        """(go ahead, confirmation): the dialog for plans that need it, with the lock holder."""
        from console.screens.confirm import ConfirmScreen
        from runbook.execution.plan import ConfirmationError

        if not plan.needs_confirmation:
            return True, None
        app = self.app
        lock_dir = drill.config.lock_dir if drill is not None else None
        confirm = ConfirmScreen(
            self.driver.confirm_request(plan, title, lock_dir, drill=drill is not None),
            arm_delay=app.settings.confirm_arm_delay,
        )
        if not await app.push_screen_wait(confirm):
            app.notify(f"{label} not run.", timeout=3)
            return False, None
        try:
            return True, plan.confirm(typed=confirm.typed, by=app.settings.user)
        except ConfirmationError as error:
            app.notify(str(error), severity="error")
            return False, None

    # Checklist steps ----------------------------------------------------------------

    def run_step(self, procedure: Procedure, step: Step, dry_run: bool) -> None:
        """Ask for variables and confirmation, then hand the step to the executor.

        The status bar says at once that the step is being prepared; another `r` meanwhile
        is answered in words and starts nothing (the first preparation goes on)."""
        app = self.app
        if self._still_preparing():
            return
        self.preparing = (procedure.key, step.index)
        self._show_planning(True)
        app.run_worker(
            self._prepared_flow(procedure, step, dry_run),
            group="step-flow",
            exclusive=True,
            exit_on_error=False,
            description="Preparing a run",
        )

    def _still_preparing(self) -> bool:
        """A step's run is being prepared: said in words (another flow started now would
        cancel it, the step-flow workers being exclusive)."""
        if self.preparing is None:
            return False
        self.app.notify(
            f"Step {self.preparing[1]} is being prepared: one at a time.",
            severity="warning",
            timeout=3,
        )
        return True

    def _show_planning(self, planning: bool) -> None:
        self._planning = planning
        app = self.app
        app.update_status(session_state=app.session_state, running=planning or bool(self.current))

    async def _prepared_flow(self, procedure: Procedure, step: Step, dry_run: bool) -> None:
        try:
            await self._step_flow(procedure, step, dry_run)
        finally:
            self.preparing = None
            if self._planning:
                self._show_planning(False)

    async def _step_flow(self, procedure: Procedure, step: Step, dry_run: bool) -> None:
        # The dialogs are imported when a step is run, not for the first frame.
        from console.screens.variables import VariablesScreen

        app = self.app
        if not dry_run and self._busy():
            return
        if step.kind == "wait" and not step.commands:
            if dry_run:
                app.notify(f"Would wait {step.wait_s or 0:.0f} s.")
                return
            app.progress.start_timer(procedure.key, step.index)
            app.refresh_step(procedure.key, step.index)
            return
        if not step.commands:
            app.notify(
                f"Step {step.index} has nothing to run: do it, then tick it (space).",
                severity="information",
            )
            return
        if app.read_only and step.risk != "read-only" and not dry_run:  # hidden, yet say why
            self._refuse_read_only("this step")
            return
        # Reading the commands is CPU work that grows with them: on a thread, so keys and
        # the clock are answered meanwhile.
        questions = await asyncio.to_thread(self.driver.questions, step)
        values: dict[str, str] = {}
        if questions:
            form = VariablesScreen(f"Values for step {step.index}: {step.title}", questions)
            self._offer_suggestions(form, step)
            self._show_planning(False)
            answer = await app.push_screen_wait(form)
            if answer is None:
                return
            values = answer
            self._show_planning(True)
        plan = await asyncio.to_thread(self.driver.plan, procedure, step, values)
        # Hashing the file is disk work: off the event loop.
        if (
            not dry_run
            and plan.needs_confirmation
            and await asyncio.to_thread(self.driver.edited_on_disk)
        ):
            # Confirming the old text would be refused: take the new one, show what changed.
            app.reload_runbook("The runbook changed on disk since it was opened. ")
            return
        self._show_planning(False)
        if dry_run:
            screen = app.main_screen
            if screen is not None:
                output = screen.show_output()
                output.begin(
                    f"Dry-run of step {step.index}: nothing was started",
                    running=False,
                    step=(procedure.key, step.index),
                )
                output.write_lines([("info", line) for line in self.driver.dry_run_lines(plan)])
            return
        if plan.missing:
            app.notify(f"Missing values: {', '.join(plan.missing)}", severity="warning")
            return
        go, confirmation = await self._confirm(plan, f"Step {step.index}")
        if not go or self._busy():  # something else may have started during the dialogs
            return
        screen = app.main_screen
        mark = screen.cursor_mark if screen is not None else None
        run = Run("step", procedure.key, step.index, step.title, cursor_mark=mark)
        app.progress.set_status(procedure.key, step.index, "running")
        hosts = [host.name for host in plan.roll.hosts] if plan.roll is not None else []
        record = app.progress.record(procedure.key, step.index)
        record.hosts, record.host_details = dict.fromkeys(hosts, "pending"), {}
        app.refresh_step(procedure.key, step.index)
        self._start(run, plan, confirmation, f"step {step.index}: {step.title}")
        if screen is not None and hosts:
            screen.show_output().hosts.show_hosts(hosts)

    def _offer_suggestions(self, form: VariablesScreen, step: Step) -> None:
        def offer() -> None:
            for name, offered in self.driver.suggestions(step).items():
                if offered:
                    self.app.call_from_thread(form.set_suggestions, name, offered)

        self.app.run_worker(
            offer,
            thread=True,
            group="suggestions",
            exit_on_error=False,
            description="Image tags for variables",
        )

    # Container actions ----------------------------------------------------------------

    def run_container_action(self, request: ContainerActionRequested) -> None:
        """A containers pane's action (restart, inspect, logs), run like a step."""
        if self._still_preparing():
            return
        self.app.run_worker(
            self._container_flow(request),
            group="step-flow",
            exclusive=True,
            exit_on_error=False,
            description="Preparing a container action",
        )

    async def _container_flow(self, request: ContainerActionRequested) -> None:
        plan, title = request.plan, request.title
        drill = request.drill
        if self._busy():
            return
        if self.app.read_only and plan.risk != "read-only" and drill is None:
            self._refuse_read_only(title)
            return
        go, confirmation = await self._confirm(plan, title, title, drill)
        if not go or self._busy():
            return
        self._start(Run("container", CONTAINERS, 0, title, drill=drill), plan, confirmation, title)

    # Drill steps ------------------------------------------------------------------------

    def run_drill_step(self, request: DrillStepRequested) -> None:
        """A drill step, confirmed as in a real incident (the dialog marked [DRILL]), then
        run for real in the drill's sandbox."""
        if self._still_preparing():
            from runbook.execution.executor import StepResult

            refused = StepResult(status="refused", reason="a step is being prepared")
            request.reply_to.post_message(DrillStepRan(request.index, refused))
            return
        self.app.run_worker(
            self._drill_flow(request),
            group="step-flow",
            exclusive=True,
            exit_on_error=False,
            description="Preparing a drill step",
        )

    async def _drill_flow(self, request: DrillStepRequested) -> None:
        from runbook.drills.runner import DrillError
        from runbook.execution.executor import StepResult
        from runbook.execution.plan import PlanError

        def refuse(reason: str) -> None:
            refused = StepResult(status="refused", reason=reason)
            request.reply_to.post_message(DrillStepRan(request.index, refused))

        if self._busy():
            refuse("another step is running")
            return
        drill = request.drill
        try:
            plan = drill.plan(request.index)
        except (DrillError, PlanError) as error:
            refuse(str(error))
            return
        label = f"Drill step {request.index}"
        go, confirmation = await self._confirm(plan, label, None, drill)
        if not go:
            refuse("not confirmed")
            return
        if self._busy():
            refuse("another step is running")
            return
        run = Run(
            "drill",
            drill.procedure.key,
            request.index,
            f"drill step {request.index}",
            drill=drill,
            reply_to=request.reply_to,
        )
        self.current = run
        self._begin_output(f"drill step {request.index} in the sandbox")
        self.app.run_worker(
            partial(self._execute_drill_step, run, drill, request.index, confirmation),
            thread=True,
            group="step-run",
            exclusive=True,
            exit_on_error=False,
            description="Running a drill step",
        )

    def _execute_drill_step(
        self, run: Run, drill: Drill, index: int, confirmation: Confirmation | None
    ) -> None:
        from console.driver import ConsoleReporter, run_detachable  # with the driver

        reporter = ConsoleReporter(self.app, run.procedure_key, run.step_index)

        def blocking() -> None:
            result = drill.run_step(index, reporter=reporter, confirmation=confirmation)
            if run.reply_to is not None:
                run.reply_to.post_message(DrillStepRan(index, result))

        run_detachable(blocking)

    # Running, following, cancelling ------------------------------------------------------

    def _begin_output(self, banner: str, step: tuple[str, int] | None = None) -> None:
        screen = self.app.main_screen
        if screen is not None:
            screen.show_output().begin(f"▶ {banner} · c cancels", step=step)

    def _start(self, run: Run, plan: Plan, confirmation: Confirmation | None, banner: str) -> None:
        self.current = run
        self._begin_output(banner, run.key if run.kind == "step" else None)
        self.app.run_worker(
            partial(self._execute, run, plan, confirmation),
            thread=True,
            group="step-run",
            exclusive=True,
            exit_on_error=False,
            description=f"Running {run.name}",
        )

    def _execute(self, run: Run, plan: Plan, confirmation: Confirmation | None) -> None:
        """On a thread: the executor runs the plan; the reporter posts what happens."""
        from console.driver import ConsoleReporter, run_detachable  # with the driver

        reporter = ConsoleReporter(self.app, run.procedure_key, run.step_index)
        drill = run.drill
        if drill is not None:  # a container of the drill's sandbox: its lock and timeline
            in_drill = drill.reporter(reporter)
            run_detachable(lambda: drill.executor.run(plan, in_drill, confirmation))
            return
        recorded = self.app.incidents.reporter(reporter)
        run_detachable(lambda: self.driver.run(plan, confirmation, recorded))

    def follow(self, procedure_key: str, step_index: int, info: RunInfo) -> None:
        """A step a previous console left running: show it here until it ends."""
        self.current = Run("step", procedure_key, step_index, "")
        self.app.run_worker(
            partial(self._follow, procedure_key, step_index, info),
            thread=True,
            group="step-run",
            exclusive=True,
            exit_on_error=False,
            description="Following a running step",
        )

    def _follow(self, procedure_key: str, step_index: int, info: RunInfo) -> None:
        from console.driver import ConsoleReporter, run_detachable  # with the driver

        reporter = ConsoleReporter(self.app, procedure_key, step_index)
        run_detachable(lambda: self.driver.follow(info, reporter))

    def follow_roll(self, roll: OpenRoll) -> None:
        """A roll a previous console left mid-roll: its grid, the running hosts followed to
        their end (c cancels them), then its closing record (Executor.follow_roll)."""
        key, index = roll.procedure, roll.step
        self.current = Run("step", key, index, "")
        hosts = [host.name for host in roll.plan.hosts]
        self.app.progress.set_status(key, index, "running")
        record = self.app.progress.record(key, index)
        record.hosts, record.host_details = dict.fromkeys(hosts, "pending"), {}
        self.app.refresh_step(key, index)
        screen = self.app.main_screen
        if screen is not None:
            screen.show_output().hosts.show_hosts(hosts)
        self.app.run_worker(
            partial(self._follow_roll, roll),
            thread=True,
            group="step-run",
            exclusive=True,
            exit_on_error=False,
            description="Following a roll left running",
        )

    def _follow_roll(self, roll: OpenRoll) -> None:
        from console.driver import ConsoleReporter, run_detachable  # with the driver

        reporter = ConsoleReporter(self.app, roll.procedure, roll.step)
        run_detachable(lambda: self.driver.follow_roll(roll, reporter))

    def cancel(self) -> None:
        run = self.current
        if run is None:
            self.app.notify("No step is running.", timeout=3)
            return
        user = self.app.settings.user
        if run.drill is not None:
            run.drill.executor.cancel(user)
        else:
            self.driver.cancel(user)
        self.app.notify(f"Cancelling {run.name}…", timeout=3)

    # What the executor reported (UI thread; the app's handlers call these) ----------------

    def _run_of(self, procedure_key: str, step_index: int) -> Run:
        current = self.current
        if current is not None and current.key == (procedure_key, step_index):
            return current
        return Run("step", procedure_key, step_index, "")

    def started(self, message: StepStarted) -> None:
        app = self.app
        if self._run_of(message.procedure_key, message.step_index).kind == "step":
            app.refresh_step(message.procedure_key, message.step_index)
        app.update_status(session_state=app.session_state, running=True)

    def output(self, message: StepOutput) -> None:
        app = self.app
        step: tuple[str, int] | None = None
        if self._run_of(message.procedure_key, message.step_index).kind == "step":
            app.progress.add_output(message.procedure_key, message.step_index, message.lines)
            step = (message.procedure_key, message.step_index)
        screen = app.main_screen
        if screen is not None:
            screen.write_output(message.lines, step)

    def host_changed(self, message: RollHostChanged) -> None:
        """A host of a rolled step moved on: its row in the grid, the step's row."""
        app = self.app
        detail = message.reason if message.state != "ok" else ""
        if message.exit_code is not None and message.state in ("ok", "failed"):
            detail = f"exit {message.exit_code}" + (f": {detail}" if detail else "")
        if self._run_of(message.procedure_key, message.step_index).kind == "step":
            record = app.progress.record(message.procedure_key, message.step_index)
            record.hosts[message.host] = message.state
            record.host_details[message.host] = detail
            app.refresh_step(message.procedure_key, message.step_index)
        screen = app.main_screen
        if screen is not None:
            screen.show_output().hosts.set_host(message.host, message.state, detail)

    def finished(self, message: StepFinished) -> None:
        app = self.app
        run = self._run_of(message.procedure_key, message.step_index)
        if self.current is run:
            self.current = None
        status = checklist_status(message.status)
        if run.kind == "step":
            self._step_finished(message, status)
        screen = app.main_screen
        summary = f"{run.label} {message.status}"
        if message.exit_code is not None and message.status != "succeeded":
            summary += f" (exit {message.exit_code})"
        if message.detail and message.status != "succeeded":
            summary += f": {message.detail}"
        from console.widgets.step_output import StepOutput as StepOutputPane  # with the screen

        output = screen.query_one(StepOutputPane) if screen is not None else None
        if output is not None and output.shows(run.key if run.kind == "step" else None):
            output.set_title(summary, "failed" if status == "failed" else "")
        severity: SeverityLevel = "information" if message.status == "succeeded" else "error"
        if message.status in ("refused", "cancelled"):
            severity = "warning"  # the operator's own choice, or a rule's: not a failure
        app.notify(summary, severity=severity, timeout=3 if severity == "information" else 8)
        if status == "done" and screen is not None and run.cursor_mark is not None:
            screen.advance_from(message.procedure_key, message.step_index, run.cursor_mark)
        app.update_status(session_state=app.session_state, running=False)

    def _step_finished(self, message: StepFinished, status: StepStatus) -> None:
        """A checklist step's record: its status, runs and, for a wait, the countdown."""
        app = self.app
        key, index = message.procedure_key, message.step_index
        reason = None if status == "done" else (message.detail or message.status)
        by = message.cancelled_by if status == "cancelled" else None
        app.session.add_run_ids(key, index, message.run_ids)
        procedure = app.runbook.procedure(key)
        step = (
            procedure.steps[index - 1]
            if procedure is not None and 0 < index <= len(procedure.steps)
            else None
        )
        if step is not None and step.kind == "wait" and step.wait_s and status == "done":
            # The check ran; the wait's countdown (from the run's start) carries on.
            app.progress.keep_waiting(key, index)
            app.refresh_step(key, index)
        else:
            app.set_status(key, index, status, reason, message.exit_code, by)

    def worker_failed(self, worker: Worker[object]) -> None:
        """A run's worker raised: what ran is finished as failed, so nothing stays running."""
        run = self.current
        if worker.group != "step-run" or run is None:
            return
        detail = f"console error: {worker.error}"
        self.app.post_message(
            StepFinished(run.procedure_key, run.step_index, "failed", None, detail)
        )
        if run.reply_to is not None:
            from runbook.execution.executor import StepResult

            failed = StepResult(status="failed", reason=detail)
            run.reply_to.post_message(DrillStepRan(run.step_index, failed))
