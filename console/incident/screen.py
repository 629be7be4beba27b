"""The incident screen: DRILL banner, countdowns and timeline, with the incident's actions.

Push it with an incident and its store (the palette's "incident: Start P1" does):
`a` acknowledge, `e` escalate, `n` note, `m` mitigated, `c` close with a resolution,
`r` write the Markdown report, `escape` back to the checklist. Every action is a
timestamped event, saved to the incident file at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer

from console.incident.deadlines import label_size
from console.incident.panel import IncidentPanel
from console.messages import DeadlineDue
from console.screens.prompt import TextPromptScreen
from runbook.incident.model import Incident, IncidentError
from runbook.incident.report import build_report
from runbook.incident.store import IncidentStore
from runbook.incident.timeline import now_utc
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
    ) -> None:
        super().__init__()
        self.incident = incident
        self.store = store
        self.reports_dir = reports_dir or store.directory.parent / "reports"
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield IncidentPanel(
            self.incident,
            self.store,
            clock=self.clock,
            labels=label_size(self.app.size.width),
            id="incident-panel",
        )
        yield Footer()

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

    @work(
        thread=True,
        group="incident-action",
        exit_on_error=False,
        description="Saving an incident action",
    )
    def _apply(self, change: Callable[[Incident], object], done: str) -> None:
        """Save `change` under the incident's lock, off the UI thread: another console or
        the CLI may hold it (IncidentBusy past the store's timeout)."""
        try:
            incident = self.store.update(self.incident.id, change)
        except (IncidentError, OSError) as error:
            self.app.call_from_thread(self.notify, str(error), severity="warning")
            return
        self.post_message(self.ActionSaved(incident, done))

    @on(ActionSaved)
    def _saved(self, message: ActionSaved) -> None:
        self.incident = message.incident
        if message.done:
            self.notify(message.done)
        self.query_one(IncidentPanel).reload_incident()

    def action_acknowledge(self) -> None:
        self._apply(lambda i: i.acknowledge(at=self.clock()), "Acknowledged")

    def action_mitigated(self) -> None:
        self._apply(lambda i: i.mitigate(at=self.clock()), "Mitigation recorded")

    def action_escalate(self) -> None:
        def escalate(to: str | None) -> None:
            if to is not None:
                self._apply(lambda i: i.escalate(to=to or None, at=self.clock()), "Escalated")

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
            if resolution:
                self._apply(lambda i: i.close(resolution, at=self.clock()), "Incident closed")

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
