"""The top bar: runbook name, environment, session state, clock and the console's CPU use."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, Unpack

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import Reactive, reactive
from textual.widgets import Label, Static

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions


class StatusFields(TypedDict, total=False):
    """The status bar's reactives, set together by `StatusBar.configure`."""

    runbook_title: str
    environment: str
    production: bool
    session_state: str
    running: bool
    mode: str
    host_text: str
    clock_text: str
    cpu_text: str


class StatusBar(Horizontal):
    """One line of context that is always on screen."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    StatusBar Label { padding: 0 1; height: 1; }
    StatusBar #status-title {
        width: 1fr; text-style: bold; text-overflow: ellipsis; text-wrap: nowrap;
    }
    StatusBar #status-env { background: $success 40%; color: $text; text-style: bold; }
    StatusBar #status-env.-production {
        background: $error; color: $text; text-style: bold reverse;
    }
    StatusBar #status-session { color: $text-muted; }
    StatusBar #status-session.-running { color: $warning; text-style: bold; }
    StatusBar #status-mode { background: $warning 40%; }
    StatusBar #status-clock { color: $text-muted; }
    StatusBar #status-host { color: $text-muted; }
    """

    runbook_title: reactive[str] = reactive("")
    environment: reactive[str] = reactive("")
    production: reactive[bool] = reactive(False)
    session_state: reactive[str] = reactive("new session")
    running: reactive[bool] = reactive(False)
    mode: reactive[str] = reactive("")
    """"read-only", "dry-run" or "" for normal operation."""
    host_text: reactive[str] = reactive("")
    """user@host, shown where there is room: over SSH it says which box this is."""
    clock_text: reactive[str] = reactive("")
    cpu_text: reactive[str] = reactive("")

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self._texts: dict[str, str] = {}
        """What each label shows, by selector."""

    def compose(self) -> ComposeResult:
        yield Label(id="status-title", markup=False)
        yield Label(id="status-mode", markup=False)
        yield Label(id="status-env", markup=False)
        yield Label(id="status-session", markup=False)
        yield Label(id="status-host", markup=False)
        yield Label(id="status-clock", markup=False)

    def on_mount(self) -> None:
        self._refresh_all()

    def configure(self, **values: Unpack[StatusFields]) -> None:
        """Set several fields with one redraw."""
        for name, value in values.items():
            field: Reactive[object] = getattr(StatusBar, name)
            self.set_reactive(field, value)
        self._refresh_all()

    def _refresh_all(self) -> None:
        self._put("#status-title", self.runbook_title)
        env = self._put(
            "#status-env", self.environment.upper() if self.production else self.environment
        )
        env.set_class(self.production, "-production")
        mode = self._put("#status-mode", self.mode)
        mode.display = bool(self.mode)
        session = self._put("#status-session", self.session_state)
        session.set_class(self.running, "-running")
        self._put("#status-host", self.host_text)
        self._put("#status-clock", " ".join(p for p in (self.clock_text, self.cpu_text) if p))

    def _put(self, selector: str, text: str) -> Label:
        """Write a label only when its text changed, and lay the bar out again only when its
        width did: the clock and the CPU figure change every few seconds, and a layout
        repaints far more than one label."""
        label = self.query_one(selector, Label)
        before = self._texts.get(selector)
        if before != text:
            self._texts[selector] = text
            label.update(text, layout=before is None or cell_len(before) != cell_len(text))
        return label

    def watch_runbook_title(self) -> None:
        if self.is_mounted:
            self._refresh_all()

    watch_environment = watch_production = watch_session_state = watch_running = watch_runbook_title
    watch_mode = watch_clock_text = watch_cpu_text = watch_host_text = watch_runbook_title


class ProductionBanner(Static):
    """A full-width warning shown only while the environment is production."""

    DEFAULT_CSS = """
    ProductionBanner {
        height: 1;
        width: 1fr;
        background: $error;
        color: $text;
        text-style: bold;
        content-align: center middle;
        display: none;
    }
    ProductionBanner.-shown { display: block; }
    """
