"""Outside text made safe for a terminal: step output, container logs, engine and HTTP
error text, notes recorded by others.

A step or any container on the engine can print escape sequences. Written to the
operator's terminal as they are, they clear the screen, move the cursor, set the window
title or the clipboard (`\\033[2J`, `\\033]0;PWNED\\007`, `\\033]52;...`). `neutralise`
removes every escape sequence and shows the other control characters as visible
symbols (`␇` for BEL), so nothing reaches the terminal that it would act on. With
`keep_colour`, SGR colour sequences stay, for a display that parses them into styles
(Rich's ANSI decoder) rather than passing them on.

```python
neutralise("\\033[2J\\033]0;PWNED\\007done")        # "done"
neutralise("\\033[31mred\\033[0m", keep_colour=True)  # kept: colours only
neutralise("bell\\x07")                              # "bell␇"
```
"""

from __future__ import annotations

import re

_SEQUENCE = re.compile(
    r"""
    \x1b\[ [0-?]* [ -/]* [@-~]                  # CSI: cursor, erase, modes, colours (SGR)
  | \x1b[\]PX^_] .*? (?:\x07|\x1b\\|\x9c|$)     # OSC, DCS, SOS, PM, APC up to their end
  | \x9b [0-?]* [ -/]* [@-~]                    # 8-bit CSI
  | [\x90\x9d\x98\x9e\x9f] .*? (?:\x07|\x1b\\|\x9c|$)   # 8-bit OSC, DCS and the like
  | \x1b [ -/]* [0-~]                           # other escapes (charset, keypad, RIS)
  | \x1b                                        # a lone ESC
    """,
    re.VERBOSE | re.DOTALL,
)
_SGR = re.compile(r"(\x1b\[[0-9;:]*m)")
"""A colour sequence; the group makes `split` keep it, at the odd positions."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")
"""Every control character but tab and the line ends."""


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x7F:
        return "\u2421"  # ␡
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟
    return "\ufffd"  # C1 controls have no picture


def visible_controls(text: str) -> str:
    """`text` with every control character but tab and line ends shown as a symbol (`␛`
    for ESC): for a runbook, whose escape sequences are shown, never acted on or hidden."""
    return _CONTROL.sub(_visible, text)


def _inert(text: str) -> str:
    """No escape sequence; every control character but tab and newline shown."""
    return visible_controls(_SEQUENCE.sub("", text)).replace("\r", "\u240d")


def neutralise(text: str, keep_colour: bool = False) -> str:
    """`text` with nothing a terminal acts on: escape sequences removed (SGR colours kept
    with `keep_colour`), other control characters shown as symbols; tabs and newlines
    kept, a line's trailing carriage returns dropped."""
    text = text.rstrip("\r")
    if not keep_colour:
        return _inert(text)
    parts = _SGR.split(text)
    return "".join(part if index % 2 else _inert(part) for index, part in enumerate(parts))
