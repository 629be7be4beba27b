"""Incident mode: severity, deadlines as countdowns, explicit timestamped actions, a timeline.

```python
store = IncidentStore()                                    # <state dir>/incidents/
incident = open_incident(runbook, "P1", title="checkout down", clock=clock)
store.save(incident)
states = {d.name: d.state(clock()) for d in incident.deadlines(clock())}  # acknowledge, escalate
store.update(incident.id, lambda i: i.acknowledge(by="alice", at=clock()))
```

Deadlines come from the runbook's severities (P1: acknowledge within 5 minutes,
escalate if not resolved within 15). Each is `ok` while more than half its
window is left, `amber` below half, `red` in the last fifth, `due` once passed,
`met` when the action happened in time and `late` when it happened after the
deadline. A deadline the incident's resolution ended before the action happened
is `moot` (resolved in time: nobody needed to escalate) or `missed` (resolved
after the deadline passed): neither is an action done, and nothing says it was.
The clock is injectable everywhere, so tests never sleep.

Incidents are JSON files written atomically; `IncidentStore.update` holds an
exclusive lock around read-modify-write so the TUI and the CLI can both record.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from runbook.incident.events import GaugeReading, readings_event
from runbook.incident.timeline import (
    CONSOLE_ACTOR,
    Event,
    EventKind,
    iso,
    make_event,
    now_utc,
    operator,
    parse_time,
)
from runbook.model import Runbook, Severity

Clock = Callable[[], datetime]
DeadlineName = Literal["acknowledge", "escalate"]
DeadlineState = Literal["ok", "amber", "red", "due", "met", "late", "moot", "missed"]
IncidentStatus = Literal["open", "mitigated", "closed"]

AMBER_SHARE = 0.5
"""A deadline turns amber when less than this share of its window is left."""
RED_SHARE = 0.2
"""... and red when less than this share is left."""
RECENT_DEPLOY_S = 3600.0
"""A deploy this recent makes the console suggest the rollback procedure."""


class IncidentError(ValueError):
    """A request that makes no sense for this incident (unknown severity, already closed)."""


@dataclass(frozen=True)
class Deadline:
    """A countdown: an action due by a moment, and when (if ever) it happened."""

    name: DeadlineName
    label: str
    """What the runbook asks: "Acknowledge alert within 5 minutes"."""
    starts_at: datetime
    due_at: datetime
    done_at: datetime | None = None
    """When the action itself happened (acknowledged, escalated)."""
    resolved_at: datetime | None = None
    """When the incident was mitigated or closed: the countdown stops, the action is not done."""

    @property
    def window_s(self) -> float:
        return max((self.due_at - self.starts_at).total_seconds(), 0.0)

    @property
    def ended_at(self) -> datetime | None:
        """When the countdown stopped: the action, else the resolution (None: still counting)."""
        return self.done_at or self.resolved_at

    @property
    def done(self) -> bool:
        """The action happened (in time or late); a resolution alone is not the action."""
        return self.done_at is not None

    def remaining_s(self, now: datetime) -> float:
        """Seconds left (negative once overdue); measured when the countdown stopped."""
        return (self.due_at - (self.ended_at or now)).total_seconds()

    def state(self, now: datetime) -> DeadlineState:
        remaining = self.remaining_s(now)
        if self.done_at is not None:
            return "met" if remaining >= 0 else "late"
        if self.resolved_at is not None:
            return "moot" if remaining >= 0 else "missed"
        if remaining <= 0:
            return "due"
        window = self.window_s or 1.0
        if remaining < window * RED_SHARE:
            return "red"
        if remaining < window * AMBER_SHARE:
            return "amber"
        return "ok"

    def countdown(self, now: datetime) -> str:
        """`04:12` left, `+01:03` overdue, `done 02:10 early`, `late +00:40`, or, when the
        resolution stopped it first, `not needed: resolved 02:10 early` / `missed +00:40`."""
        remaining = self.remaining_s(now)
        text = _mmss(abs(remaining))
        state = self.state(now)
        if state == "met":
            return f"done {text} early"
        if state == "late":
            return f"late +{text}"
        if state == "moot":
            return f"not needed: resolved {text} early"
        if state == "missed":
            return f"missed: resolved +{text} late"
        return f"+{text} overdue" if remaining <= 0 else f"{text} left"


def _mmss(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


@dataclass
class Incident:
    """An incident (or a drill run as one): severity, deadlines, timeline, outcome."""

    id: str
    title: str
    severity: str
    severity_title: str
    acknowledge_s: float | None
    escalate_s: float | None
    procedure: str
    """Key of the severity's procedure, opened as the checklist."""
    opened_at: str
    opened_by: str
    runbook_path: str | None = None
    runbook_sha256: str | None = None
    environment: str | None = None
    severity_since: str | None = None
    """When the current severity was set; its deadlines count from here."""
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None
    escalated_at: str | None = None
    escalated_to: str | None = None
    mitigated_at: str | None = None
    closed_at: str | None = None
    resolution: str | None = None
    drill: str | None = None
    """The drill id when this incident is a drill; reports say DRILL."""
    alert: dict[str, Any] | None = None
    """Alert name and labels when the incident came from an alert."""
    gauges_open: list[dict[str, Any]] = field(default_factory=list)
    gauges_close: list[dict[str, Any]] = field(default_factory=list)
    """Readings of incidents recorded before `readings` events existed (read, never written)."""
    events: list[Event] = field(default_factory=list)

    # -- derived ---------------------------------------------------------------------------

    @property
    def status(self) -> IncidentStatus:
        if self.closed_at:
            return "closed"
        return "mitigated" if self.mitigated_at else "open"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def deadlines(self, now: datetime | None = None) -> list[Deadline]:
        """The acknowledge and escalate countdowns of the current severity (those it has)."""
        start = parse_time(self.severity_since or self.opened_at)
        resolved = self.resolved_at
        found: list[Deadline] = []
        if self.acknowledge_s is not None:
            acknowledged = _maybe(self.acknowledged_at)
            found.append(
                Deadline(
                    "acknowledge",
                    f"Acknowledge within {_human(self.acknowledge_s)}",
                    start,
                    start + timedelta(seconds=self.acknowledge_s),
                    acknowledged,
                    _stopped_first(resolved, acknowledged),
                )
            )
        if self.escalate_s is not None:
            escalated = _maybe(self.escalated_at)
            found.append(
                Deadline(
                    "escalate",
                    f"Escalate if not resolved within {_human(self.escalate_s)}",
                    start,
                    start + timedelta(seconds=self.escalate_s),
                    escalated,
                    _stopped_first(resolved, escalated),
                )
            )
        return found

    @property
    def resolved_at(self) -> datetime | None:
        """When the impact ended: marked mitigated, else closed (None while neither)."""
        return _maybe(self.mitigated_at) or _maybe(self.closed_at)

    def durations(self) -> dict[str, float | None]:
        """Seconds from opening to acknowledge, mitigate and resolve (None if not yet)."""
        opened = parse_time(self.opened_at)

        def since_open(value: str | None) -> float | None:
            return (parse_time(value) - opened).total_seconds() if value else None

        return {
            "acknowledge": since_open(self.acknowledged_at),
            "mitigate": since_open(self.mitigated_at),
            "resolve": since_open(self.closed_at),
        }

    # -- actions: each one an explicit, timestamped event -------------------------------------

    def record(self, event: Event) -> Event:
        self.events.append(event)
        return event

    def add(
        self,
        kind: EventKind,
        text: str,
        *,
        actor: str | None = None,
        at: datetime | None = None,
        **data: Any,
    ) -> Event:
        return self.record(make_event(kind, text, actor=actor, at=at, **data))

    def acknowledge(self, by: str | None = None, at: datetime | None = None) -> Event:
        self._require_open()
        if self.acknowledged_at:
            raise IncidentError(f"{self.id} was already acknowledged at {self.acknowledged_at}")
        event = self.add("acknowledged", "Incident acknowledged", actor=by, at=at)
        self.acknowledged_at, self.acknowledged_by = event.time, event.actor
        return event

    def escalate(
        self, to: str | None = None, by: str | None = None, at: datetime | None = None
    ) -> Event:
        self._require_open()
        target = f" to {to}" if to else ""
        event = self.add("escalated", f"Escalated{target}", actor=by, at=at, to=to)
        if not self.escalated_at:
            self.escalated_at, self.escalated_to = event.time, to
        return event

    def change_severity(
        self, severity: Severity, by: str | None = None, at: datetime | None = None
    ) -> Event:
        """Move to another severity; its deadlines count from now."""
        self._require_open()
        if severity.level == self.severity:
            raise IncidentError(f"{self.id} is already {severity.level}")
        event = self.add(
            "severity-changed",
            f"Severity {self.severity} -> {severity.level} ({severity.title})",
            actor=by,
            at=at,
            previous=self.severity,
            severity=severity.level,
        )
        self.severity, self.severity_title = severity.level, severity.title
        self.acknowledge_s, self.escalate_s = severity.acknowledge_s, severity.escalate_s
        self.procedure = severity.procedure
        self.severity_since = event.time
        return event

    def note(self, text: str, by: str | None = None, at: datetime | None = None) -> Event:
        return self.add("note", text, actor=by, at=at)

    def mitigate(
        self, text: str = "Impact mitigated", by: str | None = None, at: datetime | None = None
    ) -> Event:
        self._require_open()
        event = self.add("mitigated", text, actor=by, at=at)
        if not self.mitigated_at:
            self.mitigated_at = event.time
        return event

    def record_readings(
        self,
        moment: str,
        readings: Iterable[GaugeReading | Mapping[str, Any]],
        at: datetime | None = None,
    ) -> Event:
        """Record the gauges as they read now: `moment` is open, mitigation or close.

        The console calls it with its gauges when the incident opens, when it is marked
        mitigated and before it closes; the CLI with the probes' readings. The report
        shows these `readings` events; a breach is its own `threshold-breach` event.
        """
        return self.record(readings_event(moment, readings, at=at))

    def close(self, resolution: str, by: str | None = None, at: datetime | None = None) -> Event:
        """Close with a resolution. Mitigation stays as recorded: closing an incident that
        nobody marked mitigated leaves `mitigated_at` empty (the report says "not recorded")."""
        self._require_open()
        if not resolution.strip():
            raise IncidentError("closing needs a resolution")
        event = self.add("closed", f"Closed: {resolution}", actor=by, at=at)
        self.closed_at, self.resolution = event.time, resolution
        return event

    def check_deadlines(self, now: datetime) -> list[Deadline]:
        """Deadlines that fell due since the last check; each is recorded once as an event."""
        if not self.is_open:
            return []
        already = {
            (e.data.get("deadline"), e.data.get("severity"))
            for e in self.events
            if e.kind == "deadline-due"
        }
        newly: list[Deadline] = []
        for deadline in self.deadlines(now):
            if deadline.state(now) != "due" or (deadline.name, self.severity) in already:
                continue
            self.add(
                "deadline-due",
                f"{self.severity}: {deadline.label}: deadline passed",
                actor=CONSOLE_ACTOR,
                at=deadline.due_at,
                deadline=deadline.name,
                severity=self.severity,
            )
            newly.append(deadline)
        return newly

    def _require_open(self) -> None:
        if not self.is_open:
            raise IncidentError(f"{self.id} is closed")

    # -- persistence ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _SCALAR_FIELDS}
        data["events"] = [event.to_dict() for event in self.events]
        data["status"] = self.status
        return data

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Incident:
        values: dict[str, Any] = {name: raw.get(name) for name in _SCALAR_FIELDS if name in raw}
        for name in ("gauges_open", "gauges_close"):
            values[name] = list(raw.get(name) or [])
        incident = cls(**values)
        incident.events = [Event.from_dict(e) for e in raw.get("events") or []]
        return incident


