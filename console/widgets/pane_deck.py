"""Detail, output and live panes: tabs on small terminals, side by side on large ones."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Tab, Tabs

PANES = ("detail", "output", "live")
"""Pane ids, in tab order."""


class PaneDeck(Vertical):
    """Holds the panes; the screen's `-wide` class shows them all at once."""

    DEFAULT_CSS = """
    PaneDeck #pane-tabs { height: 1; }
    PaneDeck #pane-tabs Underline { display: none; }
    PaneDeck #pane-body { height: 1fr; }
    PaneDeck .pane { display: none; height: 1fr; }
    PaneDeck .pane.-active { display: block; }
    """

    active: reactive[str] = reactive("detail")

    def __init__(self, *panes: Widget, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._panes = panes

    def compose(self) -> ComposeResult:
        yield Tabs(
            Tab("Detail", id="tab-detail"),
            Tab("Output", id="tab-output"),
            Tab("Live", id="tab-live"),
            id="pane-tabs",
        )
        with Horizontal(id="pane-body"):
            for pane in self._panes:
                pane.add_class("pane")
                pane.set_class(pane.id == f"pane-{self.active}", "-active")
                yield pane

    def on_mount(self) -> None:
        self.query_one(Tabs).can_focus = False

    def watch_active(self, active: str) -> None:
        for pane in self._panes:
            pane.set_class(pane.id == f"pane-{active}", "-active")
        for tabs in self.query(Tabs).results(Tabs):
            if tabs.active != f"tab-{active}":
                tabs.active = f"tab-{active}"

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab.id is not None:
            self.active = event.tab.id.removeprefix("tab-")

    def pane(self, name: str) -> Widget:
        return self.query_one(f"#pane-{name}")
