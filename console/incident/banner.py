"""The DRILL banner: nobody mistakes a drill's sandbox for production."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class DrillBanner(Static):
    """A full-width line, shown only while `text` is set (the drill's scenario and sandbox)."""

    DEFAULT_CSS = """
    DrillBanner {
        height: 1;
        width: 1fr;
        background: $warning;
        color: $background;
        text-style: bold;
        content-align: center middle;
        display: none;
    }
    DrillBanner.-shown { display: block; }
    """

    text: reactive[str] = reactive("")
    """Empty hides the banner; otherwise what the drill is and where its sandbox runs."""

    def watch_text(self, text: str) -> None:
        self.set_class(bool(text), "-shown")
        self.update(f"DRILL · {text} · sandbox, not a real environment · DRILL" if text else "")
