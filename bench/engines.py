"""Containers pane over 1, 2 and 3 engines of 20 containers each: time until every row
is listed and has a CPU figure, and how often a row's stats refresh; then the same
refresh for the other engines while one engine is stalled (SIGSTOP).

    .venv/bin/python bench/engines.py            (needs root and dockerd: private engines)

The engines are private dockerds (tests/integration/engines.py), so the shared engine
is only read from (the test image is saved from it). The app runs headless in this
process (Textual's run_test): the figures are the pane's pipeline, not terminal output.
Target (issue 15): fan-out does not multiply the refresh time. Figures are printed, not
asserted.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "integration"))

from engines import PrivateEngine, start_engines  # noqa: E402
from live_common import image  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402

from console.panes.containers import ContainersPane  # noqa: E402
from console.panes.messages import StatsArrived  # noqa: E402
from runbook.document.parser import load  # noqa: E402
from runbook.sources.live import LiveSources  # noqa: E402
from runbook.sources.settings import SourceSettings  # noqa: E402

PER_ENGINE = int(os.environ.get("BENCH_CONTAINERS", "20"))
WINDOW_S = float(os.environ.get("BENCH_WINDOW_S", "12"))


SEED = REPO / "tests" / "fixtures" / "seed_runbook.md"


class PaneApp(App[None]):
    def __init__(self, settings: SourceSettings) -> None:
        super().__init__()
        self.sources = LiveSources.create(load(str(SEED)), settings)

    def compose(self) -> ComposeResult:
        yield ContainersPane(self.sources)

    def on_unmount(self) -> None:
        self.sources.stop()


class Refreshes:
    """When each row's stats last arrived, and the gaps between arrivals."""

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self.gaps: dict[str, list[float]] = defaultdict(list)
        self.host_of: dict[str, str] = {}

    def hook(self, message: object) -> None:
        if not isinstance(message, StatsArrived):
            return
        now = time.monotonic()
        for sample in message.sample.stats:
            self.host_of[sample.id] = message.sample.host
            if sample.id in self.last:
                self.gaps[sample.id].append(now - self.last[sample.id])
            self.last[sample.id] = now

    def reset(self) -> None:
        self.last.clear()
        self.gaps.clear()

    def summary(self, hosts: set[str] | None = None) -> str:
        gaps = [
            gap
            for cid, values in self.gaps.items()
            if hosts is None or self.host_of.get(cid) in hosts
            for gap in values
        ]
        if not gaps:
            return "no refresh"
        gaps.sort()
        p95 = gaps[min(len(gaps) - 1, int(len(gaps) * 0.95))]
        return f"median {statistics.median(gaps):.2f} s, p95 {p95:.2f} s ({len(gaps)} refreshes)"


async def measure(engines: list[PrivateEngine], token: str, stall: PrivateEngine | None) -> str:
    settings = SourceSettings(
        docker_hosts=tuple(engine.url for engine in engines),
        containers=token,
        base_url="http://127.0.0.1:9",
    )
    refreshes = Refreshes()
    app = PaneApp(settings)
    started = time.monotonic()
    expected = PER_ENGINE * len(engines)
    async with app.run_test(size=(160, expected + 30), message_hook=refreshes.hook) as pilot:
        pane = app.query_one(ContainersPane)
        listed = filled = None
        while time.monotonic() - started < 60:
            await pilot.pause(0.05)
            if listed is None and len(pane.containers) >= expected:
                listed = time.monotonic() - started
            if listed is not None and all(
                (sample := pane.stats.get(cid)) is not None and sample.cpu_percent is not None
                for cid in pane.containers
            ):
                filled = time.monotonic() - started
                break
        refreshes.reset()
        if stall is not None:
            stall.stall()
        try:
            window_end = time.monotonic() + WINDOW_S
            while time.monotonic() < window_end:
                await pilot.pause(0.1)
        finally:
            if stall is not None:
                stall.resume()
    others = {engine.url for engine in engines if engine is not stall}
    listed_text = f"{listed:.2f} s" if listed is not None else "not within 60 s"
    filled_text = f"{filled:.2f} s" if filled is not None else "not within 60 s"
    label = f"{len(engines)} engine{'s' if len(engines) > 1 else ''} x {PER_ENGINE}"
    if stall is not None:
        label += f", {stall.name} stalled"
    return (
        f"{label:<28} listed {listed_text:>8}  every row has CPU {filled_text:>8}  "
        f"row refresh over {WINDOW_S:.0f} s: {refreshes.summary(others)}"
    )


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("bench/engines.py starts private dockerds: run it as root")
    token = f"rbc-bench-eng-{uuid.uuid4().hex[:6]}"
    engines = start_engines(image(), ["e1", "e2", "e3"], tcp=set())
    try:
        for engine in engines:
            for number in range(PER_ENGINE):
                engine.run(image(), f"{token}-{engine.name}-{number:02d}")
        for count in (1, 2, 3):
            print(asyncio.run(measure(engines[:count], token, None)), flush=True)
        print(asyncio.run(measure(engines, token, engines[2])), flush=True)
    finally:
        for engine in engines:
            engine.stop()


if __name__ == "__main__":
    main()
