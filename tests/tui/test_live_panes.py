"""Live panes driven by posted source events (no engine, no network): rendering, quiet
cell updates, gauge states and the procedure offer, health rows, action requests."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
from textual.app import App, ComposeResult
from textual.message import Message

from console.panes.containers import ContainersPane
from console.panes.dock import LivePanes
from console.panes.gauges import GaugesPane
from console.panes.health import HealthPane
from console.panes.messages import DockerEventArrived, ProcedureOpenRequested, StatsArrived
from console.panes.quiet import Line, QuietTable
from runbook.document.parser import load
from runbook.model import Runbook
from runbook.sources.docker.containers import ContainerInfo, ContainersListed
from runbook.sources.docker.stats import ContainerStats, StatsSampled
from runbook.sources.gauges import Reading
from runbook.sources.live import LiveSources
from runbook.sources.settings import SourceSettings
from tests.waiting import wait_until_async as until

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed_runbook.md"


class FakePrometheus:
    name = "prometheus http://prom.test"

    def __init__(self) -> None:
        self.values: dict[str, float | None] = {}
        self.error = ""

    def read(self, thresholds: Any) -> list[Reading]:
        now = time.time()
        if self.error:
            return [Reading(t.metric, None, self.name, now, self.error) for t in thresholds]
        return [Reading(t.metric, self.values.get(t.metric), self.name, now) for t in thresholds]

    def close(self) -> None:
        pass


def health_handler(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/health":
        return httpx.Response(200, json={"status": "healthy"})
    if request.url.path == "/ready":
        return httpx.Response(503)
    return httpx.Response(200, text="# metrics")


class Harness(App[None]):
    def __init__(self, runbook: Runbook, sources: LiveSources, settings: SourceSettings) -> None:
        super().__init__()
        self.runbook, self.sources, self.settings = runbook, sources, settings

    def compose(self) -> ComposeResult:
        yield LivePanes(self.runbook, self.settings, self.sources)


def make_app(tmp_path: Path) -> tuple[Harness, FakePrometheus]:
    runbook = load(str(SEED))
    settings = SourceSettings(
        docker_host=f"unix://{tmp_path}/no-docker.sock",
        base_url="http://service.test",
        prometheus_url="http://prom.test",
        prometheus_interval_s=0.2,
        health_interval_s=0.2,
    )
    sources = LiveSources.create(runbook, settings)
    fake = FakePrometheus()
    sources.prometheus = fake  # type: ignore[assignment]
    sources.prober.client_factory = lambda: httpx.AsyncClient(
        transport=httpx.MockTransport(health_handler)
    )
    return Harness(runbook, sources, settings), fake


def container(cid: str, name: str, state: str = "running") -> ContainerInfo:
    return ContainerInfo(cid, name, "monkeytown-web:v2", state, "healthy", time.time() - 120, 1)


async def test_rows_from_events_stats_only_rewrite_changed_cells(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(140, 50)) as pilot:
        pane = app.query_one(ContainersPane)
        await until(
            lambda: "unreachable since" in str(pane.query_one("#containers-status").render())
        )
        assert "no-docker.sock does not exist" in str(app.query_one("#live-problem").render())
        pane.post_message(
            DockerEventArrived(
                ContainersListed((container("a1", "web-blue"), container("b2", "db")))
            )
        )
        await pilot.pause()
        table = pane.table
        assert table.row_count == 2
        assert table.get_cell("a1", "name") == "web-blue" and table.get_cell("a1", "up") == "2m"
        writes: list[tuple[str, str, str]] = []
        original = QuietTable.set_cell

        def spy(self: QuietTable, row: str, column: str, value: str) -> None:
            writes.append((row, column, value))
            original(self, row, column, value)

        QuietTable.set_cell = spy  # type: ignore[method-assign]
        try:
            sample = ContainerStats("a1", 12.5, 50 * 2**20, 256 * 2**20, None, None, 0)
            pane.post_message(StatsArrived(StatsSampled((sample,))))
            await pilot.pause()
            assert table.get_cell("a1", "cpu") == "12.5"
            assert table.get_cell("a1", "memory") == "50.0M/256M"
            first = len(writes)
            pane.post_message(StatsArrived(StatsSampled((sample,))))  # nothing changed
            await pilot.pause()
            assert len(writes) == first
        finally:
            QuietTable.set_cell = original  # type: ignore[method-assign]


async def test_gauges_states_no_zero_and_procedure_offer(tmp_path: Path) -> None:
    app, fake = make_app(tmp_path)
    opened: list[Message] = []
    async with app.run_test(size=(140, 50), message_hook=opened.append) as pilot:
        gauges = app.query_one(GaugesPane)
        await until(lambda: gauges.source_name == fake.name)
        assert all(v.state == "no-data" and v.value_text() == "no data" for v in gauges.values)
        fake.values = {"Memory Usage": 97.0, "CPU Usage": 20.0}
        await until(lambda: gauges.values[1].state == "critical")
        assert gauges.values[0].state == "ok"
        assert gauges.values[1].procedure is not None
        assert "Manual Rollback" in gauges.values[1].procedure
        gauges.focus()
        await pilot.press("down", "o")
        requests = [m for m in opened if isinstance(m, ProcedureOpenRequested)]
        assert requests and requests[-1].procedure_key == gauges.values[1].procedure


async def test_an_unreachable_source_shows_no_number(tmp_path: Path) -> None:
    app, fake = make_app(tmp_path)
    async with app.run_test(size=(140, 50)):
        gauges = app.query_one(GaugesPane)
        fake.values = {"Memory Usage": 0.0, "CPU Usage": 97.0}
        await until(lambda: gauges.values[0].state == "critical")
        fake.error = "Prometheus refused the connection"
        await until(lambda: gauges.values[0].state == "stale")
        rows = [row.render().plain for row in gauges.query(Line)]
        assert all("unreachable since" in row for row in rows[:2]), rows
        assert not any("97.0" in row or "0.0 %" in row for row in rows), rows
        assert "Prometheus refused the connection" in rows[0]


async def test_prometheus_failing_from_the_start_says_so_in_the_title(tmp_path: Path) -> None:
    app, fake = make_app(tmp_path)
    fake.error = "Prometheus refused the connection"
    async with app.run_test(size=(140, 50)):
        gauges = app.query_one(GaugesPane)
        title = lambda: str(gauges.query_one("#gauges-title").render())  # noqa: E731
        await until(lambda: "unreachable" in title())
        assert title().startswith("Gauges · Prometheus unreachable since ")
        rows = [row.render().plain for row in gauges.query(Line)]
        assert all("unreachable since" in row and "no data" not in row for row in rows), rows
        fake.error = ""
        fake.values = {"CPU Usage": 12.0}
        await until(lambda: "unreachable" not in title())
        assert title() == f"Gauges · {fake.name}"


async def test_health_rows(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(140, 50)):
        pane = app.query_one(HealthPane)
        await until(lambda: len(pane._texts) == 3)
        texts = pane._texts
        assert texts["/health"].startswith("✔") and texts["/metrics"].startswith("✔")
        assert texts["/ready"].startswith("✘") and "expected 200, got 503" in texts["/ready"]


def test_search_highlight_marks_matches_after_the_timestamp() -> None:
    from rich.text import Text

    from console.panes.logs import SearchHighlighter
    from runbook.sources.logs import LogFilter

    highlighter = SearchHighlighter()
    highlighter.prefix_width = 13
    highlighter.search = LogFilter("err")
    text = Text("00:00:01.000 GET /x error err")
    highlighter.highlight(text)
    spans = [(span.start, span.end, str(span.style)) for span in text.spans]
    assert (0, 13, "dim") in spans
    assert (20, 23, "reverse bold") in spans and (26, 29, "reverse bold") in spans


async def test_follow_and_add_containers(tmp_path: Path) -> None:
    from console.panes.logs import LogsPane

    app, _ = make_app(tmp_path)
    async with app.run_test(size=(140, 50)) as pilot:
        pane = app.query_one(ContainersPane)
        pane.post_message(
            DockerEventArrived(
                ContainersListed((container("a1", "web-blue"), container("b2", "db")))
            )
        )
        await pilot.pause()
        pane.table.focus()
        await pilot.press("f")
        logs = app.query_one(LogsPane)
        await until(lambda: logs.following == ("db",) or logs.following == ("web-blue",))
        first = logs.following
        await pilot.press("down" if first == ("db",) else "up", "F")
        await until(lambda: len(logs.following) == 2)
        assert logs.following[0] == first[0]


async def test_short_dock_shows_one_line_per_gauge(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        gauges = app.query_one(GaugesPane)
        await pilot.pause()
        assert gauges.compact
        assert all(row.size.height == 1 for row in gauges.query(".gauge"))
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.pause()
        assert not app.query_one(GaugesPane).compact


async def test_container_actions_are_requests_the_panes_do_not_run(tmp_path: Path) -> None:
    """The console's step runner runs them (tests/tui/test_runner.py); the panes only ask."""
    from textual import on

    from console.panes.messages import ContainerActionRequested

    taken: list[ContainerActionRequested] = []

    class Console(Harness):
        @on(ContainerActionRequested)
        def _take(self, message: ContainerActionRequested) -> None:
            taken.append(message)

    app, _ = make_app(tmp_path)
    console = Console(app.runbook, app.sources, app.settings)
    async with console.run_test(size=(140, 50)) as pilot:
        pane = console.query_one(ContainersPane)
        pane.post_message(DockerEventArrived(ContainersListed((container("c3", "web"),))))
        await pilot.pause()
        pane.table.focus()
        await pilot.press("R", "I")
        await until(lambda: len(taken) == 2)
        assert type(console.screen).__name__ != "ConfirmScreen"
        assert [m.title for m in taken] == ["docker restart web", "docker inspect web"]
        engine = f"unix://{tmp_path}/no-docker.sock"  # the configured engine, named
        assert taken[0].plan.resolved_commands == (f"docker --host {engine} restart c3",)
        assert taken[0].plan.needs_confirmation and not taken[1].plan.needs_confirmation
        audit = Path(os.environ["RUNBOOK_STATE_DIR"]) / "audit.jsonl"
        assert not audit.exists(), "nothing ran"


