"""Live output of the running step (or the last one), with its state and how to cancel."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import RichLog, Static

OUTPUT_MAX_LINES = 5000
"""Lines kept in the pane; older ones scroll away."""


class StepOutput(Vertical):
    """A title line and a log that follows the newest line."""

    HELP = "Output of the running step. `c` cancels it."
    DEFAULT_CSS = """
    StepOutput #output-title { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    StepOutput #output-title.-running { color: $warning; }
    StepOutput #output-title.-failed { color: $error; }
    StepOutput #output-log {
        height: 1fr; background: $surface; scrollbar-size-vertical: 1; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(
            "No step has run yet. r runs the highlighted step, d dry-runs it.", id="output-title"
        )
        yield RichLog(id="output-log", max_lines=OUTPUT_MAX_LINES, wrap=False, markup=False)

    @property
    def log_widget(self) -> RichLog:
        return self.query_one("#output-log", RichLog)

    def begin(self, title: str, running: bool = True) -> None:
        """Start a new run: clear the log and show what runs."""
        self.log_widget.clear()
        self.set_title(title, "running" if running else "")

    def set_title(self, title: str | Content, state: str = "") -> None:
        label = self.query_one("#output-title", Static)
        label.update(title)
        label.set_class(state == "running", "-running")
        label.set_class(state == "failed", "-failed")

    def write_lines(self, lines: list[tuple[str, str]]) -> None:
        log = self.log_widget
        # RichLog takes Rich Text, so the theme's error colour is looked up by name.
        error_style = self.app.theme_variables.get("text-error", "")
        for stream, line in lines:
            if stream == "stderr":
                log.write(Text(line, style=error_style))
            elif stream == "info":
                log.write(Text(line, style="bold"))
            else:
                log.write(Text(line))
