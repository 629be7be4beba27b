"""A pane's own keys, k9s-style, on one line at its head while the focus is in it.

The footer keeps the console's keys (tick, run, skip, help, quit), so it fits 80 columns
whatever has the focus; the focused pane says its own here. A pane's bindings carry
`show=False` so that the footer does not list them twice.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

NOT_LISTED = frozenset({"escape", "up", "down", "j", "k", "end"})
"""Keys every list has: not worth a place on the line."""


def key_line(bindings: list[BindingType]) -> Content:
    """`f follow logs · R restart · I inspect`: each action once, by its first key."""
    parts: list[Content] = []
    seen: set[str] = set()
    for binding in bindings:
        if not isinstance(binding, Binding) or binding.action in seen:
            continue
        keys = [key.strip() for key in binding.key.split(",") if key.strip() not in NOT_LISTED]
        if not keys or not binding.description:
            continue
        seen.add(binding.action)
        key = {"slash": "/", "question_mark": "?"}.get(keys[0], keys[0])
        parts.append(Content.assemble((key, "bold $accent"), " ", binding.description.lower()))
    return Content(" · ").join(parts)


class KeyHint(Static):
    """The keys of the pane it is in, shown while that pane has the focus."""

    SCOPED_CSS = False  # the rule looks at the pane around it
    DEFAULT_CSS = """
    KeyHint { display: none; height: 1; color: $text-muted; text-wrap: nowrap;
              text-overflow: ellipsis; }
    *:focus-within > KeyHint { display: block; }
    """

    def __init__(self, pane: type[Widget]) -> None:
        super().__init__(key_line(list(pane.BINDINGS)), classes="key-hint", markup=False)
