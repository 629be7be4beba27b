"""A runbook with a 100,000-line fence opens, its step shows the first lines with a count of
the rest, and every line can be read: in the detail on request, and in the confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from console.requests import ConfirmRequest
from console.screens.confirm import ConfirmScreen
from console.widgets.line_view import LineView
from console.widgets.long_text import LINES_SHOWN
from console.widgets.step_detail import StepDetail
from console.widgets.step_list import StepList
from tests.tui.conftest import MakeConsole
from tests.tui.test_fast_typing import Host
from tests.waiting import wait_until_async as until

LINES = 100_000


def huge_fence(path: Path) -> Path:
    body = "\n".join(f"   echo line {n}" for n in range(LINES))
    path.write_text(f"# Huge\n\n## Fence\n\n1. Run:\n\n   ```bash\n{body}\n   ```\n")
    return path


def rows_in_view(log: LineView) -> list[str]:
    return [log.render_line(y).text for y in range(log.scrollable_content_region.height)]


async def test_a_hundred_thousand_line_fence_opens_capped_and_shows_every_line_on_request(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    app = make_console(huge_fence(tmp_path / "huge.md"))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.main_screen is not None, what="the main screen is ready")
        screen = app.main_screen
        assert screen is not None
        row = str(screen.query_one(StepList).get_option_at_index(0).prompt)
        assert "$ echo line 0 …" in row and "echo line 1" not in row
        commands = screen.query_one("#detail-commands", Static)
        shown = str(commands.render())
        assert f"… {LINES - LINES_SHOWN:,} more lines (f shows them all)" in shown
        assert f"$ echo line {LINES_SHOWN - 1}\n" in shown and f"line {LINES_SHOWN}\n" not in shown
        detail = screen.query_one(StepDetail)
        await until(lambda: detail._markdown is not None, what="the step's text is mounted")  # noqa: SLF001
        assert "more lines" in detail._markdown_text  # noqa: SLF001
        assert len(detail._markdown_text) < 2_000  # noqa: SLF001
        assert not screen.query("#detail-full"), "the full view is made only when asked for"

        await pilot.press("enter")  # the step: focus goes to its detail
        await until(lambda: detail.has_focus, what="the detail has focus")
        await pilot.press("f")
        await until(lambda: detail.showing_full, what="every line is shown")
        full = screen.query_one("#detail-full", LineView)
        assert full.line_count == LINES + 1  # a line naming the command, then its lines
        await until(lambda: full.has_focus, what="the full view has focus")
        await pilot.press("end")
        await until(
            lambda: any("$ echo line 99999" in row for row in rows_in_view(full)),
            what="the last line is in view",
        )
        await pilot.press("f")
        await until(lambda: not detail.showing_full, what="back to the step")
        assert commands.display and full.line_count == 0


def screen_text(app: object) -> str:
    """The characters of the screen as the terminal would show them."""
    from textual.app import App

    assert isinstance(app, App)
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())  # noqa: SLF001


async def test_a_huge_fence_is_cut_for_the_detail_once_however_often_its_step_is_shown(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    app = make_console(huge_fence(tmp_path / "huge.md"))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.main_screen is not None, what="the main screen is ready")
        screen = app.main_screen
        assert screen is not None
        detail = screen.query_one(StepDetail)
        await until(lambda: detail._markdown is not None, what="the step's text is mounted")  # noqa: SLF001
        await pilot.pause()  # the highlights the start posted are handled
        # The console shows its first step three times as it starts (opening the
        # procedure, then two highlights): the 100,000 lines are cut for it once.
        assert detail.builds == 1
        drawn = screen_text(app)
        assert "$ echo line 0" in drawn, "the first screen shows the command's first lines"
        assert "echo line 99999" not in drawn

        screen._show_detail()  # noqa: SLF001 - as a finished run or a tick redraws it
        assert detail.builds == 1
        detail.show_step(screen.step_list.procedure, screen.step_list.current_step, None, True)
        assert detail.builds == 2, "a read-only console draws it anew (its commands are hidden)"


async def test_the_confirmation_counts_a_huge_command_and_scrolls_to_its_last_line() -> None:
    code = "\n".join(f"touch /tmp/never-run-{n}" for n in range(LINES))
    long_line = "curl -X DELETE http://localhost:9/" + "x" * 200
    request = ConfirmRequest(
        title="Huge",
        risk="mutating",
        commands=(code, long_line),
        cwd="/srv/app",
        environment="Development",
        production=False,
    )
    dialog = ConfirmScreen(request, arm_delay=0.0)
    app = Host(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        size = dialog.query_one("#confirm-size", Static)
        await until(lambda: size.region.height > 0, what="the size line is drawn")
        said = str(size.render())
        assert f"{LINES + 1:,} lines · sha256 " in said
        log = dialog.query_one("#confirm-commands-log", LineView)
        await until(lambda: log.line_count > LINES, what="the box holds every line")
        assert rows_in_view(log)[0].startswith("$ touch /tmp/never-run-0")
        log.focus()
        await until(lambda: log.has_focus, what="the box has focus")
        await pilot.press("end")
        await until(
            lambda: "touch /tmp/never-run-99999" in "\n".join(rows_in_view(log)),
            what="the last line of the first command is in view",
        )
        await until(lambda: log.scroll_y == log.max_scroll_y, what="scrolled to the end")
        rows = rows_in_view(log)
        start = next(n for n, row in enumerate(rows) if row.startswith("$ curl"))
        wrapped = [row[2:].rstrip() for row in rows[start + 1 :] if row.startswith("  ")]
        assert rows[start].rstrip() + "".join(wrapped) == f"$ {long_line}", "wrapped, not cut"
        assert log.max_scroll_x == 0, "no row is wider than the box"
        await pilot.press("escape")
        await until(lambda: app.result is False, what="cancelled")


async def test_a_huge_confirmation_draws_only_the_rows_in_view_also_when_resized(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The box counts its rows without drawing every line (each was wrapped and measured
    on opening, and again at each new width), and still scrolls to the last one."""
    drawn: set[int] = set()
    text_of = LineView.text_of

    def counted(view: LineView, index: int) -> str:
        drawn.add(index)
        return text_of(view, index)

    monkeypatch.setattr(LineView, "text_of", counted)
    code = "\n".join(f"touch /tmp/never-run-{n}" for n in range(LINES))
    request = ConfirmRequest(
        title="Huge",
        risk="mutating",
        commands=(code,),
        cwd="/srv/app",
        environment="Development",
        production=False,
    )
    dialog = ConfirmScreen(request, arm_delay=0.0)
    app = Host(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        box = dialog.query_one("#confirm-commands-log", LineView)
        await until(lambda: box.size.height > 0, what="the box is laid out")
        assert rows_in_view(box)[0].startswith("$ touch /tmp/never-run-0")
        await pilot.resize_terminal(60, 20)
        await until(lambda: box.size.width < 60, what="the box is narrower")
        await pilot.pause()
        assert box.row_count == LINES, "no line is wider than the box"
        box.scroll_end(animate=False, immediate=True)
        await until(
            lambda: "$ touch /tmp/never-run-99999" in rows_in_view(box)[-1],
            what="the last line is in view",
        )
        assert len(drawn) < 100, f"{len(drawn)} lines drawn for a box of 8 rows"


async def test_the_full_view_of_a_huge_command_draws_only_the_rows_in_view(
    make_console: MakeConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`f` shows the 100,000 lines without processing each (a `Log` measured every line as
    it was written), and End still reaches line 99,999."""
    drawn: set[int] = set()
    text_of = LineView.text_of

    def counted(view: LineView, index: int) -> str:
        drawn.add(index)
        return text_of(view, index)

    monkeypatch.setattr(LineView, "text_of", counted)
    app = make_console(huge_fence(tmp_path / "huge.md"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.main_screen is not None, what="the main screen is ready")
        screen = app.main_screen
        assert screen is not None
        detail = screen.query_one(StepDetail)
        await pilot.press("enter")
        await until(lambda: detail.has_focus, what="the detail has focus")
        await pilot.press("f")
        await until(lambda: detail.showing_full, what="every line is shown")
        full = screen.query_one("#detail-full", LineView)
        await until(lambda: full.has_focus, what="the full view has focus")
        assert full.row_count == LINES + 1
        full.scroll_end(animate=False, immediate=True)
        await until(
            lambda: "$ echo line 99999" in "\n".join(rows_in_view(full)),
            what="the last line is in view",
        )
        assert len(drawn) < 200, f"{len(drawn)} lines drawn for a view of some 20 rows"
