"""The logs pane: follow containers, filter, search with highlight, pause, timestamps.

Lines go to a bounded `LogBuffer` as they arrive; the `Log` widget is written at most
`FLUSH_S` apart, so 1,000 lines a second cost a few repaints a second, not a thousand.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Unpack

from rich.cells import cell_len, chop_cells
from rich.highlighter import Highlighter
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Log, Static

from console.panes.messages import DockerEventArrived, LogLinesArrived
from console.widgets.key_hint import KeyHint
from runbook.sources.docker.engine import EngineChanged
from runbook.sources.logs import LogBatch, LogBuffer, LogFilter, LogFollower, LogLine
from runbook.sources.probe import is_probe_line
from runbook.terminal import neutralise

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions
    from runbook.sources.live import LiveSources

FLUSH_S = 0.4
"""How often new lines reach the screen."""


class SearchHighlighter(Highlighter):
    """Dims the timestamp and container, reverses search matches."""

    def __init__(self) -> None:
        self.search = LogFilter("")
        self.prefix_width = 0

    def highlight(self, text: Text) -> None:
        if self.prefix_width:
            text.stylize("dim", 0, self.prefix_width)
        for start, end in self.search.spans(text.plain[self.prefix_width :]):
            text.stylize("reverse bold", start + self.prefix_width, end + self.prefix_width)


class LogsPane(Vertical):
    """Follows the containers asked for; everything else is a view over the buffer."""

    HELP = """
