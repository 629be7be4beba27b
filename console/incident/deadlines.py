"""Deadline countdowns: acknowledge and escalate, turning amber, then red, then due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Unpack

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

from console.messages import DeadlineDue
from runbook.incident.model import Deadline, Incident
from runbook.incident.timeline import now_utc

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions

STATES = ("ok", "amber", "red", "due", "met", "late", "moot", "missed")

LabelSize = Literal["full", "short", "tiny"]
"""How much of a countdown's label fits: "Acknowledge within 5 minutes: 04:12 left",
"Ack in 5 min: 04:12 left" or "Ack 04:12 left"."""
FULL_WIDTH = 160
"""From this width the countdowns show the runbook's own words (overdue ones need ~150)."""
SHORT_WIDTH = 120
"""From this width "Ack in 5 min"; below it "Ack", so the incident id fits at 80 columns."""


def label_size(width: int) -> LabelSize:
    """The countdown labels for a terminal `width` columns wide."""
    if width >= FULL_WIDTH:
        return "full"
    return "short" if width >= SHORT_WIDTH else "tiny"


class DeadlineCountdown(Static):
    """One deadline: its label and the time left; the state is a CSS class."""

    DEFAULT_CSS = """
    DeadlineCountdown { width: auto; padding: 0 1; }
    DeadlineCountdown.-amber { background: $warning; color: $background; }
    DeadlineCountdown.-red { background: $error; color: $text; text-style: bold; }
    DeadlineCountdown.-due { background: $error; color: $text; text-style: bold reverse; }
    DeadlineCountdown.-met { color: $success; }
    DeadlineCountdown.-late { color: $warning; }
    DeadlineCountdown.-moot { color: $text-muted; }
    DeadlineCountdown.-missed { color: $warning; }
    """

    state: reactive[str] = reactive("ok")
    """ok, amber, red, due, met, late, moot (resolved first: not needed) or missed."""

    def __init__(
        self, deadline: Deadline, labels: LabelSize = "full", **kwargs: Unpack[WidgetOptions]
    ) -> None:
        super().__init__(markup=False, **kwargs)
        self.deadline = deadline
        self.labels: LabelSize = labels
        """Shorter labels ("Escalate in 15 min", "Escalate") where the full one does not fit."""
        self._text = ""

    @property
    def label(self) -> str:
        if self.labels == "full":
            return self.deadline.label
        name = "Ack" if self.deadline.name == "acknowledge" else self.deadline.name.capitalize()
        if self.labels == "tiny":
            return name
        return f"{name} in {round(self.deadline.window_s / 60)} min"

    def text(self, now: datetime) -> str:
        """The label and the time left: "Ack in 5 min: 04:12 left", "Ack 04:12 left"."""
        if self.labels != "tiny":
            return f"{self.label}: {self.deadline.countdown(now)}"
        state = self.deadline.state(now)
        if state == "met":
            return f"{self.label} done"
        if state == "moot":
            return f"{self.label} not needed"
        if state == "missed":
            return f"{self.label} missed"
        return f"{self.label} {self.deadline.countdown(now)}"

    def show(self, now: datetime) -> None:
        """Redraw for `now`; repaints only when the text changes."""
        self.state = self.deadline.state(now)
        text = self.text(now)
        if text != self._text:
            self._text = text
            self.update(text)

    def watch_state(self, state: str) -> None:
        for name in STATES:
            self.set_class(state == name, f"-{name}")


class DeadlineBar(Horizontal):
    """The incident's id, severity and a countdown per deadline, ticking once a second."""

    DEFAULT_CSS = """
    DeadlineBar { height: 1; width: 1fr; background: $panel; }
    DeadlineBar > .incident-title { width: auto; padding: 0 1; text-style: bold; }
    """

    def __init__(
        self,
        incident: Incident,
        clock: Callable[[], datetime] = now_utc,
        tick_s: float = 1.0,
        **kwargs: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**kwargs)
        self.incident = incident
        self.clock = clock
        self.tick_s = tick_s
        self.labels: LabelSize = "full"
        """Shorter labels for narrower terminals (set before mounting, then `set_labels`)."""
        self._announced: set[tuple[str, str]] = set()

    def compose(self) -> ComposeResult:
        yield Static(self._title(), classes="incident-title", markup=False)
        for deadline in self.incident.deadlines(self.clock()):
            yield DeadlineCountdown(deadline, self.labels, classes=f"deadline-{deadline.name}")

    def _title(self) -> str:
        """Severity, status and the id at every width: `runbook-console report ID` needs it.
        The tiniest labels leave out the status while it is just "open"."""
        drill = "DRILL " if self.incident.drill else ""
        status = self.incident.status
        shown = "" if self.labels == "tiny" and status == "open" else f" {status}"
        return f"{drill}{self.incident.severity}{shown} · {self.incident.id}"

    def on_mount(self) -> None:
        self.tick()
        self.set_interval(self.tick_s, self.tick)

    def tick(self) -> None:
        """Redraw every countdown; post DeadlineDue once for each newly passed deadline."""
        now = self.clock()
        for countdown in self.query(DeadlineCountdown):
            countdown.show(now)
            key = (countdown.deadline.name, self.incident.severity)
            if countdown.state == "due" and self.incident.is_open and key not in self._announced:
                self._announced.add(key)
                self.post_message(DeadlineDue(countdown.deadline, self.incident.id))

    def set_labels(self, labels: LabelSize) -> None:
        """Switch between full, short and tiny labels (the terminal was resized)."""
        if labels == self.labels:
            return
        self.labels = labels
        self.query_one(".incident-title", Static).update(self._title())
        for countdown in self.query(DeadlineCountdown):
            countdown.labels = labels
        self.tick()

    async def set_incident(self, incident: Incident) -> None:
        """Follow a changed incident (acknowledged, severity changed, closed)."""
        changed = (incident.severity, incident.severity_since) != (
            self.incident.severity,
            self.incident.severity_since,
        )
        self.incident = incident
        self.query_one(".incident-title", Static).update(self._title())
        fresh = {d.name: d for d in incident.deadlines(self.clock())}
        if changed:
            await self.query(DeadlineCountdown).remove()
            await self.mount_all(
                DeadlineCountdown(d, self.labels, classes=f"deadline-{d.name}")
                for d in fresh.values()
            )
        else:
            for countdown in self.query(DeadlineCountdown):
                countdown.deadline = fresh.get(countdown.deadline.name, countdown.deadline)
        self.tick()
