"""Detail and output panes, and the Live tab below 120 columns: tabs on small terminals,
side by side on large ones. The live panes themselves sit in the screen's live column
(console/widgets/live_column.py); the Live tab only asks the screen to show it here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Tab, Tabs

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions

PANES = ("detail", "output", "live")
"""Pane names, in tab order."""
DECK_PANES = PANES[:2]
"""The panes the deck holds itself ("live" is the screen's live column)."""


class PaneDeck(Vertical):
    """Holds the detail and output panes as tabs; "live" shows the screen's live column."""

    DEFAULT_CSS = """
    PaneDeck #pane-tabs { height: 1; }
    PaneDeck #pane-tabs Underline { display: none; }
    PaneDeck #pane-body { height: 1fr; }
    PaneDeck .pane { display: none; height: 1fr; }
    PaneDeck .pane.-active { display: block; }
    """

    active: reactive[str] = reactive("detail")

    def __init__(self, *panes: Widget, **kwargs: Unpack[WidgetOptions]) -> None:
        """Args:
        panes: one widget per name of DECK_PANES, in that order.
        """
        super().__init__(**kwargs)
        self._panes: dict[str, Widget] = dict(zip(DECK_PANES, panes, strict=True))

    def compose(self) -> ComposeResult:
        yield Tabs(
            Tab("Detail", id="tab-detail"),
            Tab("Output", id="tab-output"),
            Tab("Live", id="tab-live"),
            id="pane-tabs",
        )
        with Horizontal(id="pane-body"):
            for name, pane in self._panes.items():
                pane.add_class("pane")
                pane.set_class(name == self.active, "-active")
                yield pane

    def on_mount(self) -> None:
        self.query_one(Tabs).can_focus = False

    def watch_active(self, active: str) -> None:
        for name, pane in self._panes.items():
            pane.set_class(name == active, "-active")
        for tabs in self.query(Tabs).results(Tabs):
            if tabs.active != f"tab-{active}":
                tabs.active = f"tab-{active}"

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab.id is not None:
            self.active = event.tab.id.removeprefix("tab-")

    def pane(self, name: str) -> Widget:
        return self._panes[name]

    async def replace_pane(self, name: str, new_pane: Widget) -> None:
        """Swap a pane for another (the live panes arrive after the first frame)."""
        old = self._panes[name]
        new_pane.add_class("pane")
        new_pane.set_class(self.active == name, "-active")
        position = list(self._panes).index(name)
        self._panes[name] = new_pane
        await old.remove()
        body = self.query_one("#pane-body")
        before = position if position < len(body.children) else None
        await body.mount(new_pane, before=before)
