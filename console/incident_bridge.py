"""Incident mode in the console: the open incident, its countdowns and what goes in its timeline.

The app holds one `IncidentBridge` (`app.incidents`). Starting an incident (the palette's
"incident: Start P1 …") opens the severity's procedure as the checklist and shows its
countdowns above it; from then on step marks, notes, commands with their exit status
and what the live panes observe are recorded in the incident's timeline
(runbook.incident.events builds the events). Events are written in order by one
writer thread, never on the UI thread.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.command import Provider

    from console.app import RunbookConsole
    from runbook.execution.executor import StepReporter
    from runbook.incident.deployments import DeploymentHint
    from runbook.incident.model import Incident
    from runbook.incident.store import IncidentStore
    from runbook.incident.timeline import Event


def incident_commands() -> type[Provider]:
    """The palette provider, imported when the palette first opens (not for the first frame)."""
    from console.incident.commands import IncidentCommands

    return IncidentCommands


class EventWriter:
    """Appends events to incident files in the order they came, on its own thread.

    The thread ends when the queue is empty and is not a daemon, so events still
    queued when the console quits are written before the process ends.
    """

    def __init__(self, store: IncidentStore, on_error: Callable[[str], None]) -> None:
        self.store = store
        self.on_error = on_error
        self._queue: queue.SimpleQueue[tuple[str, Event]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def append(self, incident_id: str, event: Event) -> None:
        """Queue one event (thread-safe)."""
        self._queue.put((incident_id, event))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name="incident-writer")
                self._thread.start()

    def _drain(self) -> None:
        from runbook.incident.model import IncidentError

        while True:
            try:
                incident_id, event = self._queue.get(timeout=0.2)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            try:
                self.store.append(incident_id, event)
            except (IncidentError, OSError) as error:
                self.on_error(f"Not recorded in {incident_id}: {event.text} ({error})")

    def wait_idle(self, timeout_s: float = 5.0) -> bool:
        """Block until every queued event is written (tests, shutdown)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        return self._queue.empty()


