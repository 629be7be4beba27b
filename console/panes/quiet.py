"""Widgets that repaint as little as possible: bytes to the terminal are the budget.

`Line` is a fixed-height text widget whose update refreshes only itself (a Static's
update also asks for a new layout, which repaints its neighbours). `QuietTable` updates
one cell and repaints that cell only (DataTable.update_cell repaints the whole table).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Unpack

from textual.content import Content
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions


class Line(Widget):
    """Text that changes in place; give it a fixed height in CSS."""

    DEFAULT_CSS = "Line { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }"

    def __init__(self, content: Content | str = "", **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self._content = Content(content) if isinstance(content, str) else content

    def render(self) -> Content:
        return self._content

    def set(self, content: Content | str) -> None:
        new = Content(content) if isinstance(content, str) else content
        if new.plain == self._content.plain and new == self._content:
            return
        self._content = new
        self.refresh()


class QuietTable(DataTable[str]):
    """A DataTable whose single-cell updates repaint that cell only."""

    def _widths(self) -> list[int]:
        return [column.content_width for column in self.columns.values()]

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Textual measures new rows' widths when idle; rows already drawn at the header's
        # widths ('monk  exite' for monkeytown-web-green) stayed on screen until something
        # repainted them. A change of width repaints the whole table, once.
        before = self._widths()
        super()._update_dimensions(new_rows)
        if self._widths() != before:
            self._update_count += 1
            self.refresh()

    class Resized(Message):
        """The table's own size changed (its pane's may not have: a sibling shrank)."""

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    def set_cell(self, row_key: str, column_key: str, value: str) -> None:
        coordinate: Coordinate = self.get_cell_coordinate(row_key, column_key)
        row = self.rows[self.coordinate_to_cell_key(coordinate).row_key]
        column = self.columns[self.coordinate_to_cell_key(coordinate).column_key]
        if len(value) > column.content_width:
            self.update_cell(row_key, column_key, value, update_width=True)
            return
        # update_cell() ends with a full refresh(); the data change itself is the same.
        self._data[row.key][column.key] = value
        self._update_count += 1
        self.refresh_coordinate(coordinate)
