"""Search the whole runbook (`/`): every step of every procedure, by substring."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from runbook.model import Runbook

MAX_HITS = 200
"""Hits listed; a broader query is better than a longer list."""


@dataclass(frozen=True)
class SearchHit:
    procedure_key: str
    step_index: int | None


def search_runbook(runbook: Runbook, query: str) -> list[tuple[SearchHit, Content]]:
    """Steps and procedures whose text or commands contain the query (case-insensitive)."""
    needle = query.strip().casefold()
    if not needle:
        return []
    hits: list[tuple[SearchHit, Content]] = []
    for procedure in runbook.procedures:
        if needle in procedure.title.casefold():
            hits.append(
                (
                    SearchHit(procedure.key, None),
                    Content.assemble(("§ ", "$accent"), (procedure.key, "bold")),
                )
            )
        for step in procedure.steps:
            haystack = "\n".join([step.text, *(command.code for command in step.commands)])
            position = haystack.casefold().find(needle)
            if position < 0:
                continue
            line_start = haystack.rfind("\n", 0, position) + 1
            line_end = haystack.find("\n", position)
            line = haystack[line_start : line_end if line_end >= 0 else None].strip()
            hits.append(
                (
                    SearchHit(procedure.key, step.index),
                    Content.assemble(
                        (f"{procedure.title} › {step.index}. ", "$text-muted"),
                        Content(line).highlight_regex(_escape(query.strip()), style="bold reverse"),
                    ),
                )
            )
            if len(hits) >= MAX_HITS:
                return hits
    return hits


def _escape(text: str) -> str:
    import re

    return "(?i)" + re.escape(text)


class SearchScreen(ModalScreen[SearchHit | None]):
    """Type to search, arrows to choose, enter to jump there."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="search-close", tooltip="Close the search"),
        Binding(
            "down",
            "focus_hits",
            "Results",
            show=False,
            id="search-results",
            tooltip="Move into the results",
        ),
    ]
    DEFAULT_CSS = """
    SearchScreen { align: center top; }
    SearchScreen > Vertical {
        width: 90%; max-width: 100; height: 80%; margin-top: 1;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SearchScreen #search-count { color: $text-muted; height: 1; }
    SearchScreen OptionList { height: 1fr; border: none; }
    """

    def __init__(self, runbook: Runbook, query: str = "") -> None:
        super().__init__()
        self.runbook = runbook
        self.initial_query = query
        self._hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(
                value=self.initial_query, placeholder="search steps and commands", id="search-input"
            )
            yield Label("", id="search-count", markup=False)
            yield OptionList(id="search-hits", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.initial_query:
            self._update(self.initial_query)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._update(event.value)

    def _update(self, query: str) -> None:
        found = search_runbook(self.runbook, query)
        self._hits = [hit for hit, _ in found]
        hits = self.query_one(OptionList)
        hits.set_options(Option(label) for _, label in found)
        if found:
            hits.highlighted = 0
        more = "+" if len(found) >= MAX_HITS else ""
        self.query_one("#search-count", Label).update(
            f"{len(found)}{more} match(es)" if query.strip() else ""
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        hits = self.query_one(OptionList)
        if self._hits:
            self.dismiss(self._hits[hits.highlighted or 0])

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._hits[event.option_index])

    def action_focus_hits(self) -> None:
        self.query_one(OptionList).focus()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
