"""The containers pane asks for stats of the rows on screen only, and repaints nothing when
a new sample shows the same figures."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from textual.app import App, ComposeResult

from console.panes.containers import ContainersPane
from console.panes.messages import DockerEventArrived, StatsArrived
from runbook.document.parser import load
from runbook.sources.docker.containers import ContainerChanged, ContainerInfo, ContainersListed
from runbook.sources.docker.engine import EngineChanged, EngineState
from runbook.sources.docker.stats import ContainerStats, StatsSampled
from runbook.sources.live import LiveSources
from runbook.sources.settings import SourceSettings
from tests.tui.idle_fleet import IdleStats, idle_fleet
from tests.waiting import wait_until_async as until

SEED = Path(__file__).parents[1] / "fixtures" / "seed_runbook.md"
HOST = "unix:///tmp/rbc-none/a.sock"


class Harness(App[None]):
    def __init__(self) -> None:
        super().__init__()
        # With Prometheus the gauges need no Docker stats: only the rows on screen are read.
        settings = SourceSettings(
            docker_host=HOST, base_url="http://service.test", prometheus_url="http://prom.test"
        )
        self.sources = LiveSources.create(load(str(SEED)), settings)
        self.stats = IdleStats()
        self.sources.fleet = idle_fleet(HOST, stats=self.stats)

    def compose(self) -> ComposeResult:
        yield ContainersPane(self.sources)


def row(number: int, pid: int = 0) -> ContainerInfo:
    return ContainerInfo(
        f"id{number:03d}",
        f"web-{number:03d}",
        "img",
        "running",
        "",
        time.time() - 60,
        0,
        pid=pid or 1000 + number,
    )


def sample(container_id: str, cpu: float) -> StatsSampled:
    return StatsSampled((ContainerStats(container_id, cpu, 10, 100, None, None, time.time()),))


async def hundred_rows(app: Harness) -> ContainersPane:
    """The pane with 100 running rows listed, once it has asked for some rows' stats."""
    pane = app.query_one(ContainersPane)
    pane.post_message(DockerEventArrived(EngineChanged(EngineState(True, time.time()), HOST)))
    pane.post_message(DockerEventArrived(ContainersListed(tuple(row(n) for n in range(100)))))
    await until(lambda: pane.table.row_count == 100)
    await until(lambda: bool(app.stats.watched) and len(app.stats.watched[-1]) > 0)
    return pane


async def test_stats_are_asked_for_the_rows_on_screen_only() -> None:
    app = Harness()
    async with app.run_test(size=(120, 14)) as pilot:
        pane = await hundred_rows(app)
        table = pane.table
        shown = app.stats.watched[-1]
        on_screen = table.size.height - 1  # minus the header
        assert list(shown) == [f"id{n:03d}" for n in range(on_screen)]
        assert shown["id000"] == 1000, "the pid goes along, for a local engine's cgroup"

        table.scroll_to(y=50, animate=False)
        await pilot.pause()
        await until(lambda: "id050" in app.stats.watched[-1])
        assert list(app.stats.watched[-1]) == [f"id{n:03d}" for n in range(50, 50 + on_screen)]

        # A restart gives a row a new process: it is asked for again, with the new pid.
        pane.post_message(DockerEventArrived(ContainerChanged(row(50, pid=7), "start")))
        await until(lambda: app.stats.watched[-1].get("id050") == 7)


async def test_rows_that_come_on_screen_when_the_table_grows_are_read() -> None:
    app = Harness()
    async with app.run_test(size=(120, 14)):
        pane = await hundred_rows(app)
        table = pane.table
        before = len(app.stats.watched[-1])
        # The pane keeps its size; its status line goes, and the table gets its row.
        pane.query_one("#containers-status").display = False
        await until(lambda: table.size.height - 1 > before)
        await until(lambda: len(app.stats.watched[-1]) == table.size.height - 1)
        assert list(app.stats.watched[-1]) == [f"id{n:03d}" for n in range(before + 1)]


async def test_a_sample_with_the_same_figures_repaints_nothing() -> None:
    app = Harness()
    async with app.run_test(size=(120, 14)):
        pane = app.query_one(ContainersPane)
        table = pane.table
        pane.post_message(DockerEventArrived(EngineChanged(EngineState(True, time.time()), HOST)))
        pane.post_message(DockerEventArrived(ContainersListed((row(1), row(2)))))
        await until(lambda: table.row_count == 2)
        first = sample("id001", 1.04)
        pane.post_message(StatsArrived(first))
        await until(lambda: table.get_cell("id001", "cpu") == "1.0")
        painted = table._update_count

        # 1.01 shows as 1.0 too: a new sample, the same cell text.
        same = replace(first, stats=(replace(first.stats[0], cpu_percent=1.01, at=time.time()),))
        pane.post_message(StatsArrived(same))
        await until(lambda: pane.stats["id001"].cpu_percent == 1.01)
        assert table._update_count == painted, "an unchanged cell was written"

        pane.post_message(StatsArrived(sample("id001", 2.0)))
        await until(lambda: table.get_cell("id001", "cpu") == "2.0")
        assert table._update_count == painted + 1, "only the CPU cell changed"
