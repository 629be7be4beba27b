"""Where the live panes live: beside the checklist from 120 columns, the deck's Live tab
below that, or the whole screen (the live view, `w`).

The column never moves in the widget tree: the main screen's classes place it
(console/app.tcss), so its streams run on while the layout changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from textual.containers import Vertical
from textual.widget import Widget

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions


class LiveColumn(Vertical):
    """Holds one live widget: the runbook's list at first, then the live panes."""

    def __init__(self, pane: Widget, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(pane, **kwargs)
        self.pane = pane

    async def replace(self, new_pane: Widget) -> None:
        """Swap the live widget for another (the live panes arrive after the first frame)."""
        old, self.pane = self.pane, new_pane
        await old.remove()
        if self.is_attached:
            await self.mount(new_pane)

    def focus_first(self) -> bool:
        """Focus the containers table if there is one, else the first focusable widget in
        the column; False if there is none."""
        tables = self.query("#containers")
        if tables:
            tables.first().focus()
            return True
        for widget in self.pane.walk_children(Widget, with_self=True):
            if widget.focusable:
                widget.focus()
                return True
        return False
