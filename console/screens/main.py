"""The main screen: navigator, checklist, the pane deck (detail, output) and the live column.

The screen is given what it shows (runbook, progress, settings) and what it may ask for
(`ChecklistActions`, `IncidentActions`, console.actions); it never imports the app.
Helpers tell it about the open incident with messages (console.messages).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import CommandListItem, SimpleCommand
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from console.actions import ChecklistActions, IncidentActions
from console.messages import (
    DeadlineDue,
    DeploymentHintFound,
    IncidentChanged,
    IncidentClosed,
    IncidentRead,
    IncidentShown,
    ProcedureOpenRequested,
)
from console.panes.observations import (
    ContainerRestarted,
    GaugesShown,
    HealthChanged,
    ServiceWatched,
    ThresholdCrossed,
)
from console.progress import Progress, StepStatus
from console.settings import ConsoleSettings
from console.text import literal
from console.widgets.incident_strip import IncidentStrip
from console.widgets.key_footer import KeyFooter
from console.widgets.live_column import LiveColumn
from console.widgets.live_dock import LiveDock
from console.widgets.navigator import Navigator
from console.widgets.pane_deck import PaneDeck
from console.widgets.serving_strip import ServingStrip
from console.widgets.status_bar import ProductionBanner, StatusBar
from console.widgets.step_detail import StepDetail
from console.widgets.step_list import StepList
from console.widgets.step_output import StepOutput as StepOutputPane
from runbook.model import Procedure, Runbook, Step

if TYPE_CHECKING:
    from console.screens.search import SearchHit

MIN_WIDTH = 60
MIN_HEIGHT = 16
"""Below this the console shows a "terminal too small" message instead of a cut-off screen."""
COMPACT_WIDTH = 110
"""Below this width the status bar drops user@host."""
SHORT_HEIGHT = 40
"""Below this height the live view leaves gauges and health to the serving strip."""
BESIDE_WIDTH = 120
"""From this width the live panes sit beside the checklist instead of behind a tab."""
WIDE_WIDTH = 160
WIDE_HEIGHT = 45
"""From this size the live column takes the larger share of the width."""
NOT_WATCHED = "not watched (no live panes)"
"""What the serving strip says when no live panes watch a service."""

CHECKLIST_ACTIONS = frozenset(
    {"tick", "run", "dry_run", "skip", "note", "cancel", "search", "jump", "show_pane"}
    | {"acknowledge", "escalate", "incident", "rollback"}
)
"""Keys that act on the checklist: off while the live view hides it."""

NAVIGATOR_MIN = 32
"""The navigator's width from 100 columns, whatever the names."""
NAVIGATOR_SHARE = 0.38
"""At most this share of the screen goes to the navigator."""
NAVIGATOR_BESIDE_MIN = 24
"""Beside the live panes, the navigator may narrow to this while it is not focused."""
CHECKLIST_MIN = 56
"""Beside the live panes, the checklist keeps this width: the navigator narrows first."""
LIVE_BESIDE = 40
"""The live column's width beside the checklist (app.tcss: `-beside #live-column`)."""
LIVE_WIDE_SHARE = 0.5
"""Its share of the width on large terminals (app.tcss: `-wide #live-column`)."""


