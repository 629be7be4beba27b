"""LineView makes the rows in view from its lines, and its rows are the lines' rows: each
line after its prefix, tabs expanded, control characters shown, wrapped where asked."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from console.widgets.line_view import LineView, wrap_row

LINES = st.lists(
    st.lists(
        st.sampled_from(["a", "bc", " ", "\t", "界", "é", "\x1b", "\x9b", "\x7f", "$ ", "xyz" * 7])
    ).map("".join),
    max_size=30,
)


@given(LINES, st.integers(5, 40), st.sets(st.integers(0, 29)))
def test_wrapped_rows_are_each_line_wrapped_in_turn(
    lines: list[str], width: int, headers: set[int]
) -> None:
    view = LineView(wrap=True)
    view.set_lines(lines, prefix="$ ", headers={h for h in headers if h < len(lines)})
    expected = [row for index in range(len(lines)) for row in wrap_row(view.text_of(index), width)]
    assert view.wrap_to(width) == len(expected)
    assert list(view.rows()) == expected
    assert all(cell_len(row) <= width for row in expected)


@given(LINES)
def test_unwrapped_rows_are_the_lines_after_their_prefix(lines: list[str]) -> None:
    view = LineView()
    view.set_lines(lines, prefix="$ ", headers={0} if lines else ())
    rows = list(view.rows())
    assert len(rows) == view.row_count == len(lines)
    for index, (line, row) in enumerate(zip(lines, rows, strict=True)):
        shown = line if index == 0 else f"$ {line}"
        assert row == re.sub("[\x1b\x7f\x9b]", "�", shown.expandtabs())
    widest = max((cell_len(row) for row in rows), default=0)
    assert view.virtual_size.width == widest, "every line can be scrolled to its end"


def test_a_hundred_thousand_lines_are_not_each_drawn_to_count_their_rows() -> None:
    """Only a line wider than the view (or not plain ASCII) is wrapped to count its rows."""
    lines = [f"touch /tmp/never-run-{n}" for n in range(100_000)]
    lines[50_000] = "curl " + "x" * 200
    lines[70_000] = "echo\tta界"
    view = LineView(wrap=True)
    drawn: list[int] = []
    text_of = view.text_of

    def counted(index: int) -> str:
        drawn.append(index)
        return text_of(index)

    view.text_of = counted  # type: ignore[method-assign]
    view.set_lines(lines, prefix="$ ")
    rows = view.wrap_to(60)
    assert set(drawn) == {50_000, 70_000}
    assert rows == 100_000 + len(wrap_row(f"$ {lines[50_000]}", 60)) - 1
    assert view.row_text(rows - 1) == "$ touch /tmp/never-run-99999"
    assert view.row_text(50_000).startswith("$ curl xxx")
    assert view.row_text(50_001) == "  " + "x" * 58
