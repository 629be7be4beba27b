"""The runbook console App: wiring of screens, settings, progress and the execution driver.

The main screen gets the runbook, the progress and the settings, and this app as its
`ChecklistActions` (console.actions); helpers (the incident bridge, the session keeper)
post messages, which the app routes.
"""

from __future__ import annotations

import gc
import signal
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from console.commands import RunbookCommands, incident_commands
from console.embedded import EmbeddedService
from console.incident_bridge import IncidentBridge
from console.keymap import load_keymap
from console.messages import (
    IncidentLoaded,
    IncidentStored,
    IncidentStoreFailed,
    SessionNotSaved,
    StepFinished,
    StepOutput,
    StepStarted,
)
from console.progress import Progress, StepStatus
from console.reattach import outcome, saved_runs
from console.screens.main import MainScreen
from console.session import SessionKeeper
from console.settings import ConsoleSettings
from console.theme import REDUCED_COLOUR_THEME, RUNBOOK_THEME
from console.widgets.navigator import Navigator
from console.widgets.step_list import StepList
from runbook.execution.runs import RunInfo
from runbook.model import Procedure, Runbook, Step

if TYPE_CHECKING:
    from console.driver import Driver
    from console.screens.variables import VariablesScreen
    from runbook.execution.plan import Confirmation, Plan

CLOCK_INTERVAL_S = 1.0
CPU_INTERVAL_S = 5.0
"""The status bar redraws only when the shown text changes, so idle costs almost nothing."""


