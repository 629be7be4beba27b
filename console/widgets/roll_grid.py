"""The progress grid of a step that rolls across hosts: one row per host and its state."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

HOST_GLYPH = {
    "pending": ("○", "$text-muted"),
    "running": ("▶", "$warning"),
    "ok": ("✓", "$success"),
    "failed": ("✗", "$error"),
    "skipped": ("»", "$text-muted"),
    "cancelled": ("⊘", "$warning"),
    "unknown": ("?", "$error"),
}
"""Glyph and theme colour per host state (as the checklist marks steps); `unknown` only in a
roll taken over after its console stopped (a host whose supervisor died without a result)."""


def roll_summary(states: dict[str, str]) -> Content:
    """`✓ 2 ok · ✗ 1 failed · » 1 skipped`, in the order a roll goes through them."""
    parts = []
    for state, (glyph, colour) in HOST_GLYPH.items():
        count = sum(1 for value in states.values() if value == state)
        if count:
            parts.append(Content.assemble((glyph, f"bold {colour}"), f" {count} {state}"))
    return Content(" · ").join(parts)


class RollGrid(Static):
    """Host × state for the roll in progress (or the last one); hidden for other steps."""

    DEFAULT_CSS = """
    RollGrid { height: auto; max-height: 10; overflow-y: auto; padding: 0 1;
               background: $surface; border-bottom: hkey $panel; display: none; }
    RollGrid.-shown { display: block; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", markup=False, **kwargs)  # type: ignore[arg-type]
        self.states: dict[str, str] = {}
        self.details: dict[str, str] = {}

    def show_hosts(self, hosts: list[str]) -> None:
        """A new roll: every host pending."""
        self.states = dict.fromkeys(hosts, "pending")
        self.details = {}
        self.set_class(bool(hosts), "-shown")
        self._draw()

    def clear(self) -> None:
        self.show_hosts([])

    def set_host(self, host: str, state: str, detail: str = "") -> None:
        if host not in self.states:
            self.set_class(True, "-shown")
        self.states[host] = state
        self.details[host] = detail
        self._draw()

    def _draw(self) -> None:
        if not self.states:
            self.update("")
            return
        width = max(len(host) for host in self.states)
        rows = [Content.assemble(("hosts ", "bold"), roll_summary(self.states))]
        for host, state in self.states.items():
            glyph, colour = HOST_GLYPH.get(state, ("?", ""))
            detail = self.details.get(host, "")
            rows.append(
                Content.assemble(
                    (glyph, f"bold {colour}"),
                    " ",
                    host.ljust(width),
                    "  ",
                    (state.ljust(9), colour),
                    (detail, "$text-muted"),
                )
            )
        self.update(Content("\n").join(rows))
