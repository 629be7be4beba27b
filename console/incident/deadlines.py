"""Deadline countdowns: acknowledge and escalate, turning amber, then red, then due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from runbook.incident import Deadline, Incident
from runbook.timeline import now_utc

STATES = ("ok", "amber", "red", "due", "met", "late")


class DeadlineCountdown(Static):
    """One deadline: its label and the time left; the state is a CSS class."""

    DEFAULT_CSS = """
    DeadlineCountdown { width: auto; padding: 0 1; }
    DeadlineCountdown.-amber { background: $warning; color: $background; }
    DeadlineCountdown.-red { background: $error; color: $text; text-style: bold; }
    DeadlineCountdown.-due { background: $error; color: $text; text-style: bold reverse; }
    DeadlineCountdown.-met { color: $success; }
    DeadlineCountdown.-late { color: $warning; }
    """

    state: reactive[str] = reactive("ok")
    """ok, amber, red, due, met or late."""

    def __init__(self, deadline: Deadline, short: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.deadline = deadline
        self.short = short
        """A short label ("Escalate in 15 min") where the full one does not fit."""
        self._text = ""

    @property
    def label(self) -> str:
        if not self.short:
            return self.deadline.label
        minutes = round(self.deadline.window_s / 60)
        name = "Ack" if self.deadline.name == "acknowledge" else self.deadline.name.capitalize()
        return f"{name} in {minutes} min"

    def show(self, now: datetime) -> None:
        """Redraw for `now`; repaints only when the text changes."""
        self.state = self.deadline.state(now)
        text = f"{self.label}: {self.deadline.countdown(now)}"
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

    @dataclass
    class DeadlineDue(Message):
        """A deadline passed while the incident is open; the app notifies the operator."""

        deadline: Deadline
        incident_id: str

    def __init__(
        self,
        incident: Incident,
        clock: Callable[[], datetime] = now_utc,
        tick_s: float = 1.0,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.incident = incident
        self.clock = clock
        self.tick_s = tick_s
        self.compact = False
        """Short labels and no incident id, for narrow terminals (set before mounting)."""
        self._announced: set[tuple[str, str]] = set()

    def compose(self) -> ComposeResult:
        yield Static(self._title(), classes="incident-title")
        for deadline in self.incident.deadlines(self.clock()):
            yield DeadlineCountdown(deadline, self.compact, classes=f"deadline-{deadline.name}")

    def _title(self) -> str:
        drill = "DRILL " if self.incident.drill else ""
        title = f"{drill}{self.incident.severity} {self.incident.status}"
        return title if self.compact else f"{title} · {self.incident.id}"

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
                self.post_message(self.DeadlineDue(countdown.deadline, self.incident.id))

    def set_compact(self, compact: bool) -> None:
        """Switch between short and full labels (the terminal was resized)."""
        if compact == self.compact:
            return
        self.compact = compact
        self.query_one(".incident-title", Static).update(self._title())
        for countdown in self.query(DeadlineCountdown):
            countdown.short = compact
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
                DeadlineCountdown(d, self.compact, classes=f"deadline-{d.name}")
                for d in fresh.values()
            )
        else:
            for countdown in self.query(DeadlineCountdown):
                countdown.deadline = fresh.get(countdown.deadline.name, countdown.deadline)
        self.tick()