class RunbookConsole(App[int]):
    """Guided checklists for one runbook."""

    CSS_PATH = "app.tcss"
    TITLE = "runbook console"
    COMMANDS: ClassVar = App.COMMANDS | {RunbookCommands, incident_commands}
    BINDING_GROUP_TITLE = "Console"
    BINDINGS = [
        Binding(
            "ctrl+q",
            "quit_console",
            "Quit",
            priority=True,
            show=False,
            id="quit",
            tooltip="Quit (asks first while a step runs)",
        ),
        Binding("f1", "help", "Help", show=False, id="help", tooltip="List every key binding"),
    ]

    def __init__(self, runbook: Runbook, settings: ConsoleSettings | None = None) -> None:
        self.settings = settings or ConsoleSettings()
        super().__init__(ansi_color=True if self.settings.reduced_colour else None)
        self.runbook = runbook
        self.runbook_path = runbook.path or self.settings.runbook_path
        config = self.settings.config
        self.environment = self.settings.environment or self._default_environment()
        self.production = config.is_production(self.environment)
        self.read_only = self.settings.read_only
        self.progress = Progress(runbook, self.settings.clock, self.settings.user)
        self.session = SessionKeeper(runbook, self.settings, self.environment, self.post_message)
        self.progress.sink = self.session
        self.incidents = IncidentBridge(
            self, runbook, self.settings, self.environment, self._post_to_main_screen
        )
        self.embedded = EmbeddedService(self)
        self.running: tuple[str, int] | None = None
        """(procedure key, step index) of the step whose command runs now."""
        self.clock_text = ""
        self.cpu_text = ""
        self._exit_code = 0
        self.register_theme(RUNBOOK_THEME)
        self.theme = (
            REDUCED_COLOUR_THEME
            if self.settings.reduced_colour
            else self.settings.theme or RUNBOOK_THEME.name
        )
        keymap, self._keymap_problem = load_keymap(self.settings.config)
        if keymap:
            self.set_keymap(keymap)
        # Restored before the main screen composes, so its first frame shows the session.
        self.session.restore(self.progress)

    @cached_property
    def driver(self) -> Driver:
        """The bridge to the executor, built when a step first runs."""
        # Imported here: planning and running steps are not needed to draw the checklist.
        from console.driver import Driver

        return Driver(self.runbook, self.settings, self.environment)

    def _default_environment(self) -> str:
        from runbook.config import DEFAULT_ENVIRONMENT

        names = [environment.name for environment in self.runbook.environments]
        for name in names:
            if name.casefold() == DEFAULT_ENVIRONMENT.casefold():
                return name
        for name in names:
            if not self.settings.config.is_production(name):
                return name
        return DEFAULT_ENVIRONMENT

    # Start and stop -----------------------------------------------------------------

    def get_default_screen(self) -> Screen[object]:
        # The main screen is the first one drawn: no blank screen before it.
        return MainScreen(  # type: ignore[return-value]
            self.runbook,
            self.progress,
            self.settings,
            self,
            self.incidents,
            environment=self.environment,
            production=self.production,
            initial_procedure=self.initial_procedure(),
        )

    def screen_ready(self) -> None:
        """The main screen mounted: start the clock, and look for an open incident."""
        self.call_after_refresh(self.tick_clock)
        self.incidents.adopt_open()

    async def live_panes(self) -> Widget | None:
        """The live panes for the main screen (None without them, or when they fail)."""
        factory = self.settings.live_panes
        if factory is None:
            return None
        # Nothing serves the environment: the panes watch a local sandbox (console.embedded).
        await self.embedded.prepare()
        try:
            return factory(self)
        except Exception as error:  # noqa: BLE001 - the checklist must work regardless
            self.notify(f"Live panes unavailable: {error}", severity="error")
            return None

    def _post_to_main_screen(self, message: Message) -> None:
        """Deliver a helper's message to the main screen (thread-safe); dropped without one."""
        screen = self.main_screen
        if screen is not None:
            screen.post_message(message)

    def on_mount(self) -> None:
        if self._keymap_problem:
            self.notify(self._keymap_problem, severity="warning", timeout=8)
        if self.settings.notice:
            self.notify(self.settings.notice, title="Alert", timeout=12)
        if self.session.resumed_steps:
            self.notify(
                f"Resumed the saved session ({self.session.resumed_steps} step(s) recorded). "
                "ctrl+p → session: Start fresh discards it.",
                title="Session",
                timeout=6,
            )
        self._reattach_runs()
        self.set_interval(CLOCK_INTERVAL_S, self.tick_clock, name="clock")
        self.settings.cpu_meter()  # reset: the figure should not include start-up
        if self.settings.cpu_first_sample_s > 0:
            self.set_timer(self.settings.cpu_first_sample_s, self._start_cpu_meter)
        else:
            self._start_cpu_meter()
        self._install_signal_handlers()
        # launch() holds the cycle collector off during start-up, until the first frame.
        self.call_after_refresh(gc.enable)

    def _install_signal_handlers(self) -> None:
        import asyncio

        try:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, self._on_terminate_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (tests) or no signal support: nothing to restore

    def _on_terminate_signal(self, signum: int) -> None:
        self.session.flush()
        self._exit_code = 128 + signum
        self.exit(self._exit_code)

    def _reattach_runs(self) -> None:
        """Steps a previous console left running: show how they ended, or follow them."""
        found = saved_runs(
            self.runbook, self.progress, self.settings.config.runs_dir, self.runbook_path
        )
        for saved in found:
            key, index, run = saved.procedure_key, saved.step_index, saved.run
            if run is None:
                self.progress.set_status(key, index, "failed", reason="interrupted: no run found")
            elif run.finished:
                ended = outcome(run)
                self.progress.add_output(key, index, ended.lines)
                self.progress.set_status(key, index, ended.status, ended.reason, ended.exit_code)
            elif self.running is None:
                self.running = (key, index)
                self.notify(
                    f"Step {index} of {key} is still running: following it.",
                    title="Session",
                    timeout=8,
                )
                self._follow_run(key, index, run)

    @work(
        thread=True,
        group="step-run",
        exclusive=True,
        exit_on_error=False,
        description="Following a running step",
    )
    def _follow_run(self, procedure_key: str, step_index: int, info: RunInfo) -> None:
        from console.driver import ConsoleReporter, run_detachable  # with the driver, on first use

        reporter = ConsoleReporter(self, procedure_key, step_index)
        run_detachable(lambda: self.driver.follow(info, reporter))

    def action_start_fresh(self) -> None:
        self._start_fresh()

    @work(group="dialogs", exclusive=True, description="Start a fresh session")
    async def _start_fresh(self) -> None:
        from console.screens.prompt import YesNoScreen  # dialogs load when first asked for

        if self.running is not None:
            self.notify("A step is running; wait for it or cancel it first.", severity="warning")
            return
        if not await self.push_screen_wait(
            YesNoScreen(
                "Discard every tick, note and output of this runbook's session?",
                yes="Discard",
                no="Keep",
            )
        ):
            return
        self.session.discard()
        self.progress.clear()
        screen = self.main_screen
        if screen is not None:
            screen.reload()
        self.notify("Fresh session started.", timeout=3)

    def initial_procedure(self) -> Procedure | None:
        """The procedure to show first: the one of the resumed session, else the first."""
        key = self.settings.open_procedure or self.session.last_procedure
        if key:
            procedure = self.runbook.procedure(key)
            if procedure is not None:
                return procedure
        return self.runbook.procedures[0] if self.runbook.procedures else None

    @property
    def main_screen(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen) and screen.ready:
                return screen
        return None

    @property
    def session_state(self) -> str:
        if self.running is not None:
            return f"running step {self.running[1]}"
        return self.session.describe()

    # Clock and CPU --------------------------------------------------------------------

    def tick_clock(self) -> None:
        now = self.settings.clock()
        text = now.strftime("%H:%M")
        if text != self.clock_text:
            self.clock_text = text
            self._update_status(clock_text=text)
        screen = self.main_screen
        if screen is not None:
            screen.tick_timers()
        self._check_waits()

    def _start_cpu_meter(self) -> None:
        self._tick_cpu()
        self.set_interval(CPU_INTERVAL_S, self._tick_cpu, name="cpu")

    def _tick_cpu(self) -> None:
        text = f"cpu {self.settings.cpu_meter():.0f}%"
        if text != self.cpu_text:
            self.cpu_text = text
            self._update_status(cpu_text=text)

    def _update_status(self, **values: object) -> None:
        from console.widgets.status_bar import StatusBar

        screen = self.main_screen
        if screen is None or not screen.is_mounted:
            return
        for bar in screen.query(StatusBar).results(StatusBar):
            for name, value in values.items():
                setattr(bar, name, value)

    def _check_waits(self) -> None:
        """Finish wait steps whose time is up."""
        now = self.settings.clock()
        for procedure in self.runbook.procedures:
            for step in procedure.steps:
                if step.kind != "wait" or not step.wait_s:
                    continue
                record = self.progress.record(procedure.key, step.index)
                if record.status != "running" or record.started_at is None:
                    continue
                if (now - record.started_at).total_seconds() >= step.wait_s:
                    self.set_status(procedure.key, step.index, "done")
                    self.bell()
                    self.notify(f"Wait over: {step.title}", title=procedure.title, timeout=10)

    # Progress changes (the only place the UI's state changes) ----------------------------

    def set_status(
        self,
        procedure_key: str,
        step_index: int,
        status: StepStatus,
        reason: str | None = None,
        exit_code: int | None = None,
    ) -> None:
        self.progress.set_status(procedure_key, step_index, status, reason, exit_code)
        self._refresh_step(procedure_key, step_index)
        self.incidents.step_marked(procedure_key, step_index, status, reason)

    def add_note(self, procedure_key: str, step_index: int, note: str) -> None:
        self.progress.add_note(procedure_key, step_index, note)
        self._refresh_step(procedure_key, step_index)
        self.incidents.note(procedure_key, step_index, note)

    def _refresh_step(self, procedure_key: str, step_index: int) -> None:
        screen = self.main_screen
        if screen is not None:
            screen.refresh_step(procedure_key, step_index)

    # Running steps ------------------------------------------------------------------

    @work(group="step-flow", exclusive=True, exit_on_error=False, description="Preparing a run")
    async def start_step(self, procedure: Procedure, step: Step, dry_run: bool) -> None:
        """Ask for variables and confirmation, then hand the step to the executor."""
        # The dialogs and the plan are imported when a step is run, not for the first frame.
        from console.screens.confirm import ConfirmScreen
        from console.screens.variables import VariablesScreen
        from runbook.execution.plan import ConfirmationError

        screen = self.main_screen
        if self.running is not None and not dry_run:
            self.notify(
                f"Step {self.running[1]} is still running: one step at a time (c cancels).",
                severity="warning",
            )
            return
        if step.kind == "wait" and not step.commands:
            if dry_run:
                self.notify(f"Would wait {step.wait_s or 0:.0f} s.")
                return
            self.progress.start_timer(procedure.key, step.index)
            self._refresh_step(procedure.key, step.index)
            return
        if not step.commands:
            self.notify(
                f"Step {step.index} has nothing to run: do it, then tick it (space).",
                severity="information",
            )
            return
        if self.read_only and step.risk != "read-only" and not dry_run:  # hidden, yet say why
            self.notify(
                "Read-only console: this step changes things and is not run here.",
                severity="warning",
            )
            return
        questions = self.driver.questions(step)
        values: dict[str, str] = {}
        if questions:
            form = VariablesScreen(f"Values for step {step.index}: {step.title}", questions)
            self._offer_suggestions(form, step)
            answer = await self.push_screen_wait(form)
            if answer is None:
                return
            values = answer
        plan = self.driver.plan(procedure, step, values)
        if dry_run:
            if screen is not None:
                output = screen.show_output()
                output.begin(f"Dry-run of step {step.index}: nothing was started", running=False)
                output.write_lines([("info", line) for line in self.driver.dry_run_lines(plan)])
            return
        if plan.missing:
            self.notify(f"Missing values: {', '.join(plan.missing)}", severity="warning")
            return
        confirmation: Confirmation | None = None
        if plan.needs_confirmation:
            confirm = ConfirmScreen(
                self.driver.confirm_request(plan), arm_delay=self.settings.confirm_arm_delay
            )
            if not await self.push_screen_wait(confirm):
                self.notify(f"Step {step.index} not run.", timeout=3)
                return
            try:
                confirmation = plan.confirm(typed=confirm.typed, by=self.settings.user)
            except ConfirmationError as error:
                self.notify(str(error), severity="error")
                return
        self.running = (procedure.key, step.index)
        self.progress.set_status(procedure.key, step.index, "running")
        self._refresh_step(procedure.key, step.index)
        if screen is not None:
            screen.show_output().begin(f"▶ step {step.index}: {step.title} · c cancels")
        self.run_step(procedure, step, plan, confirmation)

    @work(
        thread=True,
        group="suggestions",
        exit_on_error=False,
        description="Image tags for variables",
    )
    def _offer_suggestions(self, form: VariablesScreen, step: Step) -> None:
        for name, offered in self.driver.suggestions(step).items():
            if offered:
                self.call_from_thread(form.set_suggestions, name, offered)

    @work(
        thread=True,
        group="step-run",
        exclusive=True,
        exit_on_error=False,
        description="Running a step",
    )
    def run_step(
        self, procedure: Procedure, step: Step, plan: Plan, confirmation: Confirmation | None
    ) -> None:
        from console.driver import ConsoleReporter, run_detachable  # with the driver, on first use

        reporter = self.incidents.reporter(ConsoleReporter(self, procedure.key, step.index))
        run_detachable(lambda: self.driver.run(plan, confirmation, reporter))

    def cancel_step(self) -> None:
        if self.running is None:
            self.notify("No step is running.", timeout=3)
            return
        self.driver.cancel(self.settings.user)
        self.notify(f"Cancelling step {self.running[1]}…", timeout=3)

    @on(StepStarted)
    def _step_started(self, message: StepStarted) -> None:
        self._refresh_step(message.procedure_key, message.step_index)
        self._update_status(session_state=self.session_state, running=True)

    @on(StepOutput)
    def _step_output(self, message: StepOutput) -> None:
        self.progress.add_output(message.procedure_key, message.step_index, message.lines)
        screen = self.main_screen
        if screen is not None:
            screen.write_output(message.lines)

    @on(StepFinished)
    def _step_finished(self, message: StepFinished) -> None:
        status: StepStatus = "done" if message.status == "succeeded" else "failed"
        if message.status in ("cancelled", "refused"):
            status = "pending" if message.status == "refused" else "failed"
        reason = None if status == "done" else (message.detail or message.status)
        self.running = None
        self.session.add_run_ids(message.procedure_key, message.step_index, message.run_ids)
        procedure = self.runbook.procedure(message.procedure_key)
        step = (
            procedure.steps[message.step_index - 1]
            if procedure is not None and 0 < message.step_index <= len(procedure.steps)
            else None
        )
        if step is not None and step.kind == "wait" and step.wait_s and status == "done":
            # The check ran; the wait's countdown (from the run's start) carries on.
            self.progress.keep_waiting(message.procedure_key, message.step_index)
            self._refresh_step(message.procedure_key, message.step_index)
        else:
            self.set_status(
                message.procedure_key, message.step_index, status, reason, message.exit_code
            )
        screen = self.main_screen
        summary = f"Step {message.step_index} {message.status}"
        if message.exit_code is not None and message.status != "succeeded":
            summary += f" (exit {message.exit_code})"
        if message.detail and message.status != "succeeded":
            summary += f": {message.detail}"
        if screen is not None:
            screen.query_one("#pane-output").set_title(  # type: ignore[attr-defined]
                summary, "failed" if status == "failed" else ""
            )
        severity: SeverityLevel = "information" if message.status == "succeeded" else "error"
        if message.status == "refused":
            severity = "warning"
        self.notify(summary, severity=severity, timeout=3 if severity == "information" else 8)
        if status == "done" and screen is not None:
            screen.advance_from(message.procedure_key, message.step_index)
        self._update_status(session_state=self.session_state, running=False)

    # Helpers' messages ----------------------------------------------------------------

    @on(SessionNotSaved)
    def _session_not_saved(self, message: SessionNotSaved) -> None:
        if self.session.not_saved(message.error):
            self.notify(f"Session not saved: {message.error}", severity="error", timeout=10)
            self._update_status(session_state=self.session_state)

    @on(IncidentLoaded)
    def _incident_loaded(self, message: IncidentLoaded) -> None:
        self.incidents.loaded(message.incident, message.purpose)

    @on(IncidentStored)
    def _incident_stored(self, message: IncidentStored) -> None:
        self.incidents.stored(message.incident, message.done, message.title)

    @on(IncidentStoreFailed)
    def _incident_store_failed(self, message: IncidentStoreFailed) -> None:
        self.notify(message.text, severity=message.severity, timeout=8)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state != WorkerState.ERROR:
            return
        error = worker.error
        self.log.error(f"worker {worker.name} failed", error)
        if worker.group == "step-run" and self.running is not None:
            procedure_key, step_index = self.running
            self.post_message(
                StepFinished(procedure_key, step_index, "failed", None, f"console error: {error}")
            )
        if worker.group == "suggestions":
            return
        self.notify(
            f"{worker.description or worker.name} failed: {error}", severity="error", timeout=8
        )

    # Help, jump, quit ---------------------------------------------------------------

    def action_help(self) -> None:
        # Screens pushed on demand are imported on demand, keeping them out of the first frame.
        from console.screens.confirm import ConfirmScreen
        from console.screens.help import HelpScreen
        from console.screens.prompt import TextPromptScreen, YesNoScreen
        from console.screens.search import SearchScreen
        from console.screens.variables import VariablesScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return

        groups = [
            ("Checklist", list(MainScreen.BINDINGS)),
            ("Moving around", list(StepList.BINDINGS) + list(Navigator.BINDINGS)),
            (
                "Console",
                list(self.BINDINGS)
                + [
                    Binding(
                        "ctrl+p",
                        "command_palette",
                        "Palette",
                        tooltip="Every command by name: step: run, view: change theme…",
                    )
                ],
            ),
            ("Confirmation screen", list(ConfirmScreen.BINDINGS)),
            (
                "Dialogs and search",
                list(SearchScreen.BINDINGS)
                + list(TextPromptScreen.BINDINGS)
                + list(YesNoScreen.BINDINGS)
                + list(VariablesScreen.BINDINGS),
            ),
        ]
        intro = "Arrows or j/k move; enter opens. Mouse works too."
        if self.read_only:
            intro += " Read-only console: mutating steps cannot run."
        self.push_screen(HelpScreen(groups, intro))  # type: ignore[arg-type]

    def action_toggle_reduced_colour(self) -> None:
        reduced = self.theme != REDUCED_COLOUR_THEME
        self.ansi_color = reduced
        self.theme = (
            REDUCED_COLOUR_THEME if reduced else (self.settings.theme or RUNBOOK_THEME.name)
        )
        self.notify("Reduced colour on." if reduced else "Full colour on.", timeout=3)

    @work(group="quit", exclusive=True, exit_on_error=False, description="Quitting")
    async def action_quit_console(self) -> None:
        screen = self.main_screen
        if self.running is not None and screen is not None and not await screen.confirm_quit():
            return
        self.session.flush()
        self.exit(self._exit_code)

    def get_system_commands(self, screen: Screen[object]) -> list[SystemCommand]:
        commands = [
            command
            for command in super().get_system_commands(screen)
            if command.title not in ("Quit", "Keys")
        ]
        commands.append(
            SystemCommand(
                "view: Change theme", "Pick another colour theme", self.action_change_theme
            )
        )
        return [command for command in commands if command.title != "Theme"]
