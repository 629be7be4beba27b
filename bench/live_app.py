"""The app the live benches measure (run by bench/live_common.app_in_pty, not by hand).

live_app.py stats|logs|dashboard '{"report": "/tmp/x.json", ...}'
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App, ComposeResult  # noqa: E402

from console.panes.containers import ContainersPane  # noqa: E402
from console.panes.dock import LivePanes  # noqa: E402
from console.panes.logs import LogsPane  # noqa: E402
from console.theme import RUNBOOK_THEME  # noqa: E402
from runbook.document.parser import load  # noqa: E402
from runbook.sources.live import LiveSources  # noqa: E402
from runbook.sources.settings import SourceSettings  # noqa: E402

SEED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seed_runbook.md"


class BenchApp(App[None]):
    def __init__(self, mode: str, config: dict[str, object]) -> None:
        super().__init__()
        self.mode = mode
        self.config = config
        self.runbook = load(str(SEED))
        self.settings = SourceSettings(
            base_url=str(config.get("base_url", "http://127.0.0.1:9")),
            prometheus_interval_s=2.0,
            # The engine is shared: other people's containers come and go during a run.
            containers=str(config.get("prefix", "")),
        )
        self.sources = LiveSources.create(self.runbook, self.settings)
        self.started = time.monotonic()
        self.reported = False

    def compose(self) -> ComposeResult:
        if self.mode == "stats":
            yield ContainersPane(self.sources, id="live-containers")
        elif self.mode == "logs":
            yield LogsPane(self.sources, id="live-logs")
        else:
            yield LivePanes(self.runbook, self.settings, self.sources, id="pane-live")

    def on_mount(self) -> None:
        self.register_theme(RUNBOOK_THEME)
        self.theme = "runbook"
        if self.mode == "logs":
            logs = self.query_one(LogsPane)
            logs.follow((str(self.config["container"]),))
            logs.view.focus()
            if "report" in self.config:
                self.set_interval(1.0, self._report_follow)
        if self.mode in ("stats", "dashboard"):
            self.set_interval(0.05, self._check_filled)

    def _report_follow(self) -> None:
        view = self.query_one(LogsPane).view
        last = next((line for line in reversed(view.lines) if line), "")
        Path(str(self.config["report"])).write_text(
            json.dumps({"at_end": view.is_vertical_scroll_end, "last_line": last})
        )

    def _check_filled(self) -> None:
        if self.reported:
            return
        pane = self.query_one(ContainersPane)
        wanted = [
            c for c in pane.containers.values() if c.name.startswith(str(self.config["prefix"]))
        ]
        expected = int(str(self.config["count"]))
        if len(wanted) < expected:
            return
        if not hasattr(self, "listed_s"):
            self.listed_s = time.monotonic() - self.started
        if all(
            (sample := pane.stats.get(c.id)) is not None and sample.cpu_percent is not None
            for c in wanted
        ):
            self.reported = True
            Path(str(self.config["report"])).write_text(
                json.dumps({"filled_s": time.monotonic() - self.started, "listed_s": self.listed_s})
            )

    def on_unmount(self) -> None:
        self.sources.stop()


if __name__ == "__main__":
    BenchApp(sys.argv[1], json.loads(sys.argv[2])).run()
