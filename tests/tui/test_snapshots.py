"""SVG snapshots at 80x24 and 120x40: main screen, confirmation and help.

Clock, user, host, CPU figure and repository root are fixed (see conftest), so the
pictures only change when the console does. Update with `pytest --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import MakeConsole
from tests.waiting import wait_until_async as until

SIZES = [(80, 24), (120, 40)]


async def _main_screen_ready(app: Any) -> None:
    """The main screen is shown and its serving strip has read the deployment history."""
    await until(lambda: app.main_screen is not None, what="the main screen is ready")
    strip = app.main_screen.query_one("#serving-strip")
    await until(lambda: strip.history_read, what="the serving strip read the history")


async def _walk_some(pilot: Any) -> None:
    """Open the blue-green procedure, tick a step, skip one with a reason."""
    app = pilot.app
    await _main_screen_ready(app)
    procedure = app.runbook.procedure("Blue-Green")
    app.main_screen.jump_to(procedure.key)
    await pilot.pause()
    await pilot.press("space", "s")
    await pilot.pause()
    await pilot.press(*"smoke tests ran in CI", "enter")
    await pilot.pause()
    await pilot.press("k")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(
    snap_compare: Any, make_console: MakeConsole, fixed_root: Path, size: tuple[int, int]
) -> None:
    assert snap_compare(make_console(), run_before=_walk_some, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_confirmation_in_production(
    snap_compare: Any, make_console: MakeConsole, fixed_root: Path, size: tuple[int, int]
) -> None:
    async def open_confirmation(pilot: Any) -> None:
        app = pilot.app
        await _main_screen_ready(app)
        app.main_screen.jump_to(app.runbook.procedure("Emergency Rollback").key)
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()

    app = make_console(environment="Production")
    assert snap_compare(app, run_before=open_confirmation, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(
    snap_compare: Any, make_console: MakeConsole, fixed_root: Path, size: tuple[int, int]
) -> None:
    async def open_help(pilot: Any) -> None:
        app = pilot.app
        await _main_screen_ready(app)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_console(), run_before=open_help, terminal_size=size)


def test_too_small(snap_compare: Any, make_console: MakeConsole, fixed_root: Path) -> None:
    assert snap_compare(make_console(), terminal_size=(20, 10))
