"""Many lines of text (a 100,000-line command) drawn a screen at a time.

A `Log` measures and processes every line it is given: 100,000 lines took it some 0.2 s
before the first of them was drawn, and wrapping them to a box (the confirmation) as
long again, each time the box's width changed. `LineView` keeps the lines as they are
and makes only the rows in view. To know how many rows there are and how wide the
widest is, it measures lines with C-speed scans (their lengths, whether each is plain
ASCII without a tab); only a line those scans cannot settle (wider than the box, a tab,
a wide or combining character) is measured or wrapped on its own. Nothing is cut: every
row of every line can be scrolled to.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterable
from itertools import compress, repeat
from operator import add, gt, not_

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
"""Control characters (tabs are expanded first), each drawn as `�`, one cell wide like the
character it stands for: no terminal acts on them. (A `Log` shows only those up to U+0014
so, an escape among them.)"""


def wrap_row(line: str, width: int, indent: int = 2) -> list[str]:
    """`line` cut into rows of at most `width` cells; the rows after the first are indented.

    A short ASCII line, the usual one, returns before anything else is looked at."""
    if "\t" in line:
        line = line.expandtabs()
    if len(line) <= width and line.isascii():
        return [line]
    from rich.cells import chop_cells

    if cell_len(line) <= width:
        return [line]
    head = chop_cells(line, width)[0]
    rest = chop_cells(line[len(head) :], max(1, width - indent))
    return [head, *(" " * indent + piece for piece in rest)]


class LineView(ScrollView, can_focus=True):
    """Lines drawn only where they are in view; with `wrap`, each line wrapped to the
    view's width (the rows after a line's first indented by two spaces), else scrolled
    sideways. A line is drawn after `prefix` (`$ `) unless its index is in `headers`."""

    ALLOW_SELECT = True
    DEFAULT_CSS = """
    LineView {
        background: $surface;
        color: $text;
        overflow: scroll;
        &:focus { background-tint: $foreground 5%; }
    }
    """

    def __init__(
        self, wrap: bool = False, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.wrap = wrap
        self._lines: list[str] = []
        self._prefix = ""
        self._headers: frozenset[int] = frozenset()
        self._lengths: list[int] = []
        """Each line's length as drawn, for a plain ASCII line its width in cells."""
        self._measured: dict[int, int] = {}
        """The width of each line the lengths cannot tell (a tab, a non-ASCII character)."""
        self._wrapped_width = 0
        """The width the rows were counted for (wrap; 0: not yet)."""
        self._wrapped: list[int] = []
        """The lines drawn on more than one row (wrap), in order..."""
        self._wrapped_rows: list[int] = []
        """... how many rows each takes ..."""
        self._wrapped_starts: list[int] = []
        """... and the row each starts on."""
        self._rows = 0

    @property
    def line_count(self) -> int:
        """How many lines the view holds."""
        return len(self._lines)

    @property
    def row_count(self) -> int:
        """How many rows they take (more than the lines where lines wrap)."""
        return self._rows

    def set_lines(self, lines: list[str], prefix: str = "", headers: Collection[int] = ()) -> None:
        """Show `lines` (kept, not copied), each after `prefix` but those in `headers`."""
        self._lines, self._prefix, self._headers = lines, prefix, frozenset(headers)
        size = len(prefix)
        self._lengths = list(map(add, map(len, lines), repeat(size)))
        for index in self._headers:
            self._lengths[index] -= size
        # Lines whose length is not their width: a tab, a wide or combining character.
        odd = set(compress(range(len(lines)), map(not_, map(str.isascii, lines))))
        odd.update(compress(range(len(lines)), map(str.__contains__, lines, repeat("\t"))))
        self._measured = {index: cell_len(self.text_of(index)) for index in odd}
        self._layout()

    def clear(self) -> None:
        self.set_lines([])

    def text_of(self, index: int) -> str:
        """Line `index` as drawn: its prefix, tabs expanded, control characters as `�`."""
        line = self._lines[index]
        if index not in self._headers:
            line = self._prefix + line
        if "\t" in line:
            line = line.expandtabs()
        return _CONTROL.sub("�", line)

    def _width_of(self, index: int) -> int:
        measured = self._measured.get(index)
        return self._lengths[index] if measured is None else measured

    def _layout(self) -> None:
        """Count the rows (wrapping to the view's width) and set the virtual size."""
        width = self.scrollable_content_region.width if self.is_mounted else 0
        if self.wrap and width > 4:
            self.wrap_to(width)
            self.virtual_size = Size(width, self._rows)
        else:
            self.wrap_to(0)
            widest = max(self._lengths, default=0)
            widest = max(widest, max(self._measured.values(), default=0))
            self.virtual_size = Size(widest, self._rows)
        self.refresh()

    def wrap_to(self, width: int) -> int:
        """Count the rows of the lines wrapped to `width` cells (0: not wrapped), and return
        how many there are. Only lines longer than `width`, or whose length is not their
        width, are wrapped to count them."""
        self._wrapped_width = width
        wrapped: list[int] = []
        rows: list[int] = []
        starts: list[int] = []
        extra = 0  # rows taken by the lines above beyond their first
        if width > 0:
            wide = compress(range(len(self._lines)), map(gt, self._lengths, repeat(width)))
            for index in sorted({*wide, *self._measured}):
                if self._width_of(index) <= width:
                    continue
                count = len(wrap_row(self.text_of(index), width))
                if count > 1:
                    wrapped.append(index)
                    rows.append(count)
                    starts.append(index + extra)
                    extra += count - 1
        self._wrapped, self._wrapped_rows, self._wrapped_starts = wrapped, rows, starts
        self._rows = len(self._lines) + extra
        return self._rows

    def on_resize(self) -> None:
        if self.wrap and self.scrollable_content_region.width != self._wrapped_width:
            top = self.scroll_offset.y
            self._layout()
            self.scroll_to(y=top, animate=False, immediate=True)

    def row_text(self, row: int) -> str:
        """The text of row `row` (0 for the first), as drawn."""
        if not self._wrapped:
            return self.text_of(row)
        found = bisect_right(self._wrapped_starts, row) - 1
        if found < 0:
            return self.text_of(row)
        start, count = self._wrapped_starts[found], self._wrapped_rows[found]
        if row < start + count:
            return wrap_row(self.text_of(self._wrapped[found]), self._wrapped_width)[row - start]
        return self.text_of(row - (start - self._wrapped[found]) - (count - 1))

    def rows(self, start: int = 0, end: int | None = None) -> Iterable[str]:
        """The text of rows `start` to `end` (the last row's end: None)."""
        stop = self._rows if end is None else min(end, self._rows)
        return (self.row_text(row) for row in range(start, stop))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if row >= self._rows:
            return Strip.blank(width, style)
        text = self.row_text(row)
        selection = self.text_selection
        span = selection.get_span(row) if selection is not None else None
        if span is None:
            length = len(text) if text.isascii() else cell_len(text)
            strip = Strip([Segment(text, style)], length)
        else:
            start, end = span
            rich = Text(text, no_wrap=True, style=style)
            rich.stylize(
                self.screen.get_component_rich_style("screen--selection"),
                start,
                len(text) if end == -1 else end,
            )
            strip = Strip(rich.render(self.app.console), cell_len(text))
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, row)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract("\n".join(self.rows())), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()
