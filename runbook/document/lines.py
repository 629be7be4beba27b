"""Lines of long text found without splitting all of it: a 100,000-line fence is one
string of 1.6 MB, and `splitlines()` made a list of every line to read the first."""

from __future__ import annotations

import re

LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Where `str.splitlines` breaks a line."""


def first_line(text: str) -> str:
    """`text.splitlines()[0]` (empty for empty text), without splitting the rest."""
    found = LINE_BREAK.search(text)
    return text if found is None else text[: found.start()]
