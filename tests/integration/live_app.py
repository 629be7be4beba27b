"""A minimal app holding LivePanes, for the live-pane tests and the benches."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from console.panes.dock import LivePanes
from console.theme import RUNBOOK_THEME
from runbook.document.parser import load
from runbook.model import Runbook
from runbook.sources.live import LiveSources
from runbook.sources.settings import SourceSettings

SEED = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "seed_runbook.md"


class LiveHarness(App[None]):
    def __init__(self, runbook: Runbook, settings: SourceSettings) -> None:
        super().__init__()
        self.runbook = runbook
        self.settings = settings
        self.sources = LiveSources.create(runbook, settings)

    def on_mount(self) -> None:
        self.register_theme(RUNBOOK_THEME)
        self.theme = "runbook"

    def compose(self) -> ComposeResult:
        yield LivePanes(self.runbook, self.settings, self.sources, id="pane-live")


def seed_runbook() -> Runbook:
    return load(str(SEED))