## Logs
- **/** filter (substring; **X** toggles regex, **v** inverts), **S** search and highlight
  (capitals: `x` and `s` tick and skip checklist steps wherever the focus is)
- **p** pause/resume, **t** timestamps, **W** wrap long lines, **G** jump to the newest line
- **H** shows or hides the console's own probes (hidden, and counted, by default)
A marker line shows where a stream reconnected; lines are never repeated after it.
A container logging faster than it can be read is skipped ahead to its newest lines,
after a marker; the status line says when.
"""
    BINDINGS = [
        Binding(
            "slash",
            "edit('filter')",
            "Filter",
            show=False,
            id="logs-filter",
            tooltip="Filter lines",
        ),
        Binding(
            "S",
            "edit('search')",
            "Search",
            show=False,
            id="logs-search",
            tooltip="Highlight matches",
        ),
        Binding(
            "X",
            "toggle_regex",
            "Regex",
            show=False,
            id="logs-regex",
            tooltip="Filter and search by regular expression",
        ),
        Binding(
            "v",
            "toggle_invert",
            "Invert",
            show=False,
            id="logs-invert",
            tooltip="Show lines that do not match the filter",
        ),
        Binding(
            "p", "toggle_pause", "Pause", show=False, id="logs-pause", tooltip="Pause or resume"
        ),
        Binding(
            "t",
            "toggle_timestamps",
            "Timestamps",
            show=False,
            id="logs-timestamps",
            tooltip="Show or hide timestamps",
        ),
        Binding(
            "W",
            "toggle_wrap",
            "Wrap",
            show=False,
            id="logs-wrap",
            tooltip="Wrap long lines at the pane's width, or cut them (scroll sideways)",
        ),
        Binding(
            "H",
            "toggle_probes",
            "Probes",
            show=False,
            id="logs-probes",
            tooltip="Show or hide the console's own health probes (hidden by default)",
        ),
        Binding(
            "G,end", "jump_end", "End", show=False, id="logs-end", tooltip="Jump to the newest line"
        ),
        Binding(
            "escape",
            "close_input",
            "Close",
            show=False,
            id="logs-close-input",
            tooltip="Close the filter/search box",
        ),
    ]
    DEFAULT_CSS = """
    LogsPane { height: 1fr; }
    LogsPane > #logs-status { height: 1; color: $text-muted; }
    LogsPane > #logs-status.-down { color: $error; }
    LogsPane > Input { display: none; height: 3; }
    LogsPane > Input.-open { display: block; }
    LogsPane > Log { height: 1fr; }
    LogsPane.-empty { height: auto; min-height: 1; }
    LogsPane.-empty > Log { display: none; }
    """

    def __init__(
        self, sources: LiveSources, *, services: bool = False, **kwargs: Unpack[WidgetOptions]
    ) -> None:
        super().__init__(**kwargs)
        self.add_class("-empty")  # nothing followed: one line, the rest goes to the table
        self.sources = sources
        self.services = services
        """What `f` follows here: an orchestrator's services (lines name their task)."""
        self.task_width = 0
        """The task column's width: the longest task name seen (0: no task column)."""
        self.buffer = LogBuffer(sources.settings.log_buffer_lines)
        self.filter_text = ""
        self.search_text = ""
        self.regex = False
        self.invert = False
        self.paused = False
        self.timestamps = True
        self.wrap = False
        """Long lines wrap at the view's width (continuations indented past the prefix)."""
        self._wrapped_at = 0
        """The width the view's lines were wrapped at."""
        self.hide_probes = True
        """The console's own requests (runbook.sources.probe) stay out of the view, counted."""
        self.probe_lines = 0
        self.following: tuple[str, ...] = ()
        self.engine_note = ""
        self.skipped_at = ""
        """When the view last skipped ahead to keep up with a flood (HH:MM:SS)."""
        self._follower: LogFollower | None = None
        self._pending: list[LogLine] = []
        self._flush_armed = False
        """A flush is due (`FLUSH_S` after the first line of a burst)."""
        self._filter = LogFilter("")
        self._highlighter = SearchHighlighter()
        self._editing = "filter"
        self._status_shown = ""
        """The status line as last drawn."""
        self._end_at: float | None = None
        """Where the view's end was when it last followed the newest line (None: follow)."""
        self._utc_offset_s = time.localtime().tm_gmtoff
        """Log timestamps come in UTC; they are shown in local time like the other panes."""

    def compose(self) -> ComposeResult:
        what = "service" if self.services else "container"
        yield Static(
            f"No {what} followed: press f on a {what} row.", id="logs-status", markup=False
        )
        yield KeyHint(type(self))
        yield Input(placeholder="filter", id="logs-input")
        log = Log(max_lines=self.buffer.lines.maxlen, highlight=True, id="logs-view")
        log.highlighter = self._highlighter
        yield log

    @property
    def view(self) -> Log:
        return self.query_one("#logs-view", Log)

    def on_mount(self) -> None:
        self.sources.engine.subscribe(lambda event: self.post_message(DockerEventArrived(event)))
        self.sources.engine.start()

    def follow(self, containers: tuple[str, ...], *, services: bool = False) -> None:
        """Follow these containers (or services) from now on (the previous ones stop)."""
        if self._follower is not None:
            self._follower.stop()
        self.following = containers
        self.set_class(not containers, "-empty")
        self.skipped_at = ""
        self.buffer.lines.clear()
        self.probe_lines = 0
        self._pending.clear()
        self.view.clear()
        self.task_width = 0
        if services:
            self._follower = self.sources.follow_services(list(containers))
        else:
            self._follower = self.sources.follow(list(containers))
        self._run_follower(self._follower)
        self._rebuild()

    @work(
        thread=True,
        group="docker-logs",
        exclusive=True,
        exit_on_error=False,
        description="Following container logs",
    )
    def _run_follower(self, follower: LogFollower) -> None:
        follower.run(
            lambda batch: (
                self.post_message(LogLinesArrived(batch.lines))
                if isinstance(batch, LogBatch)
                else None
            )
        )

    @on(LogLinesArrived)
    def _lines(self, message: LogLinesArrived) -> None:
        self.buffer.extend(message.lines)
        for line in message.lines:
            if line.kind == "skip":  # its marker scrolls away at once in a flood: say so here
                self.skipped_at = line.local_clock(self._utc_offset_s)[:8]
        self.probe_lines += sum(1 for line in message.lines if is_probe_line(line.text))
        widest = max((len(line.task) for line in message.lines), default=0)
        if widest > self.task_width:
            # The task column widens: every line is redrawn from the buffer (these too),
            # so earlier lines line up with the new ones.
            self.task_width = widest
            if not self.paused:
                self._rebuild()
            return
        if not self.paused:
            self._pending.extend(message.lines)
            if not self._flush_armed:
                # One timer per burst, none while nothing arrives (an idle pane never wakes).
                self._flush_armed = True
                self.set_timer(FLUSH_S, self._flush)

    @on(DockerEventArrived)
    def _engine(self, message: DockerEventArrived) -> None:
        if isinstance(message.event, EngineChanged):
            state = message.event.state
            self.engine_note = "" if state.reachable else state.describe()
            self._update_status()

    def _flush(self) -> None:
        """New lines to the view, which follows the newest through any burst: only the
        last screenful-and-more of a burst is drawn (the rest is in the buffer), and the
        view goes to the end unless the operator scrolled back or paused."""
        self._flush_armed = False
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        view = self.view
        keep = view.max_lines or len(lines)
        # Newest first, and only as many as the view keeps: a flood's older lines are
        # never formatted just to be pruned.
        newest: list[str] = []
        for line in reversed(lines):
            if self._shows(line):
                newest.extend(reversed(self._wrapped(self._format(line))))
                if len(newest) >= keep:
                    break
        following = self.following_end
        view.write_lines(reversed(newest), scroll_end=False)
        if following:
            view.scroll_end(animate=False, immediate=True, x_axis=False)
            self._end_at = view.max_scroll_y
        self._update_status()

    def _shows(self, line: LogLine) -> bool:
        if self.hide_probes and line.kind == "line" and is_probe_line(line.text):
            return False
        return self._filter.matches(line)

    @property
    def following_end(self) -> bool:
        """Whether the view follows the newest line: it does unless the operator scrolled
        back since it last went to the end (lines pruned at the top never stop it)."""
        view = self.view
        return self._end_at is None or view.scroll_y >= min(self._end_at, view.max_scroll_y)

    def _format(self, line: LogLine) -> str:
        """One line as shown: a container's escapes and controls never reach the terminal."""
        text = neutralise(line.text)
        who = f"{line.container} " if len(self.following) > 1 else ""
        stamp = f"{line.local_clock(self._utc_offset_s)} " if self.timestamps else ""
        if self.task_width:
            who += f"{line.task:<{self.task_width}} "
        if line.kind in ("gap", "skip"):
            return f"{stamp}{who}──── {text} ────"
        if line.kind == "info":
            return f"{stamp}{who}· {text}"
        return f"{stamp}{who}{text}"

    def _rebuild(self) -> None:
        self._pending.clear()
        self._highlighter.prefix_width = (
            (13 if self.timestamps else 0)
            + (
                max((len(name) + 1 for name in self.following), default=0)
                if len(self.following) > 1
                else 0
            )
            + (self.task_width + 1 if self.task_width else 0)
        )
        view = self.view
        view.clear()
        self._end_at = None
        self._wrapped_at = self._wrap_width()
        view.write_lines(
            piece
            for line in self.buffer.lines
            if self._shows(line)
            for piece in self._wrapped(self._format(line))
        )
        self._update_status()

    def _wrap_width(self) -> int:
        return max(20, self.view.scrollable_content_region.width or self.size.width - 1)

    def _wrapped(self, text: str) -> list[str]:
        """One formatted line as the view's lines: itself, or wrapped at the view's width."""
        width = self._wrap_width()
        if not self.wrap or cell_len(text) <= width:
            return [text]
        indent = min(self._highlighter.prefix_width, width // 2)
        first, *rest = chop_cells(text, width)
        pieces = [first]
        for chunk in chop_cells("".join(rest), width - indent) if rest else []:
            pieces.append(" " * indent + chunk)
        return pieces

    def on_resize(self) -> None:
        if self.wrap and self.is_mounted and self._wrap_width() != self._wrapped_at:
            self._rebuild()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._rebuild()

    def _update_status(self) -> None:
        status = self.query_one("#logs-status", Static)
        status.set_class(bool(self.engine_note), "-down")
        text = self.engine_note or self._status_text()
        if text != self._status_shown:  # every flush asks; repaint only a change
            self._status_shown = text
            status.update(text)

    def _status_text(self) -> str:
        what = "service" if self.services else "container"
        parts = [", ".join(self.following) if self.following else f"no {what} followed"]
        if self.filter_text:
            mode = "regex" if self.regex else "text"
            parts.append(f"{'not ' if self.invert else ''}{mode} /{self.filter_text}/")
        if self._filter.error:
            parts.append(f"bad regex: {self._filter.error}")
        if self.search_text:
            parts.append(f"search {self.search_text!r}")
        if not self.hide_probes:
            parts.append("console probes shown (H hides)")
        elif self.probe_lines:
            parts.append(f"{self.probe_lines} console probe line(s) hidden (H shows)")
        if self.wrap:
            parts.append("wrap")
        if self.paused:
            parts.append("PAUSED (p resumes)")
        elif self.is_mounted and not self.following_end:
            parts.append("scrolled back: G follows the newest line")
        if self.skipped_at:
            parts.append(f"skipped ahead at {self.skipped_at} to keep up")
        return " · ".join(parts)

    def _apply_filters(self) -> None:
        self._filter = LogFilter(self.filter_text, regex=self.regex, invert=self.invert)
        self._highlighter.search = LogFilter(self.search_text, regex=self.regex)
        self._rebuild()

    def action_edit(self, which: str) -> None:
        self._editing = which
        box = self.query_one("#logs-input", Input)
        box.placeholder = "filter (X: regex, v: invert)" if which == "filter" else "search"
        box.value = self.filter_text if which == "filter" else self.search_text
        box.add_class("-open")
        box.focus()

    @on(Input.Changed, "#logs-input")
    def _typed(self, event: Input.Changed) -> None:
        if self._editing == "filter":
            self.filter_text = event.value
        else:
            self.search_text = event.value
        self._apply_filters()

    @on(Input.Submitted, "#logs-input")
    def _submitted(self) -> None:
        self.action_close_input()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_input":  # with no box open, Escape goes on to the screen
            return self.query_one("#logs-input", Input).has_class("-open")
        return True

    def action_close_input(self) -> None:
        box = self.query_one("#logs-input", Input)
        box.remove_class("-open")
        self.view.focus()

    def action_toggle_regex(self) -> None:
        self.regex = not self.regex
        self._apply_filters()

    def action_toggle_invert(self) -> None:
        self.invert = not self.invert
        self._apply_filters()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self._pending.clear()  # kept in the buffer; shown again on resume
        else:
            self._rebuild()
            self.view.scroll_end(animate=False)
        self._update_status()

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps
        self._rebuild()

    def action_toggle_probes(self) -> None:
        self.hide_probes = not self.hide_probes
        self._rebuild()

    def action_jump_end(self) -> None:
        self.view.scroll_end(animate=False, immediate=True)
        self._end_at = None  # following the newest line again
        self._update_status()
