"""Long runbook text cut to what a pane can draw at once: the rest is counted, and the
full text is shown on request in a widget that draws only the rows in view (a `Log`).

A step with a 100,000-line fence is 1.6 MB of text: laid out whole (wrapped, highlighted)
it kept the console from its first frame for seconds.
"""

from __future__ import annotations

import re

from runbook.document.lines import LINE_BREAK as _LINE_BREAK
from runbook.document.lines import first_line as first_line

LINES_SHOWN = 20
"""Lines of a long command, or of a long fenced block, drawn in the step detail."""

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")


_BREAK_CHARACTERS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def line_count(text: str, start: int = 0) -> int:
    """How many lines `text[start:].splitlines()` would give, counted without making them
    (or the slice): a count per break character, each a scan at C speed."""
    if start >= len(text):
        return 0
    breaks = sum(text.count(character, start) for character in _BREAK_CHARACTERS)
    breaks -= text.count("\r\n", start)  # one break, counted as "\r" and as "\n"
    return breaks + (0 if text[-1] in _BREAK_CHARACTERS else 1)


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
    return lines, line_count(text, position)


def more_lines(count: int) -> str:
    """`… 1 more line`, `… 99,990 more lines`."""
    return f"… {count:,} more line{'' if count == 1 else 's'}"


def shorten_fences(text: str, keep: int = LINES_SHOWN, hint: str = "") -> str:
    """Markdown whose fenced code blocks show at most `keep` lines each; a longer block is
    closed after them and followed by a line saying how many more there are (and `hint`).

    Only what is drawn is shortened: the step's commands still hold every line. Lines
    outside the fences are read one by one; a block's lines past `keep` are only counted
    (its closing fence is found by one search), so a 100,000-line fence costs two scans.
    """
    if text.count("\n") <= keep:
        return text
    out: list[str] = []
    position: int | None = 0
    """Where the next line starts (None: no line is left)."""
    while position is not None:
        newline = text.find("\n", position)
        out.append(text[position:] if newline < 0 else text[position:newline])
        position = None if newline < 0 else newline + 1
        opener = _FENCE.match(out[-1])
        if opener is not None:
            indent, fence = opener.group(1), opener.group(2)
            position = _shortened_block(text, position, indent, fence, keep, hint, out)
    return "\n".join(out)


def _shortened_block(
    text: str, start: int | None, indent: str, fence: str, keep: int, hint: str, out: list[str]
) -> int | None:
    """Add the fenced block starting at `start` (the line after its opener) to `out`: at
    most `keep` of its lines, its closing fence, and how many lines were left out. Returns
    where the line after its closing fence starts (None when no line follows)."""
    after: int | None = None
    if start is None:  # the opener was the last line: an empty block
        end, total = 0, 0
        start = 0
    else:
        closer = _closing_fence(text, start, fence)
        if closer is None:  # not closed: the block runs to the end of the text
            end, total = len(text), text.count("\n", start) + 1
        else:
            end, total = closer[0], text.count("\n", start, closer[0])
            after = closer[1] + 1 if closer[1] < len(text) else None
    position = start
    for _ in range(min(keep, total)):
        newline = text.find("\n", position, end)
        if newline < 0:  # the last line of a block that is not closed
            out.append(text[position:end])
            break
        out.append(text[position:newline])
        position = newline + 1
    hidden = total - min(keep, total)
    out.append(f"{indent}{fence}")
    if hidden:
        out += ["", f"{indent}*{more_lines(hidden)}{hint}*", ""]
    return after


def _closing_fence(text: str, start: int, fence: str) -> tuple[int, int] | None:
    """Where the first line from `start` that closes `fence` starts and ends. Only the
    lines holding the fence's characters are looked at (found at C speed)."""
    closer = re.compile(rf"\s*{re.escape(fence[0])}{{{len(fence)},}}\s*")
    found = text.find(fence[:3], start)
    while found >= 0:
        line_start = text.rfind("\n", start, found) + 1 or start
        line_end = text.find("\n", found)
        line_end = len(text) if line_end < 0 else line_end
        if closer.fullmatch(text, line_start, line_end):
            return line_start, line_end
        found = text.find(fence[:3], line_end)
    return None
