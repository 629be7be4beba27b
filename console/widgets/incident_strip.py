"""The open incident above the checklist: its countdowns, a drill's banner and a hint line.

Empty (and hidden) until the main screen shows an incident (IncidentShown, posted by
the incident bridge). The widgets of console.incident are imported only then, so they
stay out of the first frame. What the panel reads and its due deadlines bubble up to
the main screen (IncidentRead, DeadlineDue).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from textual.containers import Vertical
from textual.widgets import Static

if TYPE_CHECKING:
    from runbook.incident.model import Incident
    from runbook.incident.store import IncidentStore

KEYS = "a ack · e escalate · i timeline"
KEYS_ACKNOWLEDGED = "e escalate · i timeline"
"""Once acknowledged, `a` has nothing left to do: the strip stops offering it."""


class IncidentStrip(Vertical):
    """Countdowns of the console's open incident, ticking once a second."""

    _hint_text = ""
    _acknowledged = False

    DEFAULT_CSS = """
    IncidentStrip { height: auto; display: none; }
    IncidentStrip.-shown { display: block; }
    IncidentStrip IncidentPanel { height: auto; }
    IncidentStrip TimelinePane { display: none; }
    IncidentStrip #incident-hint {
        height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    IncidentStrip #incident-hint.-recent { color: $warning; text-style: bold; }
    """

    def show(self, incident: Incident, store: IncidentStore, clock: Callable[[], datetime]) -> None:
        from console.incident.deadlines import label_size
        from console.incident.panel import IncidentPanel

        self.remove_children()
        panel = IncidentPanel(incident, store, clock=clock, labels=label_size(self.app.size.width))
        self._hint_text = ""
        self._acknowledged = bool(incident.acknowledged_at)
        self.mount(panel, Static(self._keys(), id="incident-hint", markup=False))
        self.add_class("-shown")

    def _keys(self) -> str:
        return KEYS_ACKNOWLEDGED if self._acknowledged else KEYS

    def follow(self, incident: Incident) -> None:
        """The incident as last read: the keys offered follow its acknowledgement."""
        acknowledged = bool(incident.acknowledged_at)
        if acknowledged != self._acknowledged:
            self._acknowledged = acknowledged
            self._show_hint()

    def hide(self) -> None:
        self.remove_children()
        self.remove_class("-shown")

    def reload(self) -> None:
        """Read the incident file again now (after an action)."""
        panels = self.query("IncidentPanel")
        if not panels:
            return  # no incident shown: console.incident stays unimported
        from console.incident.panel import IncidentPanel

        for panel in panels.results(IncidentPanel):
            panel.reload_incident()

    def set_hint(self, text: str, recent: bool) -> None:
        self._hint_text = text
        for hint in self.query("#incident-hint").results(Static):
            hint.set_class(recent, "-recent")
        self._show_hint()

    def _show_hint(self) -> None:
        text = f"{self._hint_text} · {self._keys()}" if self._hint_text else self._keys()
        for hint in self.query("#incident-hint").results(Static):
            hint.update(text)

    def set_width(self, width: int) -> None:
        """Countdown labels as long as the width allows; the incident id shows at any width."""
        bars = self.query("DeadlineBar")
        if not bars:
            return  # no incident shown: console.incident stays unimported
        from console.incident.deadlines import DeadlineBar, label_size

        for bar in bars.results(DeadlineBar):
            bar.set_labels(label_size(width))
