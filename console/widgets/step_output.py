"""Output of the highlighted step's last run (live while it runs), with its state and how
to cancel; or of a run that is no checklist step (a container action, a drill step)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from console.widgets.roll_grid import RollGrid
from runbook.terminal import neutralise

if TYPE_CHECKING:
    from textual.widgets import RichLog

    from console.progress import StepRecord
    from console.widgets.options import WidgetOptions
    from runbook.model import Step

OUTPUT_MAX_LINES = 5000
"""Lines kept in the pane; older ones scroll away."""


class StepOutput(Vertical):
    """A title line and a log that follows the newest line."""

    HELP = "Output of the running step. `c` cancels it."
    DEFAULT_CSS = """
    StepOutput #output-title { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    StepOutput #output-title.-running { color: $warning; }
    StepOutput #output-title.-failed { color: $error; }
    StepOutput #output-log, StepOutput #output-stand-in {
        height: 1fr; background: $surface; scrollbar-size-vertical: 1; padding: 0 1;
    }
    StepOutput #output-stand-in { overflow-y: scroll; }
    """

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self._log: RichLog | None = None
        self.shown: tuple[str, int] | None = None
        """The step (procedure key, index) whose output shows; None: a run of no step."""

    def compose(self) -> ComposeResult:
        yield Static(
            "No step has run yet. r runs the highlighted step, d dry-runs it.",
            id="output-title",
            markup=False,
        )
        yield RollGrid(id="output-hosts")
        # Drawn like the empty log. RichLog imports rich.pretty (and attrs with it), so it
        # takes the stand-in's place after the first frame, or as soon as it is asked for.
        yield VerticalScroll(id="output-stand-in", can_focus=False)

    def on_mount(self) -> None:
        self.call_after_refresh(self._mount_log_after_first_frame)

    def _mount_log_after_first_frame(self) -> None:
        if self.is_attached:  # else the console quit before its first frame was drawn
            self._mount_log()

    def _mount_log(self) -> RichLog:
        if self._log is None:
            from textual.widgets import RichLog

            self._log = RichLog(
                id="output-log",
                max_lines=OUTPUT_MAX_LINES,
                wrap=True,
                min_width=20,
                markup=False,
            )
            stand_in = self.query_one("#output-stand-in")
            self.mount(self._log, before=stand_in)
            stand_in.remove()
        return self._log

    @property
    def log_widget(self) -> RichLog:
        return self._mount_log()

    def begin(self, title: str, running: bool = True, step: tuple[str, int] | None = None) -> None:
        """Start a new run: clear the log and show what runs (`step`: whose run it is)."""
        self.shown = step
        self.log_widget.clear()
        self.hosts.clear()
        self.set_title(title, "running" if running else "")

    @property
    def hosts(self) -> RollGrid:
        """The progress grid of a step that rolls across hosts."""
        return self.query_one(RollGrid)

    def shows(self, step: tuple[str, int] | None) -> bool:
        """Whether output of `step`'s run (None: a run of no step) belongs on screen now."""
        return step is None or self.shown is None or self.shown == step

    def show_step(self, procedure_key: str, step: Step, record: StepRecord | None) -> None:
        """Show the step's last run: its kept output, or that it has not run."""
        if self.shown != (procedure_key, step.index):
            for grid in self.query(RollGrid).results(RollGrid):
                grid.clear()  # another step's hosts do not stay under this one
                # This one's, as the checklist keeps them (a roll followed after a restart).
                for host, state in (record.hosts if record is not None else {}).items():
                    grid.set_host(host, state, record.host_details.get(host, "") if record else "")
        self.shown = (procedure_key, step.index)
        if self._log is not None:  # else nothing was written yet: the stand-in stays
            self._log.clear()
        status = record.status if record is not None else "pending"
        output = record.output if record is not None else []
        if status == "running":
            self.set_title(f"▶ step {step.index} running · c cancels", "running")
        elif output:
            title = f"Step {step.index} · last run: {status}"
            if record is not None and record.exit_code is not None and status != "done":
                title += f" (exit {record.exit_code})"
            self.set_title(title, "failed" if status == "failed" else "")
        elif status == "pending":
            self.set_title(f"Step {step.index} not run yet · r runs it, d dry-runs it")
        else:
            self.set_title(f"Step {step.index} {status} · no run output")
        if output:
            self.write_lines(output)

    def set_title(self, title: str | Content, state: str = "") -> None:
        label = self.query_one("#output-title", Static)
        label.update(title)
        label.set_class(state == "running", "-running")
        label.set_class(state == "failed", "-failed")

    def write_lines(self, lines: list[tuple[str, str]]) -> None:
        log = self.log_widget
        # RichLog takes Rich Text, so the theme's error colour is looked up by name.
        error_style = self.app.theme_variables.get("text-error", "")
        # The log keeps the last OUTPUT_MAX_LINES: older lines would be wrapped, drawn and
        # dropped (100,000 at once froze the console for most of a minute).
        for stream, line in lines[-OUTPUT_MAX_LINES:]:
            # Colours are parsed into styles; every other escape or control never reaches
            # the terminal (a step cannot clear the screen or set the window title).
            style = error_style if stream == "stderr" else "bold" if stream == "info" else ""
            log.write(Text.from_ansi(neutralise(line, keep_colour=True), style=style))
