"""Long text cut for drawing: the fast cuts (counted at C speed, a fence's closer found by
one search) say what the plain line-by-line reading says, on any text."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from console.widgets.long_text import head_lines, line_count, more_lines, shorten_fences

PIECES = st.sampled_from(
    ["a", "b c", "```", "~~~", "````", "  ```", "```bash", " ``` ", "x```", "~~~~"]
    + ["\n", "\n", "\r", "\r\n", "\x0b", "\x85", "\u2028", " ", "\t"]
)
TEXTS = st.lists(PIECES, max_size=40).map("".join)
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")


def shortened_line_by_line(text: str, keep: int, hint: str) -> str:
    """What `shorten_fences` means, read one line at a time."""
    if text.count("\n") <= keep:
        return text
    out: list[str] = []
    lines = iter(text.split("\n"))
    for line in lines:
        out.append(line)
        opener = FENCE.match(line)
        if opener is None:
            continue
        indent, fence = opener.group(1), opener.group(2)
        closer = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        kept, hidden = 0, 0
        for inner in lines:
            if closer.match(inner):
                break
            if kept < keep:
                out.append(inner)
                kept += 1
            else:
                hidden += 1
        out.append(f"{indent}{fence}")
        if hidden:
            out += ["", f"{indent}*{more_lines(hidden)}{hint}*", ""]
    return "\n".join(out)


@given(TEXTS, st.integers(0, 4))
def test_fences_are_cut_as_read_line_by_line(text: str, keep: int) -> None:
    assert shorten_fences(text, keep, " (f)") == shortened_line_by_line(text, keep, " (f)")


@given(TEXTS, st.integers(0, 5))
def test_lines_are_counted_and_cut_as_splitlines_does(text: str, count: int) -> None:
    assert line_count(text) == len(text.splitlines())
    lines, more = head_lines(text, count)
    assert lines == text.splitlines()[:count]
    assert more == len(text.splitlines()) - len(lines)


def test_a_hundred_thousand_line_fence_keeps_its_first_lines_and_counts_the_rest() -> None:
    body = "\n".join(f"   echo line {n}" for n in range(100_000))
    text = f"1. Run:\n\n   ```bash\n{body}\n   ```\n\n   Then look.\n"
    cut = shorten_fences(text, 3, " (f shows them all)")
    assert cut == (
        "1. Run:\n\n   ```bash\n   echo line 0\n   echo line 1\n   echo line 2\n   ```\n\n"
        "   *… 99,997 more lines (f shows them all)*\n\n\n   Then look.\n"
    )


@given(
    st.lists(st.sampled_from(["a", " ", "\t", "界", "é", "$ ", "xyz"]), max_size=60).map("".join),
    st.integers(4, 30),
)
def test_a_confirmation_row_wraps_to_the_box_and_loses_nothing(line: str, width: int) -> None:
    from rich.cells import cell_len

    from console.screens.confirm import wrap_row

    rows = wrap_row(line, width)
    assert all(cell_len(row) <= width for row in rows)
    assert rows[0] + "".join(row[2:] for row in rows[1:]) == line.expandtabs()
    assert all(row.startswith("  ") for row in rows[1:])