async def test_changes_are_posted_for_an_incident_timeline(tmp_path: Path) -> None:
    from dataclasses import replace

    from console.panes.messages import ContainerRestarted, HealthChanged, ThresholdCrossed
    from runbook.sources.docker.containers import ContainerChanged

    app, fake = make_app(tmp_path)
    seen: list[Message] = []
    async with app.run_test(size=(140, 50), message_hook=seen.append) as pilot:
        pane = app.query_one(ContainersPane)
        web = container("a1", "web")
        pane.post_message(DockerEventArrived(ContainersListed((web,))))
        await pilot.pause()
        pane.post_message(DockerEventArrived(ContainerChanged(replace(web, state="exited"), "die")))
        pane.post_message(DockerEventArrived(ContainerChanged(web, "start")))
        await until(lambda: any(isinstance(m, ContainerRestarted) for m in seen))
        fake.values = {"Memory Usage": 97.0}
        await until(lambda: any(isinstance(m, ThresholdCrossed) for m in seen))
        crossed = next(m for m in seen if isinstance(m, ThresholdCrossed))
        assert (crossed.metric, crossed.state, crossed.previous) == (
            "Memory Usage",
            "critical",
            "ok",
        )
        assert not any(isinstance(m, HealthChanged) for m in seen)  # health steady so far