class IncidentBridge:
    """The console's open incident: start, show, act on and record into it."""

    def __init__(self, app: RunbookConsole) -> None:
        self.app = app
        self.incident: Incident | None = None
        self.hint: DeploymentHint | None = None
        self.alert: dict[str, Any] | None = app.settings.alert
        """Alert name and labels the console was opened with, kept with a started incident."""
        self._store: IncidentStore | None = None
        self._writer: EventWriter | None = None

    @property
    def store(self) -> IncidentStore:
        if self._store is None:
            from runbook.incident.store import IncidentStore

            self._store = IncidentStore(self.app.settings.config.state_dir / "incidents")
        return self._store

    @property
    def writer(self) -> EventWriter:
        if self._writer is None:
            self._writer = EventWriter(self.store, self._report_error)
        return self._writer

    def _report_error(self, text: str) -> None:
        # From the writer thread; the app may be gone when the console quits.
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(self.app.notify, text, severity="error", timeout=8)

    @property
    def user(self) -> str:
        return self.app.settings.user

    # Starting and showing ----------------------------------------------------------

    def start(self, level: str) -> None:
        """Open an incident at `level`: its procedure becomes the checklist, countdowns show."""
        from runbook.incident.model import IncidentError, open_incident

        if self.incident is not None and self.incident.is_open:
            self.app.notify(
                f"{self.incident.id} is still open: close it first (i, then c).",
                severity="warning",
            )
            return
        try:
            incident = open_incident(
                self.app.runbook,
                level,
                by=self.user,
                clock=self.app.settings.clock,
                environment=self.app.environment,
                alert=self.alert,
            )
            self.store.save(incident)
        except (IncidentError, OSError) as error:
            self.app.notify(str(error), severity="error")
            return
        self.show(incident)
        self.app.notify(
            f"{incident.id}: {incident.severity} {incident.severity_title}. "
            "a acknowledge · e escalate · i timeline",
            title="Incident opened",
            timeout=8,
        )

    def show(self, incident: Incident, jump: bool = True) -> None:
        """Make `incident` the console's: countdowns above the checklist, its procedure open."""
        self.incident = incident
        self.hint = None
        screen = self.app.main_screen
        if screen is not None:
            screen.incident_strip.show(incident, self.store, self.app.settings.clock)
            screen.refresh_bindings()
            if jump and self.app.runbook.procedure(incident.procedure) is not None:
                screen.jump_to(incident.procedure)
        self._sync_checklist()
        self._check_deployments(incident)

    def _sync_checklist(self) -> None:
        """The checklist's deadline rows count with the incident's countdowns."""
        screen = self.app.main_screen
        if screen is not None and screen.ready:
            screen.step_list.set_incident(self.incident)

    def follow(self, incident: Incident) -> None:
        """The strip read the incident file again: what other consoles or the CLI recorded
        (an acknowledgement, an escalation) shows in the checklist too."""
        current = self.incident
        if (
            current is None
            or incident.id != current.id
            or not incident.is_open
            or len(incident.events) < len(current.events)  # an older read than ours
        ):
            return
        self.incident = incident
        self._sync_checklist()

    def adopt_open(self) -> None:
        """At start: an incident already open for this runbook (the CLI's, another
        console's) becomes this console's too. Read on a thread."""
        self.app.run_worker(
            self._find_open,
            thread=True,
            group="incident-adopt",
            exit_on_error=False,
            description="Open incidents",
        )

    def _find_open(self) -> None:
        from runbook.incident.model import IncidentError

        try:
            incident = self.store.load("current")
        except (IncidentError, OSError):
            return
        runbook = self.app.runbook
        path = str(Path(runbook.path).resolve()) if runbook.path else None
        if incident.drill or (
            incident.runbook_sha256 != runbook.sha256 and incident.runbook_path != path
        ):
            return
        self.app.call_from_thread(self._adopt, incident)

    def _adopt(self, incident: Incident) -> None:
        if self.incident is None:
            # An alert's procedure, when the console was opened for one, stays in front.
            self.show(incident, jump=self.app.settings.open_procedure is None)
            self.app.notify(
                f"{incident.id} ({incident.severity}) is open: recording into its timeline.",
                title="Incident",
                timeout=6,
            )

    def open_current(self) -> None:
        """The newest open incident, full screen with its timeline and actions."""
        from runbook.incident.model import IncidentError

        try:
            incident = self.store.load("current")
        except IncidentError as error:
            self.app.notify(str(error), severity="warning")
            return
        if self.incident is None or self.incident.id != incident.id:
            self.show(incident)
        self.show_timeline()

    def show_timeline(self) -> None:
        from console.incident.screen import IncidentScreen

        if self.incident is None:
            self.app.notify("No incident is open: ctrl+p → incident: Start …", timeout=4)
            return
        self.app.push_screen(
            IncidentScreen(
                self.store.load(self.incident.id), self.store, clock=self.app.settings.clock
            )
        )

    def refresh(self) -> None:
        """Back on the checklist: follow what happened to the incident meanwhile."""
        if self.incident is None:
            return  # the usual case, and the first frame's: runbook.incident.model stays unloaded
        from runbook.incident.model import IncidentError

        try:
            incident = self.store.load(self.incident.id)
        except IncidentError:
            return
        self.incident = incident
        if not incident.is_open:
            self.incident = None
            self.hint = None
            screen = self.app.main_screen
            if screen is not None:
                screen.incident_strip.hide()
                screen.refresh_bindings()
            self.app.notify(f"{incident.id} is closed: {incident.resolution}", timeout=5)
        self._sync_checklist()

    def _check_deployments(self, incident: Incident) -> None:
        self.app.run_worker(
            lambda: self._find_deployment(incident),
            thread=True,
            group="incident-hint",
            exclusive=True,
            exit_on_error=False,
            description="Deployment history",
        )

    def _find_deployment(self, incident: Incident) -> None:
        from runbook.incident.deployments import deployment_hint

        hint = deployment_hint(self.app.runbook, incident.procedure, self.app.settings.clock())
        self.app.call_from_thread(self._show_hint, incident.id, hint)

    def _show_hint(self, incident_id: str, hint: DeploymentHint | None) -> None:
        if self.incident is None or self.incident.id != incident_id:
            return
        self.hint = hint
        screen = self.app.main_screen
        if hint is None:
            text = "No deployment in the last hour"
        else:
            version = hint.record.get("to_version") or "?"
            text = f"Deployed {version} {int(hint.age_s // 60)}m ago · b rollback"
            self.app.notify(hint.text, title="Recent deployment?", severity="warning", timeout=15)
        if screen is not None:
            screen.incident_strip.set_hint(text, recent=hint is not None)
            screen.refresh_bindings()

    def go_to_rollback(self) -> None:
        screen = self.app.main_screen
        if self.hint is None or self.hint.procedure is None or screen is None:
            return
        screen.jump_to(self.hint.procedure, self.hint.step)

    # Explicit actions -------------------------------------------------------------

    def _update(self, change: Callable[[Incident], object], done: str, title: str = "") -> bool:
        """Apply `change` to the stored incident; False (and a warning) when it is refused."""
        from runbook.incident.model import IncidentError

        if self.incident is None:
            return False
        try:
            self.incident = self.store.update(self.incident.id, change)
        except (IncidentError, OSError) as error:
            self.app.notify(str(error), severity="warning")
            return False
        if done:
            self.app.notify(done, title=title, timeout=6)
        screen = self.app.main_screen
        if screen is not None:
            screen.incident_strip.reload()
        self._sync_checklist()
        return True

    def acknowledge(self, because: str = "") -> bool:
        """Record the acknowledgement now, by this console's user (`a`, the palette, or
        ticking the procedure's acknowledge step: `because` says which step)."""
        if self.incident is None:
            return False
        at = self.app.settings.clock()
        why = f" ({because})" if because else ""
        return self._update(
            lambda i: i.acknowledge(by=self.user, at=at),
            f"{self.incident.id} acknowledged at {at:%H:%M} by {self.user}{why}",
            title="Incident acknowledged",
        )

    def escalate(self, to: str, because: str = "") -> bool:
        if self.incident is None:
            return False
        at = self.app.settings.clock()
        why = f" ({because})" if because else ""
        return self._update(
            lambda i: i.escalate(to=to or None, by=self.user, at=at),
            f"{self.incident.id} escalated{f' to {to}' if to else ''} at {at:%H:%M}"
            f" by {self.user}{why}",
            title="Incident escalated",
        )

    def ask_escalation(self, step_index: int) -> None:
        """The escalate step was ticked: record an escalation, or say that none was."""
        from console.screens.prompt import TextPromptScreen

        incident = self.incident
        if incident is None:
            return

        def answered(to: str | None) -> None:
            if to is None:
                self.app.notify(
                    f"Step {step_index} ticked without an escalation (e records one).", timeout=6
                )
            else:
                self.escalate(to, because=f"step {step_index} ticked")

        self.app.push_screen(
            TextPromptScreen(
                f"Step {step_index} ticked: escalate {incident.id}?",
                "to whom: a name or team (may stay empty)",
                required=False,
                save_label="Escalate",
                cancel_label="Don't escalate",
            ),
            answered,
        )

    def deadline_due(self, label: str) -> None:
        """A countdown ran out: say so loudly, record `deadline-due` once."""
        self.app.bell()
        self.app.notify(f"{label}: the deadline has passed", severity="error", timeout=30)
        self._update(lambda i: i.check_deadlines(self.app.settings.clock()), "")

    # Recording ----------------------------------------------------------------------

    def record(self, event: Event | None) -> None:
        """Append to the open incident's timeline (thread-safe); nothing without one."""
        incident = self.incident
        if event is not None and incident is not None and incident.is_open:
            self.writer.append(incident.id, event)

    def step_marked(
        self, procedure_key: str, step_index: int, status: str, reason: str | None
    ) -> None:
        if self.incident is None or status not in ("done", "skipped", "failed"):
            return
        from runbook.incident.events import step_event

        procedure = self.app.runbook.procedure(procedure_key)
        step = (
            procedure.steps[step_index - 1]
            if procedure is not None and 0 < step_index <= len(procedure.steps)
            else None
        )
        title = step.title if step is not None else ""
        event = step_event(
            procedure_key,
            step_index,
            title,
            status,
            reason=reason,
            actor=self.user,
            at=self.app.settings.clock(),
        )
        incident = self.incident
        action = step.incident_action if step is not None else None
        if status != "done" or procedure_key != incident.procedure or action is None:
            self.record(event)
            return
        # The procedure's own deadline steps are the incident's actions: ticking one does it.
        # The tick is written first, so the timeline reads "step done", then the action.
        self._record_now(event)
        if action == "acknowledge" and incident.acknowledged_at is None:
            self.acknowledge(because=f"step {step_index} ticked")
        elif (
            action == "escalate" and incident.escalated_at is None and incident.mitigated_at is None
        ):
            self.ask_escalation(step_index)

    def _record_now(self, event: Event) -> None:
        """Append on this thread, before an action recorded right after it; queued on error."""
        from runbook.incident.model import IncidentError

        if self.incident is None:
            return
        try:
            self.store.append(self.incident.id, event)
        except (IncidentError, OSError):
            self.record(event)

    def note(self, procedure_key: str, step_index: int, text: str) -> None:
        if self.incident is None:
            return
        from runbook.incident.timeline import make_event

        self.record(
            make_event(
                "note",
                f"Step {step_index}: {text}",
                actor=self.user,
                procedure=procedure_key,
                step=step_index,
            )
        )

    def reporter(self, inner: StepReporter) -> StepReporter:
        """`inner`, also recording each command with its exit status while an incident is open."""
        if self.incident is None:
            return inner
        from runbook.incident.events import IncidentReporter, masker_for

        return IncidentReporter(
            self.record,
            inner,
            masker=masker_for(self.app.settings.config),
            actor=self.user,
        )

    def health_changed(self, path: str, ok: bool, detail: str, status: int | None) -> None:
        if self.incident is not None:
            from runbook.incident.events import health_event

            self.record(health_event(path, ok, detail, status))

    def threshold_crossed(
        self, metric: str, state: str, previous: str, value_text: str, source: str
    ) -> None:
        if self.incident is not None:
            from runbook.incident.events import threshold_event

            self.record(threshold_event(metric, state, previous, value_text, source))

    def container_restarted(self, container: str, restarts: int | None) -> None:
        if self.incident is not None:
            from runbook.incident.events import restart_event

            self.record(restart_event(container, restarts))
