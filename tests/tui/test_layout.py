"""Where the live panes go (beside the checklist from 120 columns, the live view `w`), the
containers table's sort keys and filter, the logs pane's wrap and height, and the output
pane tied to the highlighted step."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from console.panes.containers import ContainersPane
from console.panes.logs import LogsPane
from console.panes.messages import DockerEventArrived, LogLinesArrived, StatsArrived
from console.screens.main import MainScreen
from console.widgets.step_list import StepList
from console.widgets.step_output import StepOutput
from runbook.sources.docker.containers import ContainerChanged, ContainersListed
from runbook.sources.docker.stats import ContainerStats, StatsSampled
from runbook.sources.logs import LogLine
from tests.tui.conftest import MakeConsole
from tests.tui.test_live_panes import container, make_app
from tests.waiting import wait_until_async as until


async def _ready(pilot, app) -> MainScreen:  # type: ignore[no-untyped-def]
    await until(lambda: app.main_screen is not None, 10, "the main screen is ready")
    await pilot.pause()
    return app.main_screen  # type: ignore[no-any-return]


async def test_live_column_beside_the_checklist_from_120_columns(
    make_console: MakeConsole,
) -> None:
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, app)
        steps, live = screen.query_one(StepList).region, screen.query_one("#live-column").region
        assert screen.has_class("-beside")
        assert live.width > 30 and live.x >= steps.right, "to the right of the checklist"
        assert live.y <= steps.y and live.bottom >= steps.bottom, "beside it, not below"
        assert screen.query_one("#tab-live").region.width == 0, "no Live tab to switch to"
        await pilot.resize_terminal(100, 40)
        await pilot.pause()
        assert not screen.has_class("-beside")
        assert screen.query_one("#live-column").region.area == 0, "behind the Live tab"
        assert screen.query_one("#tab-live").region.width > 0
        await pilot.press("3")
        await pilot.pause()
        live, steps = screen.query_one("#live-column").region, screen.query_one(StepList).region
        assert live.height > 3 and live.y > steps.bottom, "the Live tab shows it below"


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_w_opens_the_live_view_and_escape_gives_the_checklist_back(
    make_console: MakeConsole, size: tuple[int, int]
) -> None:
    app = make_console()
    async with app.run_test(size=size) as pilot:
        screen = await _ready(pilot, app)
        procedure = app.runbook.procedure("Blue-Green")
        assert procedure is not None
        screen.jump_to(procedure.key)
        await pilot.pause()
        steps = screen.query_one(StepList)
        steps.focus()
        await pilot.press("down", "down")
        highlighted, scroll_y = steps.highlighted, steps.scroll_y
        assert highlighted == 2
        await pilot.press("w")
        await pilot.pause()
        assert screen.live_view and steps.region.area == 0
        column = screen.query_one("#live-column").region
        assert column.width == size[0] and column.height >= size[1] - 6, "they fill the body"
        await pilot.press("space")  # a checklist key does nothing to a checklist out of sight
        await pilot.pause()
        assert app.progress.record(procedure.key, 3).status == "pending"
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.live_view
        assert steps.procedure is not None and steps.procedure.key == procedure.key
        assert steps.highlighted == highlighted and steps.scroll_y == scroll_y
        assert app.focused is steps
        await pilot.press("w", "w")  # w toggles back too
        await pilot.pause()
        assert not screen.live_view and app.focused is steps


async def _listed(pilot, pane: ContainersPane) -> None:  # type: ignore[no-untyped-def]
    rows = (
        container("a1", "web-blue"),
        container("b2", "db"),
        container("c3", "cache"),
    )
    pane.post_message(DockerEventArrived(ContainersListed(rows)))
    await until(lambda: pane.table.row_count == 3)
    stats = (
        ContainerStats("a1", 5.0, 300 * 2**20, 2**30, None, None, 0),
        ContainerStats("b2", 50.0, 100 * 2**20, 2**30, None, None, 0),
        ContainerStats("c3", 20.0, 900 * 2**20, 2**30, None, None, 0),
    )
    pane.post_message(StatsArrived(StatsSampled(stats)))
    await until(lambda: pane.table.get_cell("b2", "cpu") == "50.0")
    pane.table.focus()


def _names(pane: ContainersPane) -> list[str]:
    return [str(pane.table.get_cell(key, "name")) for key in pane.table.rows]


async def test_sort_keys_order_the_containers(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(140, 50)) as pilot:
        pane = app.query_one(ContainersPane)
        await _listed(pilot, pane)
        hint = str(pane.query_one(".key-hint").render())
        assert "C cpu" in hint and "M mem" in hint and "N name" in hint and "S state" in hint
        await pilot.press("C")
        assert _names(pane) == ["db", "cache", "web-blue"], "busiest first"
        await pilot.press("C")
        assert _names(pane) == ["web-blue", "cache", "db"], "again: the other way"
        await pilot.press("M")
        assert _names(pane) == ["cache", "web-blue", "db"], "largest first"
        await pilot.press("N")
        assert _names(pane) == ["cache", "db", "web-blue"]
        assert "▲" in str(pane.table.columns[next(iter(pane.table.columns))].label)
        await pilot.press("S")
        states = [str(pane.table.get_cell(key, "state")) for key in pane.table.rows]
        assert states == sorted(states)
        # The stats poller is told the rows on screen in the order they show.
        assert list(pane.table.rows) == [info.id for info in pane._ordered()]


async def test_a_container_that_appears_takes_its_place_by_name(tmp_path: Path) -> None:
    """A deploy's new container (web-green beside web-blue) shows where an operator looks
    for it, not under a hundred others at the bottom of the table."""
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(140, 50)) as pilot:
        pane = app.query_one(ContainersPane)
        await _listed(pilot, pane)
        assert _names(pane) == ["cache", "db", "web-blue"]
        for cid, name in (("d4", "web-green"), ("e5", "api")):
            pane.post_message(DockerEventArrived(ContainerChanged(container(cid, name), "start")))
            await until(lambda cid=cid: cid in pane.table.rows)
        assert _names(pane) == ["api", "cache", "db", "web-blue", "web-green"]
        await pilot.press("C")
        assert _names(pane)[:3] == ["db", "cache", "web-blue"], "a chosen sort still rules"


async def test_slash_filters_rows_and_takes_brackets_as_text(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(140, 50)) as pilot:
        pane = app.query_one(ContainersPane)
        await _listed(pilot, pane)
        await pilot.press("slash")
        box = pane.query_one("#containers-filter", Input)
        assert box.has_focus
        await pilot.press(*"[red]")
        await pilot.pause()
        assert pane.table.row_count == 0 and pane.filter_text == "[red]"
        box.value = "[b"
        await pilot.pause()
        assert pane.table.row_count == 0
        box.value = "B"  # any case, name, image or state
        await pilot.pause()
        assert sorted(_names(pane)) == ["cache", "db", "web-blue"], "every image has web-"
        box.value = "dB"
        await pilot.pause()
        assert _names(pane) == ["db"]
        await pilot.press("enter")
        assert pane.table.has_focus and not box.has_class("-open")
        # A row left out by the filter still gets its figures, shown when it comes back.
        pane.post_message(
            StatsArrived(StatsSampled((ContainerStats("c3", 7.5, 1, 2, None, None, 0),)))
        )
        await pilot.pause()
        box.value = ""
        await pilot.pause()
        assert pane.table.row_count == 3 and pane.table.get_cell("c3", "cpu") == "7.5"


async def test_empty_log_pane_takes_one_line_and_wrap_toggles(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 50)) as pilot:
        logs = app.query_one(LogsPane)
        await pilot.pause()
        assert logs.region.height == 1, "nothing followed: one line"
        table_height = app.query_one(ContainersPane).region.height
        logs.following = ("web",)
        logs.remove_class("-empty")
        await pilot.pause()
        assert logs.region.height > 1
        assert app.query_one(ContainersPane).region.height < table_height
        long = "GET /orders " + "x" * 150 + " X-Version: v1"
        stamp = "2026-01-17T03:12:00.000000000Z"
        logs.post_message(LogLinesArrived((LogLine("web", stamp, long),)))
        await until(lambda: logs.view.line_count == 1)
        assert logs.view.lines[0].endswith("X-Version: v1"), "cut, scrolled sideways"
        logs.view.focus()
        await pilot.press("W")
        await until(lambda: logs.view.line_count > 1)
        width = logs.view.scrollable_content_region.width
        assert all(len(line) <= width for line in logs.view.lines)
        joined = "".join("".join(line.split()) for line in logs.view.lines)
        assert joined.endswith("X-Version:v1")
        assert "wrap" in logs._status_text()
        await pilot.press("W")
        await until(lambda: logs.view.line_count == 1)


async def test_output_pane_shows_the_highlighted_steps_last_run(
    make_console: MakeConsole,
) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _ready(pilot, app)
        procedure = app.runbook.procedure("Blue-Green")
        assert procedure is not None
        screen.jump_to(procedure.key)
        await pilot.pause()
        key = procedure.key
        long = "HTTP/1.1 200 OK " + "-" * 90 + " X-Version: v1"
        app.progress.set_status(key, 1, "running")
        app.progress.add_output(key, 1, [("stdout", long)])
        app.progress.set_status(key, 1, "done")
        screen.refresh_step(key, 1)
        output = screen.query_one(StepOutput)
        await pilot.press("2")
        await pilot.pause()
        title = str(output.query_one("#output-title").render())
        assert "Step 1 · last run: done" in title
        shown = [strip.text for strip in output.log_widget.lines]
        assert len(shown) > 1, "the long line wraps"
        assert all(len(text.rstrip()) <= 80 for text in shown)
        assert "X-Version: v1" in "".join(shown)
        steps = screen.query_one(StepList)
        steps.focus()
        await pilot.press("down")
        await pilot.pause()
        assert "Step 2 not run yet" in str(output.query_one("#output-title").render())
        assert not output.log_widget.lines, "step 1's output stays with step 1"
        # A run of step 1 writing now does not land under step 2.
        screen.write_output([("stdout", "late line of step 1")], (key, 1))
        await pilot.pause()
        assert not output.log_widget.lines
        await pilot.press("up")
        await pilot.pause()
        assert "X-Version: v1" in "".join(strip.text for strip in output.log_widget.lines)
