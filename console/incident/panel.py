"""Incident panel: DRILL banner, deadline bar and timeline, following the incident's file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Unpack

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.worker import Worker, WorkerState

from console.incident.banner import DrillBanner
from console.incident.deadlines import DeadlineBar, LabelSize
from console.incident.timeline import TimelinePane
from console.messages import IncidentRead
from runbook.incident.model import Incident, IncidentError
from runbook.incident.store import IncidentStore
from runbook.incident.timeline import now_utc

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions


class IncidentPanel(Vertical):
    """Mount with an incident and its store; it re-reads the file every `refresh_s`.

    Other consoles and the CLI (`incident ack`, `note`) write to the same file, so
    whatever they record shows up here too.
    """

    DEFAULT_CSS = """
    IncidentPanel { height: 1fr; }
    """

    @dataclass
    class IncidentLoaded(Message, bubble=False):
        incident: Incident

    def __init__(
        self,
        incident: Incident,
        store: IncidentStore,
        *,
        drill_text: str = "",
        clock: Callable[[], datetime] = now_utc,
        refresh_s: float = 1.0,
        labels: LabelSize = "full",
        **kwargs: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**kwargs)
        self.incident = incident
        self.store = store
        self.drill_text = drill_text or (
            f"{incident.title} ({incident.drill})" if incident.drill else ""
        )
        self.clock = clock
        self.refresh_s = refresh_s
        self.labels: LabelSize = labels
        """Shorter countdown labels, for narrower terminals."""

    def compose(self) -> ComposeResult:
        banner = DrillBanner(id="drill-banner", markup=False)
        banner.text = self.drill_text
        yield banner
        bar = DeadlineBar(self.incident, clock=self.clock, id="deadline-bar")
        bar.labels = self.labels
        yield bar
        yield TimelinePane(self.incident.events, id="timeline-pane")

    def on_mount(self) -> None:
        self.set_timer(self.refresh_s, self.reload_incident)

    @work(
        thread=True,
        exclusive=True,
        group="incident",
        exit_on_error=False,
        description="Incident file",
    )
    def reload_incident(self) -> None:
        try:
            incident = self.store.load(self.incident.id)
        except IncidentError:
            return
        self.post_message(self.IncidentLoaded(incident))

    @on(Worker.StateChanged)
    def _rearm(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "incident" and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
        ):
            self.set_timer(self.refresh_s, self.reload_incident)

    @on(IncidentLoaded)
    async def _loaded(self, message: IncidentLoaded) -> None:
        self.incident = message.incident
        await self.query_one(DeadlineBar).set_incident(message.incident)
        self.query_one(TimelinePane).set_events(message.incident.events)
        self.post_message(IncidentRead(message.incident))
