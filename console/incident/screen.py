"""The incident screen: DRILL banner, countdowns and timeline, with the incident's actions.

Push it with an incident and its store (the palette's "incident: Start P1" does):
`a` acknowledge, `e` escalate, `n` note, `m` mitigated, `c` close with a resolution,
`r` write the Markdown report, `escape` back to the checklist. Every action is a
timestamped event, saved to the incident file at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen

from console.incident.deadlines import label_size
from console.incident.panel import IncidentPanel
from console.messages import DeadlineDue, IncidentLoaded
from console.screens.prompt import TextPromptScreen
from console.widgets.key_footer import KeyFooter
from runbook.incident import actions
from runbook.incident.actions import acknowledge, ticked_step
from runbook.incident.events import GaugeReading
from runbook.incident.model import Incident, IncidentError
from runbook.incident.report import build_report
from runbook.incident.store import IncidentStore
from runbook.incident.timeline import Event, now_utc
from runbook.model import Procedure
from runbook.storage.atomic_file import write_atomic


class IncidentScreen(Screen[None]):
    """One incident, full screen."""

    BINDING_GROUP_TITLE = "Incident"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "acknowledge", "Acknowledge", id="incident-ack", tooltip="Acknowledge now"),
        Binding("e", "escalate", "Escalate", id="incident-escalate", tooltip="Record escalation"),
        Binding("n", "note", "Note", id="incident-note", tooltip="Add a note to the timeline"),
        Binding(
            "c", "close_incident", "Close", id="incident-close", tooltip="Close with resolution"
        ),
        Binding("r", "report", "Report", id="incident-report", tooltip="Write the Markdown report"),
        Binding(
            "m",
            "mitigated",
            "Mitigated",
            show=False,
            id="incident-mitigated",
            tooltip="Record that the impact is mitigated",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            show=False,
            id="incident-filter",
            tooltip="Filter the timeline (kind:step- actor:NAME text)",
        ),
        Binding("escape", "app.pop_screen", "Back", id="incident-back", tooltip="Back"),
    ]

    def __init__(
        self,
        incident: Incident,
        store: IncidentStore,
        *,
        reports_dir: Path | None = None,
        clock: Callable[[], datetime] = now_utc,
        procedure: Procedure | None = None,
        by: str | None = None,
        readings: Callable[[], Sequence[GaugeReading]] | None = None,
        ticked: Callable[[str, int], object] | None = None,
    ) -> None:
        """
        Args:
            procedure: the runbook's procedure of the incident's checklist: acknowledging
                and escalating tick its step for that (runbook.incident.actions).
            by: who acts (None: the store's default user).
            readings: the gauges as the operator sees them, recorded at mitigation and close.
            ticked: shows a step an action ticked done in the checklist.
        """
        super().__init__()
        self.incident = incident
        self.store = store
        self.reports_dir = reports_dir or store.directory.parent / "reports"
        self.clock = clock
        self.procedure = procedure
        self.by = by
        self.readings = readings
        self.ticked = ticked

    def compose(self) -> ComposeResult:
        yield IncidentPanel(
            self.incident,
            self.store,
            clock=self.clock,
            labels=label_size(self.app.size.width),
            id="incident-panel",
        )
        yield KeyFooter()

    def on_mount(self) -> None:
        # Letter keys are the actions; the filter input takes them only after `/`.
        self.query_one("#timeline-table").focus()

    def action_filter(self) -> None:
        self.query_one("#timeline-filter").focus()

    @dataclass
    class ActionSaved(Message, bubble=False):
        """An action was saved in the incident's file (posted by the worker)."""

        incident: Incident
        done: str
        ticked: tuple[str, int] | None = None

    def _apply(
        self,
        change: Callable[[Incident], object],
        done: str,
        ticked: Callable[[], tuple[str, int] | None] = lambda: None,
    ) -> None:
        """Save `change` under the incident's lock, off the UI thread: another console or
        the CLI may hold it (IncidentBusy past the store's timeout).

        The app runs the save, not this screen: Escape right after the resolution's Enter
        closes the screen, and a screen's workers are cancelled with it, before they start.
        """
        app = self.app
        app.run_worker(
            partial(self._save, app, change, done, ticked),
            thread=True,
            group="incident-action",
            exit_on_error=False,
            description="Saving an incident action",
        )

    def _save(
        self,
        app: App[object],
        change: Callable[[Incident], object],
        done: str,
        ticked: Callable[[], tuple[str, int] | None],
    ) -> None:
        try:
            incident = self.store.update(self.incident.id, change)
        except (IncidentError, OSError) as error:
            app.call_from_thread(app.notify, str(error), severity="warning")
            return
        # The checklist's strip follows at once, even if this screen was closed meanwhile
        # (then it is detached, and its own message has nowhere to go).
        app.post_message(IncidentLoaded(incident, "refresh"))
        step = ticked()
        if self.is_attached:
            self.post_message(self.ActionSaved(incident, done, step))
        elif step is not None and self.ticked is not None:
            app.call_from_thread(self.ticked, *step)  # the checklist ticks it all the same

    def _act(self, action: Callable[[Incident], list[Event]], done: str) -> None:
        """`_apply` an incident action (runbook.incident.actions): the step its events
        ticked done is shown in the checklist too."""
        events: list[Event] = []
        self._apply(lambda i: events.extend(action(i)), done, ticked=lambda: ticked_step(events))

    @on(ActionSaved)
    def _saved(self, message: ActionSaved) -> None:
        self.incident = message.incident
        if message.done:
            self.notify(message.done)
        if message.ticked is not None and self.ticked is not None:
            self.ticked(*message.ticked)
        self.query_one(IncidentPanel).reload_incident()

    def _gauges(self) -> Sequence[GaugeReading]:
        return self.readings() if self.readings is not None else ()

    def action_acknowledge(self) -> None:
        self._act(
            lambda i: acknowledge(i, self.procedure, by=self.by, at=self.clock()), "Acknowledged"
        )

    def action_mitigated(self) -> None:
        readings = tuple(self._gauges())  # as seen when `m` was pressed

        def mitigate(incident: Incident) -> None:
            at = self.clock()
            incident.mitigate(by=self.by, at=at)
            if readings:
                incident.record_readings("mitigation", readings, at=at)

        self._apply(mitigate, "Mitigation recorded")

    def action_escalate(self) -> None:
        def escalate(to: str | None) -> None:
            if to is not None:
                self._act(
                    lambda i: actions.escalate(
                        i, self.procedure, to=to or None, by=self.by, at=self.clock()
                    ),
                    "Escalated",
                )

        self.app.push_screen(
            TextPromptScreen("Escalate to", "name or team", required=False), escalate
        )

    def action_note(self) -> None:
        def note(text: str | None) -> None:
            if text:
                self._apply(lambda i: i.note(text, at=self.clock()), "Note added")

        self.app.push_screen(TextPromptScreen("Note for the timeline", "what you saw or did"), note)

    def action_close_incident(self) -> None:
        def close(resolution: str | None) -> None:
            if not resolution:
                return
            readings = tuple(self._gauges())

            def close_with_readings(incident: Incident) -> None:
                at = self.clock()
                if readings and incident.is_open:
                    incident.record_readings("close", readings, at=at)
                incident.close(resolution, by=self.by, at=at)

            self._apply(close_with_readings, "Incident closed")

        self.app.push_screen(TextPromptScreen("Resolution", "what fixed it"), close)

    @work(thread=True, group="incident-report", exit_on_error=False, description="Incident report")
    def action_report(self) -> None:
        path = self.reports_dir / f"{self.incident.id}.md"
        settings = getattr(self.app, "settings", None)
        text = build_report(
            self.store.load(self.incident.id), config=getattr(settings, "config", None)
        )
        write_atomic(path, text.encode(), 0o644)
        self.app.call_from_thread(self.notify, f"Report written to {path}")

    def on_deadline_bar_deadline_due(self, message: DeadlineDue) -> None:
        self.notify(
            f"{message.deadline.label}: the deadline has passed", severity="error", timeout=30
        )
        self._apply(lambda i: i.check_deadlines(self.clock()), "")
