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
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x7F:
        return "\u2421"  # ␡
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟
    return "\ufffd"  # C1 controls have no picture


_ANY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")


def visible_controls(text: str) -> str:
    """`text` with every control character but tab and line ends shown as a symbol (`␛`
    for ESC): for a runbook, whose escape sequences are shown, never acted on or hidden."""
    return _ANY_CONTROL.sub(_visible, text)


def neutralise(text: str, keep_colour: bool = False) -> str:
    """`text` with nothing a terminal acts on: escape sequences removed (SGR colours kept
    with `keep_colour`), other control characters shown as symbols; tabs and newlines
    kept, a line's trailing carriage return dropped."""
    if text.endswith("\r"):
        text = text.rstrip("\r")
    if keep_colour:
        kept: list[str] = []
        for part in re.split(f"({_SGR.pattern})", text):
            kept.append(part if _SGR.fullmatch(part) else _SEQUENCE.sub("", part))
        text = "".join(kept)
    else:
        text = _SEQUENCE.sub("", text)
    if keep_colour:
        return _CONTROL.sub(lambda m: m.group() if m.group() == "\x1b" else _visible(m), text)
    return _CONTROL.sub(_visible, text)
