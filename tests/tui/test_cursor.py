"""The checklist cursor moves predictably: a tick moves it on once and shows it; a run that
ends later never moves it when the operator has moved it meanwhile."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from console.app import RunbookConsole
from console.messages import StepFinished
from console.screens.confirm import ConfirmScreen
from tests.tui.conftest import MakeConsole
from tests.tui.test_flows import open_procedure, step_list
from tests.waiting import wait_until_async as until

RUNBOOK = """# Cursor

## Walk

```bash
# Look at the board
echo board

# Write the first marker
touch marker-2

# Write the second marker
touch marker-3

# Wait for the signal
cat signal.fifo

# Look again
echo again

# Look once more
echo more
```
"""


@pytest.fixture
def walk(tmp_path: Path) -> Path:
    folder = tmp_path / "walk"
    folder.mkdir()
    os.mkfifo(folder / "signal.fifo")
    path = folder / "runbook.md"
    path.write_text(RUNBOOK)
    return path


async def confirmation_title(pilot, app: RunbookConsole) -> str:  # type: ignore[no-untyped-def]
    await until(lambda: isinstance(app.screen, ConfirmScreen))
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    return screen.request.title


async def test_a_tick_moves_the_cursor_on_once_and_r_acts_on_the_step_it_shows(
    make_console: MakeConsole, walk: Path
) -> None:
    app = make_console(walk)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Walk")
        steps = step_list(app)
        steps.focus()
        assert steps.highlighted == 0
        await pilot.press("space", "r")  # typed with no pause
        assert "step 2:" in await confirmation_title(pilot, app)
        assert steps.highlighted == 1, "one tick, one step on"
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, ConfirmScreen))
        # Back to step 1: untick it (the cursor stays), tick it again (on to 2), j (to 3).
        await pilot.press("k", "space", "space", "j", "r")
        assert "step 3:" in await confirmation_title(pilot, app), "the tick moved on once, j once"


async def test_the_step_moved_to_after_a_tick_is_scrolled_into_view(
    make_console: MakeConsole, walk: Path
) -> None:
    app = make_console(walk)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Walk")
        steps = step_list(app)
        steps.focus()
        for _ in range(5):
            await pilot.press("space")
        await pilot.pause()
        assert steps.highlighted == 5
        # The highlighted step's rows lie within the visible part of the list.
        first = steps._index_to_line[5]
        last = first + steps._heights[5] - 1
        top = round(steps.scroll_y)
        assert steps.max_scroll_y > 0, "the test needs a list taller than its window"
        assert top <= first and last < top + steps.scrollable_content_region.height


async def run_step_4(pilot, app: RunbookConsole) -> None:  # type: ignore[no-untyped-def]
    steps = step_list(app)
    steps.focus()
    steps.highlighted = 3
    await pilot.press("r")  # `cat` is read-only: it runs at once and blocks on the fifo
    procedure = steps.procedure
    assert procedure is not None
    await until(lambda: app.progress.record(procedure.key, 4).status == "running")


async def signal_and_wait(pilot, walk: Path, messages: list[object]) -> None:  # type: ignore[no-untyped-def]
    await asyncio.to_thread((walk.parent / "signal.fifo").write_text, "go\n")
    await until(lambda: any(isinstance(m, StepFinished) for m in messages))
    finished = [m for m in messages if isinstance(m, StepFinished)]
    assert finished[-1].status == "succeeded"
    await pilot.pause()


async def test_a_run_that_ends_moves_the_cursor_on_when_it_was_left_alone(
    make_console: MakeConsole, walk: Path
) -> None:
    messages: list[object] = []
    app = make_console(walk)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await open_procedure(pilot, app, "Walk")
        await run_step_4(pilot, app)
        await signal_and_wait(pilot, walk, messages)
        assert step_list(app).highlighted == 4, "on to step 5, once"


@pytest.mark.parametrize("keys", [("j",), ("k", "k"), ("j", "k")], ids=str)
async def test_a_run_that_ends_later_leaves_a_moved_cursor_where_it_is(
    make_console: MakeConsole, walk: Path, keys: tuple[str, ...]
) -> None:
    messages: list[object] = []
    app = make_console(walk)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await open_procedure(pilot, app, "Walk")
        await run_step_4(pilot, app)
        await pilot.press(*keys)
        where = step_list(app).highlighted
        await signal_and_wait(pilot, walk, messages)
        assert step_list(app).highlighted == where, "the operator's cursor stays put"
