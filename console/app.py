"""The runbook console App: wiring of screens, settings, progress and the step runner.

The main screen gets the runbook, the progress and the settings, and this app as its
`ChecklistActions` (console.actions); helpers (the incident bridge, the session keeper)
post messages, which the app routes. Everything that runs goes through the one
`StepRunner` (console.runner).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import os
import signal
import termios
import threading
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
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
    DrillStepRequested,
    IncidentLoaded,
    IncidentStored,
    IncidentStoreFailed,
    RollHostChanged,
    SessionNotSaved,
    StepFinished,
    StepOutput,
    StepStarted,
)
from console.panes.messages import ContainerActionRequested
from console.progress import Progress, StepStatus
from console.reattach import outcome, roll_ended, rolls_left, saved_runs
from console.runner import StepRunner
from console.screens.main import MainScreen
from console.session import SessionKeeper
from console.settings import ConsoleSettings
from console.theme import REDUCED_COLOUR_THEME, RUNBOOK_THEME
from console.typeahead import TypeAhead
from console.widgets.navigator import Navigator
from console.widgets.step_list import StepList
from runbook.model import Procedure, Runbook, Step
from runbook.terminal import neutralise

if TYPE_CHECKING:
    from runbook.execution.rolls import OpenRoll

LIVE_PANES_MODULE = "console.panes.dock"
"""What the live panes factory (console.launch) imports: loaded ahead, off the event loop."""
CLOCK_INTERVAL_S = 1.0
CPU_INTERVAL_S = 5.0
"""The status bar redraws only when the shown text changes, so idle costs almost nothing."""


def imported_on_thread(module: str) -> asyncio.Future[None]:
    """Import `module` on a daemon thread; the future is done when it is (a failed import
    is left to whoever imports it next, who then says why)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle() -> None:
        if not done.done():
            done.set_result(None)

    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module(module)
        with contextlib.suppress(RuntimeError):  # the app quit meanwhile
            loop.call_soon_threadsafe(settle)

    threading.Thread(target=load, name="live-panes-import", daemon=True).start()
    return done


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
            self,
            runbook,
            self.settings,
            self.environment,
            self._post_to_main_screen,
            set_status=self.set_status,
            switch_checklist=self.switch_checklist,
        )
        self.embedded = EmbeddedService(self)
        self.runner = StepRunner(self)
        """The one way anything runs: checklist steps, container actions, drill steps."""
        self.typeahead = TypeAhead(self, super().on_event)
        """Keys are handled one at a time, each at the screen it was typed at."""
        self.clock_text = ""
        self.cpu_text = ""
        self._exit_code = 0
        self._terminal_fd: int | None = None
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

    @property
    def running(self) -> tuple[str, int] | None:
        """(procedure key, step index) of what runs now (the runner's), else None."""
        return self.runner.running

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

    async def on_event(self, event: events.Event) -> None:
        if not await self.typeahead.receive(event):
            await super().on_event(event)

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
        """The main screen mounted: start the clock, and look for an open incident (after
        the first frame, which never waits for the incident store)."""
        self.call_after_refresh(self.tick_clock)
        self.call_after_refresh(self.incidents.adopt_open)

    async def live_panes(self) -> Widget | None:
        """The live panes for the main screen (None without them, or when they fail)."""
        factory = self.settings.live_panes
        if factory is None:
            return None
        # Their modules (the Docker SDK, httpx: about half a second) load on a thread while
        # the sandbox decision runs, instead of on the event loop after it.
        loaded = imported_on_thread(LIVE_PANES_MODULE)
        # Nothing serves the environment: the panes watch a local sandbox (console.embedded).
        await self.embedded.prepare()
        await loaded
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

        fileno = getattr(self._driver, "fileno", None)
        if not self.is_headless and isinstance(fileno, int) and os.isatty(fileno):
            self._terminal_fd = fileno  # watched by the clock: see _terminal_gone

        try:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, self._on_terminate_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (tests) or no signal support: nothing to restore

    def _terminal_gone(self) -> bool:
        """The terminal hung up (an SSH connection or tmux server gone without a SIGHUP
        reaching the console): its reads return nothing at once, and Textual's input
        thread would spin on them, so the console saves and exits as on SIGHUP."""
        if self._terminal_fd is None:
            return False
        try:
            termios.tcgetattr(self._terminal_fd)
        except (termios.error, OSError):
            return True
        return False

    def _on_terminate_signal(self, signum: int) -> None:
        self.session.flush()
        self._exit_code = 128 + signum
        self.exit(self._exit_code)

    def _reattach_runs(self) -> None:
        """Steps a previous console left running: show how they ended, or follow them; and
        rolls it left mid-roll: follow their running hosts, then close them truthfully."""
        config = self.settings.config
        rolls = rolls_left(config.rolls_dir, self.runbook_path, self.environment)
        for roll in rolls:
            self._take_over_roll(roll)
        taken = {(roll.procedure, roll.step) for roll in rolls}
        found = saved_runs(
            self.runbook, self.progress, config.runs_dir, self.runbook_path, self.environment
        )
        for saved in found:
            key, index, run = saved.procedure_key, saved.step_index, saved.run
            if (key, index) in taken:
                continue
            if run is None:
                self.progress.set_status(key, index, "failed", reason="interrupted: no run found")
            elif run.spec.get("roll_id"):  # a roll closed elsewhere: its record says how
                ended = roll_ended(config.audit_file, str(run.spec["roll_id"]))
                self.progress.add_output(key, index, ended.lines)
                self.progress.set_status(key, index, ended.status, ended.reason, None, ended.by)
            elif run.finished:
                ended = outcome(run)
                self.progress.add_output(key, index, ended.lines)
                self.progress.set_status(
                    key, index, ended.status, ended.reason, ended.exit_code, ended.by
                )
            elif self.running is None:
                self.notify(
                    f"Step {index} of {key} is still running: following it.",
                    title="Session",
                    timeout=8,
                )
                self.runner.follow(key, index, run)

    def _take_over_roll(self, roll: OpenRoll) -> None:
        """Follow a roll left mid-roll (one at a time), or close it at once as it stands."""
        key, index = roll.procedure, roll.step
        procedure = self.runbook.procedure(key)
        known = procedure is not None and 0 < index <= len(procedure.steps)
        if known and self.running is None:
            self.notify(
                f"Step {index} of {key} was rolling across {len(roll.plan.hosts)} hosts when "
                "its console stopped: following the hosts still running, then closing the roll "
                "(hosts not started stay so).",
                title="Session",
                timeout=10,
            )
            self.runner.follow_roll(roll)
            return
        from runbook.execution.audit import AuditTrail

        config = self.settings.config
        closed = roll.close(
            AuditTrail(config.audit_file), roll.host_outcomes(config.runs_dir), self.settings.user
        )
        self.notify(
            f"Roll of step {index} of {key} closed as it stood: {closed.summary()}",
            title="Session",
            severity="warning",
            timeout=10,
        )
        if known:
            self.progress.set_status(key, index, "failed", f"interrupted: {closed.summary()}")

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

    def action_reload_runbook(self) -> None:
        self.reload_runbook()

    def reload_runbook(self, why: str = "") -> None:
        """Read the runbook again from disk, take its new text everywhere, and show what
        changed in the procedure on screen. Nothing runs: the operator confirms again,
        against the new text. `why` is said first (a step found the file edited)."""
        self.run_worker(
            self._reload_runbook(why),
            group="dialogs",
            exclusive=True,
            exit_on_error=False,
            description="Reload the runbook",
        )

    async def _reload_runbook(self, why: str) -> None:
        import asyncio

        from console.screens.prompt import YesNoScreen
        from runbook.document.changes import compare
        from runbook.document.parser import LoadError, load

        if self.running is not None:
            self.notify("A step is running; reload once it ends.", severity="warning")
            return
        path = self.runbook_path
        if not path:
            self.notify("This runbook was not read from a file: nothing to reload.")
            return
        try:
            new = await asyncio.to_thread(load, path)
        except LoadError as error:
            self.notify(f"Runbook not reloaded: {error}", severity="error", timeout=10)
            return
        if new.sha256 == self.runbook.sha256:
            self.notify("The runbook on disk is the one shown: nothing changed.", timeout=4)
            return
        screen = self.main_screen
        shown = screen.step_list.procedure if screen is not None else None
        changes = compare(self.runbook, new)
        self.runbook = new
        self.runner.driver.runbook = new
        self.incidents.runbook = new
        gone = self.progress.remap(new, changes.moves)
        self.session.rebase(new, changes.moves)
        if screen is not None:
            screen.show_runbook(new)
        lines = changes.procedure_lines(shown.key) if shown is not None else []
        others = [key for key in changes.procedures_changed if shown is None or key != shown.key]
        if others:
            lines.append(f"{len(others)} other procedure(s) changed: {', '.join(others)}")
        lines += [
            f"no longer in the runbook: {key} step {index} ({record.status})"
            for key, index, record in gone
        ]
        title = f"{why}Reloaded {Path(path).name}: review before you run a step."
        detail = "\n".join(lines) or "No change to the steps (only other text changed)."
        await self.push_screen_wait(YesNoScreen(title, detail, yes="OK", no="Close"))

    def switch_checklist(self, incident_id: str | None) -> None:
        """The checklist becomes `incident_id`'s own (None: the environment's again)."""
        if self.session.switch(incident_id, self.progress):
            screen = self.main_screen
            if screen is not None:
                screen.reload()

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
        return self.runner.describe() or self.session.describe()

    # Clock and CPU --------------------------------------------------------------------

    def tick_clock(self) -> None:
        if self._terminal_gone():
            self._on_terminate_signal(signal.SIGHUP)
            return
        now = self.settings.clock()
        text = now.strftime("%H:%M")
        if text != self.clock_text:
            self.clock_text = text
            self.update_status(clock_text=text)
        screen = self.main_screen
        if screen is not None:
            screen.tick_timers()
        self.incidents.tick_hint()
        self.incidents.poll_open()
        self._check_waits()

    def _start_cpu_meter(self) -> None:
        self._tick_cpu()
        self.set_interval(CPU_INTERVAL_S, self._tick_cpu, name="cpu")

    def _tick_cpu(self) -> None:
        # Two digits wide: 9% -> 10% changes the text, not the label's width (a new width
        # lays the status bar out again).
        text = f"cpu {self.settings.cpu_meter():>2.0f}%"
        if text != self.cpu_text:
            self.cpu_text = text
            self.update_status(cpu_text=text)

    def update_status(self, **values: object) -> None:
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
        by: str | None = None,
    ) -> None:
        self.progress.set_status(procedure_key, step_index, status, reason, exit_code, by)
        self.refresh_step(procedure_key, step_index)
        self.incidents.step_marked(procedure_key, step_index, status, reason)

    def add_note(self, procedure_key: str, step_index: int, note: str) -> None:
        self.progress.add_note(procedure_key, step_index, note)
        self.refresh_step(procedure_key, step_index)
        self.incidents.note(procedure_key, step_index, note)

    def refresh_step(self, procedure_key: str, step_index: int) -> None:
        screen = self.main_screen
        if screen is not None:
            screen.refresh_step(procedure_key, step_index)

    # Running: the step runner does it; these hand it the requests and the reports -------

    def start_step(self, procedure: Procedure, step: Step, dry_run: bool) -> None:
        self.runner.run_step(procedure, step, dry_run)

    def cancel_step(self) -> None:
        self.runner.cancel()

    @on(ContainerActionRequested)
    def _container_action(self, message: ContainerActionRequested) -> None:
        message.stop()
        self.runner.run_container_action(message)

    @on(DrillStepRequested)
    def _drill_step(self, message: DrillStepRequested) -> None:
        message.stop()
        self.runner.run_drill_step(message)

    @on(StepStarted)
    def _step_started(self, message: StepStarted) -> None:
        self.runner.started(message)

    @on(StepOutput)
    def _step_output(self, message: StepOutput) -> None:
        self.runner.output(message)

    @on(StepFinished)
    def _step_finished(self, message: StepFinished) -> None:
        self.runner.finished(message)

    @on(RollHostChanged)
    def _roll_host_changed(self, message: RollHostChanged) -> None:
        self.runner.host_changed(message)

    # Helpers' messages ----------------------------------------------------------------

    @on(SessionNotSaved)
    def _session_not_saved(self, message: SessionNotSaved) -> None:
        if self.session.not_saved(message.error):
            self.notify(f"Session not saved: {message.error}", severity="error", timeout=10)
            self.update_status(session_state=self.session_state)

    @on(IncidentLoaded)
    def _incident_loaded(self, message: IncidentLoaded) -> None:
        self.incidents.loaded(message.incident, message.purpose)

    @on(IncidentStored)
    def _incident_stored(self, message: IncidentStored) -> None:
        self.incidents.stored(message.incident, message.done, message.title, message.ticked)

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
        self.runner.worker_failed(worker)
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

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast as plain text: a message carries runbook, command and engine text,
        which is never read as markup (`[/red]` in a step title must not crash)."""
        super().notify(
            neutralise(message),
            title=neutralise(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def _fatal_error(self) -> None:
        """An error nothing handled: the session is saved first, the traceback goes to
        `<state dir>/crash.log`, and the terminal gets one line (exit status 1)."""
        import traceback
        from datetime import UTC, datetime

        from rich.text import Text

        self.session.flush(5)
        error = self._exception
        log = self.settings.config.state_dir / "crash.log"
        where = f"; details in {log}"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as out:
                out.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')}\n")
                out.write("".join(traceback.format_exception(error)) if error else "unknown\n")
        except OSError:
            where = ""
        what = f"{type(error).__name__}: {error}" if error else "unknown error"
        first = what.splitlines()[0] if what else what
        self._exit_renderables.append(
            Text(f"runbook-console: crashed ({first}); the session was saved{where}")
        )
        self._close_messages_no_wait()

    def action_help_quit(self) -> None:
        """ctrl+c does not quit (it would be pressed to stop a step, or by reflex): say how."""
        running = " (c cancels the running step)" if self.running is not None else ""
        self.notify(
            f"ctrl+c does not quit here: press q, or ctrl+q, to quit{running}.",
            title="Quit?",
            timeout=5,
            markup=False,
        )

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
