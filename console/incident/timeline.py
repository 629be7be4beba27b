"""The timeline pane: every event with time and actor, filterable as you type."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Unpack

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import DataTable, Input

from runbook.incident.timeline import Event, filter_events, parse_time
from runbook.terminal import neutralise

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions


@dataclass(frozen=True)
class TimelineFilter:
    kinds: tuple[str, ...] | None = None
    actor: str | None = None
    text: str | None = None


def parse_filter(query: str) -> TimelineFilter:
    """`kind:step- kind:command actor:bob disk full` -> kinds, actor and free text."""
    kinds: list[str] = []
    actor: str | None = None
    words: list[str] = []
    for token in query.split():
        key, sep, value = token.partition(":")
        if sep and key == "kind" and value:
            kinds.append(value)
        elif sep and key == "actor" and value:
            actor = value
        else:
            words.append(token)
    return TimelineFilter(tuple(kinds) or None, actor, " ".join(words) or None)


class TimelinePane(Vertical):
    """Events in time order; the filter input narrows them by kind, actor and text."""

    HELP = "Incident timeline. Filter: `kind:step-` `kind:command` `actor:NAME` or any text."
    DEFAULT_CSS = """
    TimelinePane { height: 1fr; }
    TimelinePane > Input { height: 3; }
    TimelinePane > DataTable { height: 1fr; }
    """

    def __init__(self, events: Iterable[Event] = (), **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self.events = list(events)
        self.filter = TimelineFilter()

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: kind:step- actor:alice text", id="timeline-filter")
        table: DataTable[str] = DataTable(
            id="timeline-table", cursor_type="row", zebra_stripes=True
        )
        table.add_columns("time", "actor", "event", "what")
        yield table

    def on_mount(self) -> None:
        self._refill()

    def set_events(self, events: Iterable[Event]) -> None:
        """Show a new list of events (the incident file changed)."""
        fresh = list(events)
        if [e.to_dict() for e in fresh] == [e.to_dict() for e in self.events]:
            return
        self.events = fresh
        self._refill()

    @property
    def shown(self) -> list[Event]:
        return filter_events(
            self.events, kinds=self.filter.kinds, actor=self.filter.actor, text=self.filter.text
        )

    @on(Input.Changed, "#timeline-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter = parse_filter(event.value)
        self._refill()

    def _refill(self) -> None:
        try:
            table = self.query_one("#timeline-table", DataTable)
        except NoMatches:
            return
        table.clear()
        for event in self.shown:
            # Recorded by anyone (a CLI note, a command's text): shown as written, never
            # as markup, and with nothing a terminal would act on.
            table.add_row(
                parse_time(event.time).strftime("%H:%M:%S"),
                *(Text(neutralise(value or "")) for value in (event.actor, event.kind, event.text)),
            )
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)