_SCALAR_FIELDS = (
    "id title severity severity_title acknowledge_s escalate_s procedure opened_at opened_by "
    "runbook_path runbook_sha256 environment severity_since acknowledged_at acknowledged_by "
    "escalated_at escalated_to mitigated_at closed_at resolution drill alert "
    "gauges_open gauges_close"
).split()


def _maybe(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


def _stopped_first(resolved: datetime | None, done: datetime | None) -> datetime | None:
    """The resolution, when it came before the action (or the action never came)."""
    if resolved is None or (done is not None and done <= resolved):
        return None
    return resolved


def _human(seconds: float) -> str:
    if seconds % 3600 == 0 and seconds >= 3600:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"


def find_severity(runbook: Runbook, level: str) -> Severity:
    """The runbook's severity named `level` (case-insensitive: p1, P1)."""
    for severity in runbook.severities:
        if severity.level.casefold() == level.strip().casefold():
            return severity
    known = ", ".join(s.level for s in runbook.severities) or "none"
    raise IncidentError(f"the runbook defines no severity {level!r} (it has: {known})")


def new_incident_id(at: datetime) -> str:
    return f"INC-{at:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def open_incident(
    runbook: Runbook,
    level: str,
    *,
    title: str | None = None,
    by: str | None = None,
    clock: Clock = now_utc,
    environment: str | None = None,
    drill: str | None = None,
    alert: dict[str, Any] | None = None,
) -> Incident:
    """A new incident at `level`, its severity's procedure as checklist, "opened" recorded."""
    severity = find_severity(runbook, level)
    at = clock()
    actor = by or operator()
    incident = Incident(
        id=new_incident_id(at),
        title=title or f"{severity.level} {severity.title}",
        severity=severity.level,
        severity_title=severity.title,
        acknowledge_s=severity.acknowledge_s,
        escalate_s=severity.escalate_s,
        procedure=severity.procedure,
        opened_at=iso(at),
        opened_by=actor,
        runbook_path=str(Path(runbook.path).resolve()) if runbook.path else None,
        runbook_sha256=runbook.sha256,
        environment=environment,
        drill=drill,
        alert=alert,
    )
    incident.severity_since = incident.opened_at
    incident.add(
        "opened",
        f"{'DRILL ' if drill else ''}Incident opened: {incident.title}"
        + ("" if title is None else f" ({severity.level} {severity.title})"),
        actor=actor,
        at=at,
        severity=severity.level,
        procedure=severity.procedure,
    )
    return incident


# -- recent deployment hint ------------------------------------------------------------------