async def test_the_log_view_follows_the_newest_line_through_a_burst(tmp_path: Path) -> None:
    """100,000 lines at once, then one at a time: the view shows each new one (it used to
    stop following after a burst, with no sign of it)."""
    from console.panes.logs import LogsPane
    from console.panes.messages import LogLinesArrived
    from runbook.sources.logs import LogLine

    def line(n: int, text: str) -> LogLine:
        return LogLine(
            "web", f"2026-12-03T03:{n // 6000 % 60:02d}:{n // 100 % 60:02d}.{n:09d}Z", text
        )

    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        logs = app.query_one(LogsPane)
        logs.follow(("web",))
        for start in range(0, 100_000, 2_000):  # as a flooding container delivers them
            burst = tuple(line(n, f"burst {n}") for n in range(start, start + 2_000))
            logs.post_message(LogLinesArrived(burst))
            await pilot.pause()
        for tick in range(1, 4):
            logs.post_message(LogLinesArrived((line(100_000 + tick, f"tick {tick}"),)))
            await until(
                lambda tick=tick: (
                    logs.view.lines[-1:] == [logs.view.lines[-1]]
                    and logs.view.lines[-1].endswith(f"tick {tick}")
                    if logs.view.lines
                    else False
                )
            )
            await until(lambda: logs.view.is_vertical_scroll_end)
        assert len(logs.view.lines) <= logs.buffer.lines.maxlen
        assert logs.following_end

        logs.view.scroll_home(animate=False, immediate=True)  # the operator reads back
        logs.post_message(LogLinesArrived((line(100_010, "tick 10"),)))
        await until(lambda: logs.view.lines[-1].endswith("tick 10"))
        assert not logs.following_end  # the status says "scrolled back: G follows ..."
        assert logs.view.scroll_y == 0, "reading back is not interrupted"
        logs.action_jump_end()
        logs.post_message(LogLinesArrived((line(100_011, "tick 11"),)))
        await until(
            lambda: logs.view.lines[-1].endswith("tick 11") and logs.view.is_vertical_scroll_end
        )


