"""Timeline events of an incident or a drill: what happened, when, and who did it.

Every event is plain data with an ISO-8601 UTC time, a kind, an actor and one
line of text; `data` carries the details a report needs (a command's exit
status, a gauge's value). The timeline pane and the Markdown report both read
the same list, filtered with `filter_events`.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

EventKind = Literal[
    "opened",
    "acknowledged",
    "escalated",
    "severity-changed",
    "deadline-due",
    "step-done",
    "step-skipped",
    "step-failed",
    "step-cancelled",
    "command",
    "threshold-breach",
    "threshold-recovery",
    "readings",
    "health-change",
    "container-restart",
    "deployment",
    "note",
    "mitigated",
    "closed",
    "fault-injected",
]
EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]
"""Every kind, in the order the timeline filter offers them."""

CONSOLE_ACTOR = "console"
"""Actor of events the console observed itself (breaches, health changes, deadlines)."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds, the form every event time takes."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_time(text: str) -> datetime:
    """An event or history time as an aware datetime (a naive one is taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def operator() -> str:
    """The operator's name, for events they cause."""
    try:
        return os.environ.get("RUNBOOK_OPERATOR") or getpass.getuser()
    except (OSError, KeyError):
        return str(os.getuid())


@dataclass(frozen=True)
class Event:
    """One line of the timeline."""

    time: str
    kind: EventKind
    actor: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def moment(self) -> datetime:
        return parse_time(self.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "kind": self.kind,
            "actor": self.actor,
            "text": self.text,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Event:
        kind = str(raw.get("kind", "note"))
        return cls(
            time=str(raw["time"]),
            kind=kind if kind in EVENT_KINDS else "note",  # type: ignore[arg-type]
            actor=str(raw.get("actor", "")),
            text=str(raw.get("text", "")),
            data=dict(raw.get("data") or {}),
        )


def make_event(
    kind: EventKind,
    text: str,
    *,
    actor: str | None = None,
    at: datetime | None = None,
    **data: Any,
) -> Event:
    """An event now (or `at`), by the operator unless another actor is named."""
    return Event(
        time=iso(at or now_utc()),
        kind=kind,
        actor=actor if actor is not None else operator(),
        text=text,
        data={k: v for k, v in data.items() if v is not None},
    )


def ordered(events: Iterable[Event]) -> list[Event]:
    """Events by time; events with the same time keep the order they were recorded in."""
    return sorted(events, key=lambda event: event.moment)


def filter_events(
    events: Iterable[Event],
    *,
    kinds: Iterable[str] | None = None,
    actor: str | None = None,
    text: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Event]:
    """The events matching every given criterion, in time order.

    Args:
        events: the timeline.
        kinds: keep only these kinds; a kind ending in `-` or `*` matches a prefix
            (`step-` keeps step-done, step-skipped, step-failed and step-cancelled).
        actor: keep only events by this actor (case-insensitive).
        text: keep events whose text contains this (case-insensitive).
        since: keep events at or after this moment.
        until: keep events at or before this moment.
    """
    wanted = tuple(kinds) if kinds is not None else None
    needle = text.casefold() if text else None
    kept: list[Event] = []
    for event in ordered(events):
        if wanted is not None and not any(_kind_matches(event.kind, k) for k in wanted):
            continue
        if actor is not None and event.actor.casefold() != actor.casefold():
            continue
        if needle is not None and needle not in event.text.casefold():
            continue
        if since is not None and event.moment < since:
            continue
        if until is not None and event.moment > until:
            continue
        kept.append(event)
    return kept


def _kind_matches(kind: str, pattern: str) -> bool:
    if pattern.endswith(("*", "-")):
        return kind.startswith(pattern.rstrip("*"))
    return kind == pattern
