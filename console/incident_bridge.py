"""Incident mode in the console: the open incident, its countdowns and what goes in its timeline.

The app holds one `IncidentBridge` (`app.incidents`). Starting an incident (the palette's
"incident: Start P1 …") opens the severity's procedure as the checklist and shows its
countdowns above it; from then on step marks, notes, commands with their exit status
and what the live panes observe are recorded in the incident's timeline
(runbook.incident.events builds the events).

Nothing here touches a widget, and no incident file is read or written on the UI thread:
one `IncidentWriter` thread does every read and write in the order asked (another
console or the CLI may hold an incident's lock for a while). What it finds comes back
as messages (console.messages): `IncidentStored`, `IncidentLoaded` and
`IncidentStoreFailed` to the app, which hands them to the bridge; the bridge posts
`IncidentShown`, `IncidentChanged`, `IncidentClosed` and `DeploymentHintFound` to the main
screen, which updates the strip above the checklist and the checklist's deadline rows.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from textual.message import Message

from console.messages import (
    DeploymentHintFound,
    IncidentChanged,
    IncidentClosed,
    IncidentLoaded,
    IncidentPurpose,
    IncidentShown,
    IncidentStored,
    IncidentStoreFailed,
)
from console.settings import ConsoleSettings
from runbook.model import Runbook

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import App

    from console.progress import StepStatus
    from runbook.execution.executor import StepReporter
    from runbook.incident.deployments import DeploymentHint
    from runbook.incident.events import GaugeReading
    from runbook.incident.model import Incident
    from runbook.incident.store import IncidentStore
    from runbook.incident.timeline import Event

APPEND_TRIES = 3
"""An event waits this many lock timeouts for a busy incident before it is reported lost."""

Job = Callable[[], None]


HINT_RECHECK_S = 2.0
"""How often the deployment hint reads the history again while an incident is open."""
OPEN_POLL_S = 2.0
"""How often, with no incident shown, the console looks for one opened elsewhere."""


class IncidentWriter:
    """Reads and writes incident files in the order asked, on a thread of its own.

    The thread ends when the queue is empty and is not a daemon, so events still
    queued when the console quits are written before the process ends.
    """

    def __init__(
        self, open_store: Callable[[], IncidentStore], on_error: Callable[[str], None]
    ) -> None:
        self._open_store = open_store
        """Called on the writer's thread at its first job: importing and opening the store
        is no work for the UI thread."""
        self._store: IncidentStore | None = None
        self.on_error = on_error
        """Called on the writer thread when an event could not be recorded."""
        self._queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._directory_stamp: int | None = None
        """The incidents' directory's mtime at the last find_open (writer thread only)."""

    @property
    def store(self) -> IncidentStore:
        if self._store is None:
            self._store = self._open_store()
        return self._store

    def _submit(self, job: Job) -> None:
        self._queue.put(job)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name="incident-writer")
                self._thread.start()

    def append(self, incident_id: str, event: Event) -> None:
        """Queue one event (thread-safe)."""
        self._submit(lambda: self._append(incident_id, event))

    def update(
        self,
        incident_id: str,
        change: Callable[[Incident], object],
        then: Callable[[Incident], object],
        failed: Callable[[str], object],
    ) -> None:
        """Queue `change` under the incident's lock; `then` or `failed` is called on this
        writer's thread with the outcome."""

        def job() -> None:
            from runbook.incident.model import IncidentError

            try:
                incident = self.store.update(incident_id, change)
            except (IncidentError, OSError) as error:
                failed(str(error))
                return
            then(incident)

        self._submit(job)

    def save(
        self,
        incident: Incident,
        then: Callable[[Incident], object],
        failed: Callable[[str], object],
    ) -> None:
        """Queue writing a new incident's file."""

        def job() -> None:
            try:
                self.store.save(incident)
            except OSError as error:
                failed(str(error))
                return
            then(incident)

        self._submit(job)

    def load(
        self, incident_id: str, then: Callable[[Incident], object], failed: Callable[[str], object]
    ) -> None:
        """Queue a read of the incident (`current`: the newest open one), after the writes
        queued before it."""

        def job() -> None:
            from runbook.incident.model import IncidentError

            try:
                incident = self.store.load(incident_id)
            except (IncidentError, OSError) as error:
                failed(str(error))
                return
            then(incident)

        self._submit(job)

    def find_open(
        self,
        runbook: Runbook,
        environment: str,
        then: Callable[[Incident], object],
        changed_only: bool = False,
    ) -> None:
        """Queue looking for the open incident of `runbook` in `environment`; `then` is
        called on this writer's thread when there is one. `changed_only`: only when a
        file came or went in the incidents' directory since the last look."""

        def job() -> None:
            from runbook.incident.model import IncidentError

            try:
                stamp = self.store.directory.stat().st_mtime_ns
            except OSError:
                stamp = None
            if changed_only and stamp == self._directory_stamp:
                return
            self._directory_stamp = stamp
            path = str(Path(runbook.path).resolve()) if runbook.path else None
            try:
                incident = self.store.open_for(path, runbook.sha256, environment)
            except (IncidentError, OSError, TypeError, ValueError, KeyError):
                return
            if incident is not None:
                then(incident)

        self._submit(job)

    def _append(self, incident_id: str, event: Event) -> None:
        from runbook.incident.model import IncidentError
        from runbook.incident.store import IncidentBusy

        for attempt in range(1, APPEND_TRIES + 1):
            try:
                self.store.append(incident_id, event)
                return
            except IncidentBusy as error:
                if attempt == APPEND_TRIES:
                    self.on_error(f"Not recorded in {incident_id}: {event.text} ({error})")
            except (IncidentError, OSError) as error:
                self.on_error(f"Not recorded in {incident_id}: {event.text} ({error})")
                return

    def _drain(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=0.2)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            job()

    def wait_idle(self, timeout_s: float = 15.0) -> bool:
        """Block until every queued read and write is done (tests, shutdown)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        return self._queue.empty()


class IncidentBridge:
    """The console's open incident: start, show, act on and record into it.

    Args:
        app: notifies, rings the bell, pushes the incident's screens and runs workers.
        runbook: the runbook whose incidents these are.
        settings: the user, the clock, the state dir, the alert the console opened for.
        environment: kept with a started incident.
        post_to_screen: delivers the incident messages to the main screen (thread-safe).
        set_status: ticks a checklist row, saved in the session (the app's `set_status`):
            acknowledging or escalating ticks the procedure's step for it.
        switch_checklist: makes the checklist an incident's own (its id), or the
            environment's again (None) once the incident closed.
    """

    def __init__(
        self,
        app: App[Any],
        runbook: Runbook,
        settings: ConsoleSettings,
        environment: str,
        post_to_screen: Callable[[Message], object],
        set_status: Callable[[str, int, StepStatus], object] | None = None,
        switch_checklist: Callable[[str | None], object] | None = None,
    ) -> None:
        self.app = app
        self.runbook = runbook
        self.settings = settings
        self.environment = environment
        self.post_to_screen = post_to_screen
        self.set_status = set_status
        self.switch_checklist = switch_checklist
        self._ticking: tuple[str, int] | None = None
        """The row this bridge ticks now: its mark is already in the timeline."""
        self.readings: tuple[GaugeReading, ...] = ()
        """The gauges as the operator sees them (GaugesShown, via the main screen)."""
        self.incident: Incident | None = None
        self.hint: DeploymentHint | None = None
        self._hint_text = ""
        """The hint's text as last shown: `tick_hint` posts only a change."""
        self._hint_checked = 0.0
        self._open_polled = time.monotonic()
        """When the deployment history was last read (monotonic)."""
        self.alert: dict[str, Any] | None = settings.alert
        """Alert name and labels the console was opened with, kept with a started incident."""
        self._store: IncidentStore | None = None
        self._writer: IncidentWriter | None = None

    @property
    def store(self) -> IncidentStore:
        if self._store is None:
            from runbook.incident.store import IncidentStore

            self._store = IncidentStore(
                self.settings.config.state_dir / "incidents",
                lock_timeout_s=self.settings.incident_lock_timeout_s,
            )
        return self._store

    @property
    def writer(self) -> IncidentWriter:
        if self._writer is None:
            self._writer = IncidentWriter(lambda: self.store, self._report_error)
        return self._writer

    def _report_error(self, text: str) -> None:
        # From the writer thread; the app may be gone when the console quits.
        self.app.post_message(IncidentStoreFailed(text, severity="error"))

    def _refused(self, text: str) -> None:
        self.app.post_message(IncidentStoreFailed(text))

    @property
    def user(self) -> str:
        return self.settings.user

    # Starting and showing ----------------------------------------------------------

    def start(self, level: str) -> None:
        """Open an incident at `level`: its procedure becomes the checklist, countdowns show.

        The new incident's file is written by the writer thread, before anything
        recorded into it."""
        from runbook.incident.model import IncidentError, open_incident

        if self.incident is not None and self.incident.is_open:
            self.app.notify(
                f"{self.incident.id} is still open: close it first (i, then c).",
                severity="warning",
            )
            return
        try:
            incident = open_incident(
                self.runbook,
                level,
                by=self.user,
                clock=self.settings.clock,
                environment=self.environment,
                alert=self.alert,
            )
        except IncidentError as error:
            self.app.notify(str(error), severity="error")
            return
        if self.readings:
            incident.record_readings("open", self.readings, at=self.settings.clock())
        self.writer.save(incident, then=self._started, failed=self._not_started)

    def _started(self, incident: Incident) -> None:
        self.app.post_message(IncidentLoaded(incident, purpose="started"))

    def _not_started(self, error: str) -> None:
        self.app.post_message(IncidentStoreFailed(f"Incident not opened: {error}", "error"))

    def show(self, incident: Incident, jump: bool = True) -> None:
        """Make `incident` the console's: countdowns above the checklist, its procedure open."""
        self.incident = incident
        self.hint = None
        self._hint_text = ""
        if self.switch_checklist is not None:
            self.switch_checklist(incident.id)
        jump = jump and self.runbook.procedure(incident.procedure) is not None
        self.post_to_screen(IncidentShown(incident, self.store, jump))
        self._check_deployments(incident)

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
        self.post_to_screen(IncidentChanged(incident, reread=False))

    def adopt_open(self) -> None:
        """At start: an incident already open for this runbook in this environment (the
        CLI's, another console's) becomes this console's too: never another environment's.
        Read on the writer thread."""
        self.writer.find_open(
            self.runbook,
            self.environment,
            then=lambda incident: self.app.post_message(IncidentLoaded(incident, "adopt")),
        )

    def loaded(self, incident: Incident, purpose: IncidentPurpose) -> None:
        """The writer read or created an incident (IncidentLoaded, on the UI thread)."""
        if purpose == "started":
            self.show(incident)
            self.app.notify(
                f"{incident.id}: {incident.severity} {incident.severity_title}. "
                "a acknowledge · e escalate · i timeline",
                title="Incident opened",
                timeout=8,
            )
        elif purpose == "adopt":
            if self.incident is None:
                # An alert's procedure, when the console was opened for one, stays in front.
                self.show(incident, jump=self.settings.open_procedure is None)
                self.app.notify(
                    f"{incident.id} ({incident.severity}) is open: recording into its timeline.",
                    title="Incident",
                    timeout=6,
                )
        elif purpose == "open":
            if self.incident is None or self.incident.id != incident.id:
                self.show(incident)
            self._push_timeline(incident)
        elif purpose == "timeline":
            self._push_timeline(incident)
        elif purpose == "refresh":
            self._refreshed(incident)

    def open_current(self) -> None:
        """The newest open incident, full screen with its timeline and actions."""
        self.writer.load(
            "current",
            then=lambda incident: self.app.post_message(IncidentLoaded(incident, "open")),
            failed=self._refused,
        )

    def show_timeline(self) -> None:
        if self.incident is None:
            self.app.notify("No incident is open: ctrl+p → incident: Start …", timeout=4)
            return
        self.writer.load(
            self.incident.id,
            then=lambda incident: self.app.post_message(IncidentLoaded(incident, "timeline")),
            failed=self._refused,
        )

    def _push_timeline(self, incident: Incident) -> None:
        from console.incident.screen import IncidentScreen

        self.app.push_screen(
            IncidentScreen(
                incident,
                self.store,
                clock=self.settings.clock,
                procedure=self.runbook.procedure(incident.procedure),
                by=self.user,
                readings=lambda: self.readings,
                ticked=self.tick_checklist,
            )
        )

    def refresh(self) -> None:
        """Back on the checklist: follow what happened to the incident meanwhile."""
        if self.incident is None:
            return  # the usual case, and the first frame's: runbook.incident.model stays unloaded
        self.writer.load(
            self.incident.id,
            then=lambda incident: self.app.post_message(IncidentLoaded(incident, "refresh")),
            failed=lambda _error: None,
        )

    def _refreshed(self, incident: Incident) -> None:
        if self.incident is None or self.incident.id != incident.id:
            return
        self.incident = incident
        if not incident.is_open:
            self.incident = None
            self.hint = None
            self._hint_text = ""
            if self.switch_checklist is not None:
                self.switch_checklist(None)
            self.post_to_screen(IncidentClosed(incident.id, incident.resolution or ""))
            self.app.notify(f"{incident.id} is closed: {incident.resolution}", timeout=5)
            return
        self.post_to_screen(IncidentChanged(incident, reread=False))

    def _check_deployments(self, incident: Incident) -> None:
        self._hint_checked = time.monotonic()
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

        hint = deployment_hint(self.runbook, incident.procedure, self.settings.clock())
        with contextlib.suppress(RuntimeError):  # the app quit meanwhile
            self.app.call_from_thread(self._show_hint, incident.id, hint)

    def _show_hint(self, incident_id: str, hint: DeploymentHint | None) -> None:
        if self.incident is None or self.incident.id != incident_id:
            return
        before = self.hint.record if self.hint is not None else None
        self.hint = hint
        if hint is not None and hint.record != before:  # a new deploy or rollback: say so once
            title = "Rolled back" if hint.rolled_back else "Recent deployment?"
            severity: Literal["information", "warning"] = (
                "information" if hint.rolled_back else "warning"
            )
            now = self.settings.clock()
            self.app.notify(hint.text_at(now), title=title, severity=severity, timeout=15)
        self._post_hint()

    def poll_open(self) -> None:
        """With no incident shown, one opened meanwhile for this runbook and environment
        (by the CLI, another console or an alert) becomes this console's, as at start:
        looked for every `OPEN_POLL_S` on the writer thread, only when a file came."""
        if self.incident is not None or time.monotonic() - self._open_polled < OPEN_POLL_S:
            return
        self._open_polled = time.monotonic()
        self.writer.find_open(
            self.runbook,
            self.environment,
            then=lambda incident: self.app.post_message(IncidentLoaded(incident, "adopt")),
            changed_only=True,
        )

    def tick_hint(self) -> None:
        """Show the hint's age as of now (the app's clock tick calls this), once the
        history was read: a message only when the text changed, so once a minute. The
        history is read again every `HINT_RECHECK_S`: a deploy or rollback, from this
        console or any other, shows within that."""
        if self.incident is None:
            return
        if time.monotonic() - self._hint_checked >= HINT_RECHECK_S:
            self._check_deployments(self.incident)
        if self._hint_text:
            self._post_hint()

    def _post_hint(self) -> None:
        if self.incident is None:
            return
        hint = self.hint
        text = (
            hint.strip_text(self.settings.clock())
            if hint is not None
            else "No deployment in the last hour"
        )
        if text == self._hint_text:
            return
        self._hint_text = text
        offers = hint is not None and hint.offers_rollback  # the rollback key applies
        self.post_to_screen(DeploymentHintFound(self.incident.id, text, recent=offers))

    # Explicit actions -------------------------------------------------------------

    def _update(
        self,
        change: Callable[[Incident], object],
        done: str,
        title: str = "",
        ticked: Callable[[], tuple[str, int] | None] = lambda: None,
    ) -> None:
        """Apply `change` to the stored incident on the writer thread; the outcome comes back
        as IncidentStored (then `stored`), or IncidentStoreFailed with a warning: refused,
        or busy (another console or the CLI holds the incident's lock).

        `ticked` (called after `change`) names the step the change ticked done, for the
        checklist (`_act`)."""
        if self.incident is None:
            return
        self.writer.update(
            self.incident.id,
            change,
            then=lambda incident: self.app.post_message(
                IncidentStored(incident, done, title, ticked())
            ),
            failed=self._refused,
        )

    def _act(self, action: Callable[[Incident], list[Event]], done: str, title: str) -> None:
        """`_update` with an incident action (runbook.incident.actions): the step its
        events ticked done is ticked in the checklist too."""
        from runbook.incident.actions import ticked_step

        events: list[Event] = []
        self._update(
            lambda incident: events.extend(action(incident)),
            done,
            title,
            ticked=lambda: ticked_step(events),
        )

    def stored(
        self, incident: Incident, done: str, title: str, ticked: tuple[str, int] | None = None
    ) -> None:
        """An action was saved (IncidentStored, on the UI thread)."""
        if self.incident is None or self.incident.id != incident.id:
            return
        self.incident = incident
        if done:
            self.app.notify(done, title=title, timeout=6)
        self.post_to_screen(IncidentChanged(incident))
        if ticked is not None:
            self.tick_checklist(*ticked)

    def tick_checklist(self, procedure_key: str, step_index: int) -> None:
        """Show a step an incident action ticked as done in the checklist (the session
        saves it). Its mark is in the timeline already, so `step_marked` skips it."""
        if self.set_status is None:
            return
        self._ticking = (procedure_key, step_index)
        try:
            self.set_status(procedure_key, step_index, "done")
        finally:
            self._ticking = None

    def acknowledge(self, because: str = "") -> None:
        """Record the acknowledgement now, by this console's user (`a`, the palette, or
        ticking the procedure's acknowledge step: `because` says which step)."""
        if self.incident is None:
            return
        from runbook.incident.actions import acknowledge

        at = self.settings.clock()
        why = f" ({because})" if because else ""
        procedure = self.runbook.procedure(self.incident.procedure)
        self._act(
            lambda i: acknowledge(i, procedure, by=self.user, at=at),
            f"{self.incident.id} acknowledged at {at:%H:%M} by {self.user}{why}",
            title="Incident acknowledged",
        )

    def escalate(self, to: str, because: str = "") -> None:
        if self.incident is None:
            return
        from runbook.incident.actions import escalate

        at = self.settings.clock()
        why = f" ({because})" if because else ""
        procedure = self.runbook.procedure(self.incident.procedure)
        self._act(
            lambda i: escalate(i, procedure, to=to or None, by=self.user, at=at),
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
        self._update(lambda i: i.check_deadlines(self.settings.clock()), "")

    # Recording ----------------------------------------------------------------------

    def record(self, event: Event | None) -> None:
        """Append to the open incident's timeline (thread-safe); nothing without one."""
        incident = self.incident
        if event is not None and incident is not None and incident.is_open:
            self.writer.append(incident.id, event)

    def step_marked(
        self, procedure_key: str, step_index: int, status: str, reason: str | None
    ) -> None:
        if self.incident is None or status not in ("done", "skipped", "failed", "cancelled"):
            return
        if status == "done" and self._ticking == (procedure_key, step_index):
            return  # an incident action ticked it: the timeline has it, the action is done
        from runbook.incident.events import step_event

        procedure = self.runbook.procedure(procedure_key)
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
            at=self.settings.clock(),
        )
        incident = self.incident
        action = step.incident_action if step is not None else None
        if status != "done" or procedure_key != incident.procedure or action is None:
            self.record(event)
            return
        # The procedure's own deadline steps are the incident's actions: ticking one does it.
        # The writer keeps the order, so the timeline reads "step done", then the action.
        self.record(event)
        if action == "acknowledge" and incident.acknowledged_at is None:
            self.acknowledge(because=f"step {step_index} ticked")
        elif (
            action == "escalate" and incident.escalated_at is None and incident.mitigated_at is None
        ):
            self.ask_escalation(step_index)

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
            masker=masker_for(self.settings.config),
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

    def gauges_shown(self, values: Sequence[GaugeReading]) -> None:
        """The gauges as the operator sees them now, kept for the readings at open,
        mitigation and close."""
        self.readings = tuple(values)

    def container_restarted(self, container: str, restarts: int | None) -> None:
        if self.incident is not None:
            from runbook.incident.events import restart_event

            self.record(restart_event(container, restarts))