async def test_console_probes_are_hidden_and_counted_until_shown(tmp_path: Path) -> None:
    """Real requests stay in view; the console's own probes are left out and counted, and
    `H` shows them (and hides them again)."""
    from console.panes.logs import LogsPane
    from console.panes.messages import LogLinesArrived
    from runbook.sources.logs import LogLine
    from runbook.sources.probe import PROBE_USER_AGENT

    probe = f'"GET /health HTTP/1.1" 200 - "{PROBE_USER_AGENT}"'
    real = '"GET / HTTP/1.1" 500 - "Mozilla/5.0"'
    texts = [probe, real, probe, probe, real]
    lines = tuple(
        LogLine("web", f"2026-12-03T03:00:0{n}.000000000Z", text) for n, text in enumerate(texts)
    )
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(140, 50)) as pilot:
        logs = app.query_one(LogsPane)
        logs.follow(("web",))
        logs.post_message(LogLinesArrived(lines))
        await until(lambda: len(logs.view.lines) == 2)
        assert all(line.endswith(real) for line in logs.view.lines)
        # The status line says so (unless an engine problem takes the line, as here).
        status = logs._status_text  # noqa: SLF001
        assert "3 console probe line(s) hidden (H shows)" in status()
        logs.view.focus()
        await pilot.press("H")
        await until(lambda: len(logs.view.lines) == 5)
        assert [line.endswith(real) for line in logs.view.lines] == [
            False,
            True,
            False,
            False,
            True,
        ]
        assert "console probes shown (H hides)" in status()
        await pilot.press("H")
        await until(lambda: len(logs.view.lines) == 2)


async def test_a_row_not_inspected_yet_shows_no_made_up_figures(tmp_path: Path) -> None:
    """A row from the engine's listing (`detailed` False) shows "-" for what only its
    inspect tells; its details arriving are not a restart, and its stats wait for them."""
    from dataclasses import replace

    from console.panes.messages import ContainerRestarted
    from runbook.sources.docker.containers import ContainerChanged

    app, _ = make_app(tmp_path)
    seen: list[Message] = []
    async with app.run_test(size=(140, 50), message_hook=seen.append) as pilot:
        pane = app.query_one(ContainersPane)
        listed = ContainerInfo("a1", "web", "monkeytown-web:v2", "running", detailed=False)
        pane.post_message(DockerEventArrived(ContainersListed((listed,))))
        await until(lambda: pane.table.row_count == 1)
        table = pane.table
        assert (table.get_cell("a1", "up"), table.get_cell("a1", "restarts")) == ("-", "-")
        assert "a1" not in [cid for cid, _pid in pane._visible]  # no stats without a process
        inspected = replace(container("a1", "web"), restart_count=3, pid=4242)
        pane.post_message(DockerEventArrived(ContainerChanged(inspected, "start")))
        await until(lambda: table.get_cell("a1", "restarts") == "3")
        assert table.get_cell("a1", "up") == "2m"
        assert ("a1", 4242) in pane._visible
        await pilot.pause()
        assert not any(isinstance(m, ContainerRestarted) for m in seen)
