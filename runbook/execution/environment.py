"""What a step's processes inherit from the operator's environment.

A step has no terminal: its stdin is /dev/null and its output goes to pipes. A
terminal size in `LINES` or `COLUMNS` (which some shells export, and which make
passes on) describes a terminal the step does not have, and a stale one makes
`tput`, pagers or a TUI the step starts draw at the wrong size.
"""

from __future__ import annotations

from collections.abc import Mapping

TERMINAL_SIZE_VARIABLES = ("LINES", "COLUMNS")
"""Variables that override a program's idea of its terminal's size."""


def without_terminal_size(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of `environ` without `LINES` and `COLUMNS`."""
    return {name: value for name, value in environ.items() if name not in TERMINAL_SIZE_VARIABLES}