class MainScreen(Screen[None]):
    """Where the operator works through a procedure."""

    BINDING_GROUP_TITLE = "Runbook"
    BINDINGS = [
        Binding(
            "space,x",
            "tick",
            "Tick",
            id="step-tick",
            tooltip="Mark the highlighted step done, or pending again",
        ),
        Binding(
            "r",
            "run",
            "Run",
            id="step-run",
            tooltip="Run the step's commands (asks to confirm mutating ones)",
        ),
        Binding(
            "d",
            "dry_run",
            "Dry-run",
            id="step-dry-run",
            tooltip="Show the resolved commands without running anything",
        ),
        Binding("s", "skip", "Skip", id="step-skip", tooltip="Skip the step, giving a reason"),
        Binding("n", "note", "Note", id="step-note", tooltip="Add a note to the step"),
        Binding(
            "c",
            "cancel",
            "Cancel",
            id="step-cancel",
            tooltip="Cancel the running step (SIGTERM, then SIGKILL after the grace period)",
        ),
        Binding(
            "slash",
            "search",
            "Search",
            show=False,
            id="runbook-search",
            tooltip="Search every step and command of the runbook",
        ),
        Binding(
            "g",
            "jump",
            "Jump",
            show=False,
            id="procedure-jump",
            tooltip="Jump to a procedure by name",
        ),
        Binding(
            "1",
            "show_pane('detail')",
            "Detail",
            show=False,
            id="pane-detail",
            tooltip="Show the step detail pane",
        ),
        Binding(
            "2",
            "show_pane('output')",
            "Output",
            show=False,
            id="pane-output",
            tooltip="Show the output pane",
        ),
        Binding(
            "3",
            "show_pane('live')",
            "Live",
            show=False,
            id="pane-live",
            tooltip="Show the live panes (from 120 columns they are beside: go there)",
        ),
        Binding(
            "w",
            "toggle_live_view",
            "Live view",
            show=False,
            id="live-view",
            tooltip="The live panes full screen (containers, logs); again or Escape returns",
        ),
        Binding(
            "escape",
            "close_live_view",
            "Back",
            show=True,
            id="live-view-close",
            tooltip="Leave the live view: the checklist as it was",
        ),
        Binding(
            "tab",
            "app.focus_next",
            "Next pane",
            show=False,
            id="focus-next",
            tooltip="Move focus to the next pane",
        ),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Previous pane",
            show=False,
            id="focus-previous",
            tooltip="Move focus to the previous pane",
        ),
        # Incident keys are named on the incident's own line above the checklist.
        Binding(
            "a",
            "acknowledge",
            "Ack",
            show=False,
            id="incident-ack",
            tooltip="Acknowledge the incident",
        ),
        Binding(
            "e",
            "escalate",
            "Escalate",
            show=False,
            id="incident-escalate",
            tooltip="Record an escalation",
        ),
        Binding(
            "i",
            "incident",
            "Incident",
            show=False,
            id="incident-open",
            tooltip="The incident's timeline and actions (note, mitigated, close, report)",
        ),
        Binding(
            "b",
            "rollback",
            "Rollback",
            show=False,
            id="incident-rollback",
            tooltip="Go to the rollback step (a recent deployment was found)",
        ),
        Binding(
            "question_mark",
            "app.help",
            "Help",
            id="help-question",
            tooltip="List every key binding",
        ),
        Binding(
            "q",
            "app.quit_console",
            "Quit",
            id="quit-q",
            tooltip="Quit (asks first while a step runs)",
        ),
    ]

    def __init__(
        self,
        runbook: Runbook,
        progress: Progress,
        settings: ConsoleSettings,
        actions: ChecklistActions,
        incidents: IncidentActions,
        *,
        environment: str,
        production: bool,
        initial_procedure: Procedure | None = None,
    ) -> None:
        """
        Args:
            runbook: the runbook whose procedures are shown.
            progress: the steps' records (the app changes them, through `actions`).
            settings: read-only mode, user and host for the status bar, the clock.
            actions: what the screen asks the console to do with steps.
            incidents: the console's open incident.
            environment: the environment commands act on.
            production: whether it is marked production (a banner says so).
            initial_procedure: the procedure to open first.
        """
        super().__init__()
        self.runbook = runbook
        self.progress = progress
        self.settings = settings
        self.actions = actions
        self.incidents = incidents
        self.environment = environment
        self.production = production
        self.read_only = settings.read_only
        self.initial_procedure = initial_procedure
        self.ready = False
        self._step_list: StepList | None = None
        """Set once composed and mounted, so timers never reach half-built widgets."""
        self._focus_before_live: Widget | None = None
        """What had the focus when the live view opened; it gets it back on Escape."""

    def compose(self) -> ComposeResult:
        # Classes set before the children mount cost nothing; later changes restyle everything.
        self.update_classes(self.size_classes(*self.app.size), update=False)
        yield StatusBar(id="status-bar")
        yield ServingStrip(
            self.environment,
            self.production,
            self.runbook.path or self.settings.runbook_path or None,
            self.settings.clock,
            not_watched=None if self.settings.live_panes else NOT_WATCHED,
            id="serving-strip",
        )
        yield ProductionBanner(
            f"PRODUCTION · {self.environment} · commands act on the live system",
            id="production-banner",
            classes="-shown" if self.production else "",
            markup=False,
        )
        yield IncidentStrip(id="incident-strip")
        with Horizontal(id="body"):
            yield Navigator(self.runbook, self.progress, id="navigator")
            with Vertical(id="work"):
                step_list = StepList(self.progress, id="step-list")
                step_list.read_only = self.read_only
                yield step_list
                yield PaneDeck(
                    StepDetail(id="pane-detail"),
                    StepOutputPane(id="pane-output"),
                    id="pane-deck",
                )
                yield LiveColumn(LiveDock(self.runbook, id="pane-live"), id="live-column")
        yield Static(id="too-small", markup=False)
        yield KeyFooter(id="footer", compact=self.app.size.width < COMPACT_WIDTH)

    def on_mount(self) -> None:
        settings = self.settings
        self.query_one(StatusBar).configure(
            runbook_title=self.runbook.title or self.runbook.path or settings.runbook_path,
            environment=self.environment,
            production=self.production,
            mode="READ-ONLY" if self.read_only else "",
            session_state=self.actions.session_state,
            host_text=f"{settings.user}@{settings.hostname}",
            clock_text=self.actions.clock_text,
            cpu_text=self.actions.cpu_text,
        )
        self.query_one(Navigator).border_title = "Procedures"
        self.query_one(LiveColumn).border_title = "Live"
        self.watch(self.query_one(PaneDeck), "active", self._deck_changed)
        procedure = self.initial_procedure
        if procedure is not None:
            self.open_procedure(procedure, focus=False)
            navigator = self.query_one(Navigator)
            navigator.call_after_refresh(self._sync_navigator)
        self.query_one(StepList).focus()
        self.ready = True
        # Right after the first frame (which never waits for them), not a guessed delay later.
        self.call_after_refresh(self._start_live_panes)
        self.actions.screen_ready()

    def _sync_navigator(self) -> None:
        """Put the navigator's cursor on the procedure the checklist shows."""
        procedure = self.step_list.procedure
        if procedure is not None:
            self.query_one(Navigator).select_procedure(procedure.key)

    def _start_live_panes(self) -> None:
        # A worker, not the timer's own callback: deciding on the embedded sandbox can take
        # seconds, and the screen's message loop (its footer, its after-refresh callbacks)
        # must not wait for it.
        self.run_worker(
            self._mount_live_panes(),
            group="live-panes",
            exclusive=True,
            exit_on_error=False,
            description="Live panes",
        )

    async def _mount_live_panes(self) -> None:
        """Swap the static live dock for the real live panes, after the first frame: they
        bring the Docker and Prometheus clients, which the checklist must not wait for."""
        live = await self.actions.live_panes()
        if not self.is_attached:
            return
        if live is None:
            self.query_one(ServingStrip).unwatched(NOT_WATCHED)
            return
        await self.query_one(LiveColumn).replace(live)

    @on(ProcedureOpenRequested)
    def _open_requested(self, message: ProcedureOpenRequested) -> None:
        """A live pane offers the procedure for a breached threshold: open it."""
        message.stop()
        self.jump_to(message.procedure_key)

    # Layout -----------------------------------------------------------------

    def on_resize(self) -> None:
        self._apply_size(self.size.width, self.size.height)

    @staticmethod
    def size_classes(width: int, height: int) -> dict[str, bool]:
        """The layout classes for a terminal size."""
        wide = width >= WIDE_WIDTH and height >= WIDE_HEIGHT
        return {
            "-tiny": width < MIN_WIDTH or height < MIN_HEIGHT,
            "-compact": width < COMPACT_WIDTH,
            "-beside": width >= BESIDE_WIDTH,
            "-short": height < SHORT_HEIGHT,
            "-wide": wide,
            "-narrow": not wide,
        }

    def _apply_size(self, width: int, height: int) -> None:
        # One batched class change: each separate change would restyle the whole screen.
        classes = self.size_classes(width, height)
        if classes["-tiny"]:
            self.query_one("#too-small", Static).update(
                f"Terminal too small: {width}x{height}.\n"
                f"The console needs at least {MIN_WIDTH}x{MIN_HEIGHT}.\n\nctrl+q quits."
            )
        for deck in self.query(PaneDeck).results(PaneDeck):
            if classes["-beside"] and deck.active == "live":
                deck.active = "detail"  # the live panes are beside it now: no tab for them
        self.update_classes(classes)
        for footer in self.query(Footer).results(Footer):
            footer.compact = classes["-compact"]  # every key fits at 80 columns
        self.query_one(IncidentStrip).set_width(width)
        self._fit_columns(width, classes)

    def _fit_columns(self, width: int, classes: dict[str, bool]) -> None:
        """Where there is room, the navigator widens to the longest procedure name, up to
        a share of the screen (below 100 columns the stylesheet's width stands). Beside the
        live panes the checklist keeps CHECKLIST_MIN: the navigator narrows to make room
        while the operator works in the checklist, and widens again when focused to choose
        a procedure, names whole (as lazygit widens its focused side panel)."""
        navigator = self.query_one(Navigator)
        live_width = int(width * LIVE_WIDE_SHARE) if classes["-wide"] else LIVE_BESIDE
        if classes["-compact"]:
            navigator.styles.width = None
            return
        # Title, tree guides and progress mark, borders.
        needed = max((len(p.title) for p in self.runbook.procedures), default=0) + 6
        fitted = max(NAVIGATOR_MIN, min(needed, int(width * NAVIGATOR_SHARE)))
        if classes["-beside"] and not navigator.has_focus:
            room = width - live_width - CHECKLIST_MIN
            fitted = max(NAVIGATOR_BESIDE_MIN, min(fitted, room))
        navigator.styles.width = fitted

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, Navigator) and self.has_class("-beside"):
            self._fit_columns(self.size.width, self.size_classes(*self.size))

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if isinstance(event.widget, Navigator) and self.has_class("-beside"):
            self._fit_columns(self.size.width, self.size_classes(*self.size))

    # Opening things ---------------------------------------------------------------

    @property
    def step_list(self) -> StepList:
        # Kept from mount: timers may fire while the app is tearing the screen down.
        if self._step_list is None:
            self._step_list = self.query_one(StepList)
        return self._step_list

    def open_procedure(
        self, procedure: Procedure, step_index: int | None = None, focus: bool = True
    ) -> None:
        self.step_list.show_procedure(procedure, step_index)
        self._show_detail()
        if focus:
            self.step_list.focus()

    @on(Navigator.ProcedureHighlighted)
    def _preview(self, event: Navigator.ProcedureHighlighted) -> None:
        current = self.step_list.procedure
        if current is None or current.key != event.procedure.key:
            self.open_procedure(event.procedure, focus=False)

    @on(Navigator.ProcedureOpened)
    def _opened(self, event: Navigator.ProcedureOpened) -> None:
        self.open_procedure(event.procedure)

    @on(StepList.StepHighlighted)
    def _step_highlighted(self) -> None:
        self._show_detail()

    @on(StepList.OptionSelected, "#step-list")
    def _step_selected(self) -> None:
        self.query_one(PaneDeck).active = "detail"
        self.query_one(StepDetail).focus()

    def _show_detail(self) -> None:
        procedure = self.step_list.procedure
        step = self.step_list.current_step
        record = (
            self.progress.record(procedure.key, step.index)
            if procedure is not None and step is not None
            else None
        )
        self.query_one(StepDetail).show_step(procedure, step, record, self.read_only)
        if procedure is not None and step is not None:
            # The output pane follows the cursor: this step's last run, never another's.
            self.query_one(StepOutputPane).show_step(procedure.key, step, record)

    def refresh_step(self, procedure_key: str, step_index: int) -> None:
        """Redraw everything that shows a step after its record changed."""
        procedure = self.runbook.procedure(procedure_key)
        if procedure is None:
            return
        if self.step_list.procedure is not None and self.step_list.procedure.key == procedure_key:
            self.step_list.refresh_step(step_index)
            current = self.step_list.current_step
            if current is not None and current.index == step_index:
                self._show_detail()
        self.query_one(Navigator).refresh_procedure(procedure)
        status = self.query_one(StatusBar)
        status.session_state = self.actions.session_state
        status.running = self.actions.running is not None
        self.refresh_bindings()

    def show_runbook(self, runbook: Runbook) -> None:
        """The runbook was reloaded from disk: its new text, on the procedure shown before
        (or the first one, when that one is gone)."""
        current = self.step_list.procedure
        self.runbook = runbook
        self.query_one(Navigator).show_runbook(runbook)
        found = next((p for p in runbook.procedures if current and p.key == current.key), None)
        procedure = found or (runbook.procedures[0] if runbook.procedures else None)
        if procedure is not None:
            self.query_one(Navigator).select_procedure(procedure.key)
            self.step_list.show_first_open_step(
                procedure
            )  # a new text: cursor on the first open step
            self.step_list.focus()
        self._show_detail()

    def reload(self) -> None:
        """Redraw everything after the progress was replaced (a fresh session, or another
        checklist: an incident's own): the cursor goes to the first step still to do."""
        self.query_one(Navigator).refresh_labels()
        self.step_list.show_first_open_step()
        self._show_detail()
        self.query_one(StatusBar).session_state = self.actions.session_state

    def tick_timers(self) -> None:
        """Called every second while a countdown shows."""
        if self.is_attached:
            self.step_list.refresh_timers()
            if self.incidents.incident is not None:  # the keys offered follow its state
                self.incident_strip.follow(self.incidents.incident)

    def on_unmount(self) -> None:
        self.ready = False

    def _current(self) -> tuple[Procedure, Step] | None:
        procedure = self.step_list.procedure
        step = self.step_list.current_step
        if procedure is None or step is None:
            self.notify("Open a procedure and highlight a step first.", severity="warning")
            return None
        return procedure, step

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what cannot apply: cancel while nothing runs; incident keys without an open
        incident. Run stays on a read-only console: `r` on a mutating step says, in words,
        that it is not run here (a key that does nothing would leave the operator guessing)."""
        if action == "close_live_view":
            return self.live_view  # else Escape means what it means to the rest
        if self.live_view and action in CHECKLIST_ACTIONS:
            return False  # the checklist is out of sight: its keys must not act on it
        incident = self.incidents.incident
        if action in ("acknowledge", "escalate", "incident"):
            return incident is not None and incident.is_open
        if action == "rollback":
            hint = self.incidents.hint
            return hint is not None and hint.offers_rollback
        if action == "cancel":
            return self.actions.running is not None
        if action == "run" and self.actions.running is not None:
            return None  # shown greyed: one step at a time
        return True

    # Checklist actions ------------------------------------------------------------

    def action_tick(self) -> None:
        current = self._current()
        if current is None:
            return
        procedure, step = current
        record = self.progress.record(procedure.key, step.index)
        if record.status == "running":
            self.notify("The step is running; cancel it first (c).", severity="warning")
            return
        status: StepStatus = "pending" if record.status in ("done", "skipped") else "done"
        self.actions.set_status(procedure.key, step.index, status)
        if status == "done":
            self._advance(procedure, step)

    @property
    def cursor_mark(self) -> int:
        """Taken when a run starts; `advance_from` compares it to tell whether the operator
        moved the cursor meanwhile."""
        return self.step_list.moves

    def advance_from(self, procedure_key: str, step_index: int, mark: int) -> None:
        """A run that started at cursor `mark` ended well: move the cursor past its step,
        unless the cursor went anywhere since (even back to the step)."""
        procedure = self.step_list.procedure
        if procedure is None or procedure.key != procedure_key or mark != self.cursor_mark:
            return
        step = next((s for s in procedure.steps if s.index == step_index), None)
        if step is not None:
            self._advance(procedure, step)

    def _advance(self, procedure: Procedure, step: Step) -> None:
        """Move the cursor from `step` to the next one, once: only while it rests on `step`
        (a second call, or a cursor already moved, leaves it). The row scrolls into view."""
        steps = self.step_list
        position = steps.position_of(step.index)
        if position is None or steps.highlighted != position:
            return
        if position + 1 < len(procedure.steps):
            steps.highlighted = position + 1
            steps.scroll_to_highlight()

    @work(group="dialogs", exclusive=True, description="Skip a step")
    async def action_skip(self) -> None:
        from console.screens.prompt import TextPromptScreen  # dialogs load when first asked for

        current = self._current()
        if current is None:
            return
        procedure, step = current
        reason = await self.app.push_screen_wait(
            TextPromptScreen(f"Skip step {step.index}: why?", "reason (kept in the session)")
        )
        if reason:
            self.actions.set_status(procedure.key, step.index, "skipped", reason=reason)
            self._advance(procedure, step)

    @work(group="dialogs", exclusive=True, description="Add a note")
    async def action_note(self) -> None:
        from console.screens.prompt import TextPromptScreen  # dialogs load when first asked for

        current = self._current()
        if current is None:
            return
        procedure, step = current
        note = await self.app.push_screen_wait(
            TextPromptScreen(f"Note on step {step.index}", "what you saw or did")
        )
        if note:
            self.actions.add_note(procedure.key, step.index, note)

    def action_run(self) -> None:
        current = self._current()
        if current is not None:
            self.actions.start_step(*current, dry_run=False)

    def action_dry_run(self) -> None:
        current = self._current()
        if current is not None:
            self.actions.start_step(*current, dry_run=True)

    def action_cancel(self) -> None:
        self.actions.cancel_step()

    def action_show_pane(self, name: str) -> None:
        if name == "live" and self.has_class("-beside"):
            self.query_one(LiveColumn).focus_first()  # beside the checklist: go there
            return
        self.query_one(PaneDeck).active = name

    @property
    def live_view(self) -> bool:
        """Whether the live panes fill the screen (`w`)."""
        return self.has_class("-live-full")

    def action_toggle_live_view(self) -> None:
        if self.live_view:
            self.action_close_live_view()
            return
        self._focus_before_live = self.focused
        self.add_class("-live-full")
        self.refresh_bindings()
        column = self.query_one(LiveColumn)
        column.border_title = "Live view"
        column.border_subtitle = "w or esc: back to the checklist"
        if not column.focus_first():
            self.set_focus(None)

    def action_close_live_view(self) -> None:
        self.remove_class("-live-full")
        self.refresh_bindings()
        column = self.query_one(LiveColumn)
        column.border_title = "Live"
        column.border_subtitle = ""
        before, self._focus_before_live = self._focus_before_live, None
        if before is not None and before.is_attached and before.focusable:
            self.set_focus(before)
        else:
            self.step_list.focus()

    def _deck_changed(self, active: str) -> None:
        self.set_class(active == "live", "-live-tab")

    def show_output(self) -> StepOutputPane:
        self.query_one(PaneDeck).active = "output"
        return self.query_one(StepOutputPane)

    @work(group="dialogs", exclusive=True, description="Search the runbook")
    async def action_search(self) -> None:
        from console.screens.search import SearchScreen  # dialogs load when first asked for

        hit: SearchHit | None = await self.app.push_screen_wait(SearchScreen(self.runbook))
        if hit is not None:
            self.jump_to(hit.procedure_key, hit.step_index)

    def jump_to(self, procedure_key: str, step_index: int | None = None) -> None:
        procedure = self.runbook.procedure(procedure_key)
        if procedure is None:
            return
        self.query_one(Navigator).select_procedure(procedure.key)
        self.open_procedure(procedure, step_index)

    def action_jump(self) -> None:
        commands: list[CommandListItem] = []
        for procedure in self.runbook.procedures:
            finished, _failed, total, _cancelled = self.progress.counts(procedure)
            commands.append(
                SimpleCommand(
                    literal(procedure.title),
                    partial(self.jump_to, procedure.key),
                    literal(f"{' / '.join(procedure.path)}  {finished}/{total}"),
                )
            )
        self.app.search_commands(commands, placeholder="Jump to procedure…")

    # Incident ----------------------------------------------------------------------

    @property
    def incident_strip(self) -> IncidentStrip:
        return self.query_one(IncidentStrip)

    @on(IncidentShown)
    def _incident_shown(self, message: IncidentShown) -> None:
        self.incident_strip.show(message.incident, message.store, self.settings.clock)
        if message.jump:
            self.jump_to(message.incident.procedure)
        self.step_list.set_incident(message.incident)
        self.refresh_bindings()

    @on(IncidentChanged)
    def _incident_changed(self, message: IncidentChanged) -> None:
        if message.reread:
            self.incident_strip.reload()
        self.incident_strip.follow(message.incident)
        self.step_list.set_incident(message.incident)
        self.refresh_bindings()

    @on(IncidentClosed)
    def _incident_closed(self) -> None:
        self.incident_strip.hide()
        self.step_list.set_incident(None)
        self.refresh_bindings()

    @on(DeploymentHintFound)
    def _hint_found(self, message: DeploymentHintFound) -> None:
        self.incident_strip.set_hint(message.text, recent=message.recent)
        self.refresh_bindings()

    @on(IncidentRead)
    def _incident_read(self, message: IncidentRead) -> None:
        """The strip read the incident file: what others recorded reaches the checklist."""
        message.stop()
        self.incidents.follow(message.incident)

    @on(DeadlineDue)
    def _deadline_due(self, message: DeadlineDue) -> None:
        message.stop()
        self.incidents.deadline_due(message.deadline.label)

    def action_acknowledge(self) -> None:
        self.incidents.acknowledge()

    def action_escalate(self) -> None:
        from console.screens.prompt import TextPromptScreen  # dialogs load when first asked for

        def escalate(to: str | None) -> None:
            if to is not None:
                self.incidents.escalate(to)

        self.app.push_screen(
            TextPromptScreen("Escalate to", "name or team", required=False), escalate
        )

    def action_incident(self) -> None:
        self.incidents.show_timeline()

    def action_rollback(self) -> None:
        hint = self.incidents.hint
        if hint is not None and hint.offers_rollback and hint.procedure is not None:
            self.jump_to(hint.procedure, hint.step)

    def on_screen_resume(self) -> None:
        if self.ready:
            self.incidents.refresh()

    @on(HealthChanged)
    def _health_changed(self, message: HealthChanged) -> None:
        self.incidents.health_changed(message.path, message.ok, message.detail, message.status)

    @on(ThresholdCrossed)
    def _threshold_crossed(self, message: ThresholdCrossed) -> None:
        self.incidents.threshold_crossed(
            message.metric, message.state, message.previous, message.value_text, message.source
        )

    @on(GaugesShown)
    def _gauges_shown(self, message: GaugesShown) -> None:
        self.incidents.gauges_shown(message.values)
        self.query_one(ServingStrip).show_gauges(message.values)

    @on(ServiceWatched)
    def _service_watched(self, message: ServiceWatched) -> None:
        message.stop()
        self.query_one(ServingStrip).watch_service(
            message.base_url, message.deadline_s, message.prober
        )

    @on(ContainerRestarted)
    def _container_restarted(self, message: ContainerRestarted) -> None:
        self.incidents.container_restarted(message.container, message.restarts)

    # Execution ---------------------------------------------------------------------

    def write_output(
        self, lines: list[tuple[str, str]], step: tuple[str, int] | None = None
    ) -> None:
        """A run's lines, shown if the output pane shows that run (`step`: whose run)."""
        output = self.query_one(StepOutputPane)
        if output.shows(step):
            output.write_lines(lines)

    async def confirm_quit(self) -> bool:
        from console.screens.prompt import YesNoScreen  # dialogs load when first asked for

        question = YesNoScreen(
            "A step is still running. Quit anyway?",
            "The step keeps running in the background and its outcome is recorded; "
            "the next console shows it.",
            yes="Quit",
            no="Stay",
        )
        return bool(await self.app.push_screen_wait(question))  # type: ignore[arg-type]
