"""Long runbook text cut to what a pane can draw at once: the rest is counted, and the
full text is shown on request in a widget that draws only the rows in view (a `Log`).

A step with a 100,000-line fence is 1.6 MB of text: laid out whole (wrapped, highlighted)
it kept the console from its first frame for seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

LINES_SHOWN = 20
"""Lines of a long command, or of a long fenced block, drawn in the step detail."""

_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Where `str.splitlines` breaks a line."""
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")


def first_line(text: str) -> str:
    """`text.splitlines()[0]` (empty for empty text), without splitting the rest."""
    found = _LINE_BREAK.search(text)
    return text if found is None else text[: found.start()]


def line_count(text: str) -> int:
    """How many lines `text.splitlines()` would give, counted without making them."""
    if not text:
        return 0
    breaks = len(_LINE_BREAK.findall(text))
    return breaks + (0 if _LINE_BREAK.fullmatch(text[-1]) else 1)


def head_lines(text: str, count: int) -> tuple[list[str], int]:
    """The first `count` lines of `text` (as `splitlines` cuts them) and how many follow."""
    lines: list[str] = []
    position = 0
    for found in _LINE_BREAK.finditer(text):
        if len(lines) == count:
            break
        lines.append(text[position : found.start()])
        position = found.end()
    else:
        if position < len(text) and len(lines) < count:
            lines.append(text[position:])
            position = len(text)
    return lines, line_count(text[position:])


def more_lines(count: int) -> str:
    """`… 1 more line`, `… 99,990 more lines`."""
    return f"… {count:,} more line{'' if count == 1 else 's'}"


def shorten_fences(text: str, keep: int = LINES_SHOWN, hint: str = "") -> str:
    """Markdown whose fenced code blocks show at most `keep` lines each; a longer block is
    closed after them and followed by a line saying how many more there are (and `hint`).

    Only what is drawn is shortened: the step's commands still hold every line.
    """
    if text.count("\n") <= keep:
        return text
    out: list[str] = []
    lines = iter(text.split("\n"))
    for line in lines:
        out.append(line)
        opener = _FENCE.match(line)
        if opener is None:
            continue
        out.extend(_shortened_block(lines, opener.group(1), opener.group(2), keep, hint))
    return "\n".join(out)


def _shortened_block(
    lines: Iterator[str], indent: str, fence: str, keep: int, hint: str
) -> Iterator[str]:
    """The rest of a fenced block from the line after its opener, at most `keep` lines."""
    closer = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    hidden = 0
    for line in lines:
        if closer.match(line):
            break
        if hidden == 0 and keep > 0:
            keep -= 1
            yield line
        else:
            hidden += 1
    yield f"{indent}{fence}"
    if hidden:
        yield ""
        yield f"{indent}*{more_lines(hidden)}{hint}*"
        yield ""
