"""Pressing `r` on a step whose command has 100,000 lines: the status bar says at once that
the step is being prepared, the console answers keys while the plan is worked out, a second
`r` starts no second preparation, and the confirmation says why the step is destructive."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Label, Static

from console.app import RunbookConsole
from console.screens.confirm import ConfirmScreen
from console.widgets.step_list import StepList
from runbook.execution.plan import Plan
from tests.tui.conftest import MakeConsole
from tests.waiting import wait_until_async as until

LINES = 100_000


def huge_second_step(path: Path) -> Path:
    """A procedure whose step 1 is one line and step 2 is a 100,000-line fence."""
    body = "\n".join(
        f"   echo line {n} $(date) some words to make it longer than usual" for n in range(LINES)
    )
    path.write_text(
        "# Huge\n\n## Proc\n\n1. First:\n\n   ```bash\n   echo first\n   ```\n\n"
        f"2. Everything:\n\n   ```bash\n{body}\n   ```\n"
    )
    return path


def session_text(app: RunbookConsole) -> str:
    screen = app.main_screen
    assert screen is not None
    return str(screen.query_one("#status-session", Label).render())


def notified(app: RunbookConsole) -> list[str]:
    return [str(n.message) for n in app._notifications]  # noqa: SLF001


class HeldPlan:
    """Wraps the driver's `plan` so that it waits, on whatever thread calls it, until the
    test lets it go; counts the calls."""

    def __init__(self, plan: Callable[..., Plan]) -> None:
        self.plan = plan
        self.calls = 0
        self.entered = threading.Event()
        self.released = threading.Event()

    def __call__(self, *args: Any) -> Plan:
        self.calls += 1
        self.entered.set()
        # Bounded, so that a plan worked out on the event loop fails the test, not hangs it.
        if not self.released.wait(30):
            raise AssertionError("the plan was never let go")
        return self.plan(*args)


async def test_the_console_answers_keys_while_a_huge_step_is_prepared_and_opens_one_dialog(
    make_console: MakeConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_console(huge_second_step(tmp_path / "huge.md"))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(lambda: app.main_screen is not None, what="the main screen is ready")
        steps = app.screen.query_one(StepList)
        steps.focus()
        await pilot.press("down")
        await until(lambda: steps.highlighted == 1, what="step 2 is highlighted")
        held = HeldPlan(app.runner.driver.plan)
        monkeypatch.setattr(app.runner.driver, "plan", held)

        await pilot.press("r")
        assert "preparing step 2…" in session_text(app), "said before the next key is read"
        await until(held.entered.is_set, what="the plan is being worked out")
        await pilot.press("up")
        await until(lambda: steps.highlighted == 0, what="the cursor moves during the plan")
        await pilot.press("down")
        await until(lambda: steps.highlighted == 1, what="and back")
        await pilot.press("r")
        await until(
            lambda: any("Step 2 is being prepared" in text for text in notified(app)),
            what="the second r is answered in words",
        )
        assert "preparing step 2…" in session_text(app)

        held.released.set()
        await until(
            lambda: isinstance(app.screen, ConfirmScreen) and app.screen.query("#confirm-run"),
            what="the confirmation, composed",
        )
        assert held.calls == 1, "one preparation, not two"
        assert sum(isinstance(screen, ConfirmScreen) for screen in app.screen_stack) == 1
        assert "preparing" not in session_text(app)
        await pilot.press("n")
        await until(lambda: not isinstance(app.screen, ConfirmScreen), what="cancelled")
        await until(lambda: app.runner.preparing is None, what="the preparation is over")
        await pilot.press("r")  # a new preparation once the first is over
        await until(lambda: isinstance(app.screen, ConfirmScreen), what="a new confirmation")
        assert held.calls == 2


async def test_the_huge_commands_confirmation_says_destructive_because_unread(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    app = make_console(huge_second_step(tmp_path / "huge.md"))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(lambda: app.main_screen is not None, what="the main screen is ready")
        steps = app.screen.query_one(StepList)
        steps.focus()
        await pilot.press("down", "r")
        await until(
            lambda: isinstance(app.screen, ConfirmScreen) and app.screen.query("#confirm-run"),
            what="the confirmation, composed",
        )
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.request.risk == "destructive"
        reason = dialog.query_one("#confirm-risk-reason", Static)
        assert str(reason.render()) == "risk: too long to rate: destructive unread"
        assert "DESTRUCTIVE" in str(dialog.query_one("#confirm-title", Label).render()).upper()


async def test_a_dry_run_of_a_huge_step_shows_its_ends_and_says_what_it_left_out(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    from textual.widgets import RichLog

    from console.driver import DRY_RUN_LINES

    app = make_console(huge_second_step(tmp_path / "huge.md"))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(lambda: app.main_screen is not None, what="the main screen is ready")
        steps = app.screen.query_one(StepList)
        steps.focus()
        await pilot.press("down", "d")
        log = app.screen.query_one("#output-log", RichLog)

        def shown() -> list[str]:
            return [strip.text for strip in log.lines]

        await until(lambda: any("lines not shown" in row for row in shown()), what="the note")
        rows = shown()
        assert len(rows) < 2 * DRY_RUN_LINES, "wrapped rows of the lines kept, not 100,000"
        assert any("echo line 0 " in row for row in rows)
        assert any(f"echo line {LINES - 1} " in row for row in rows)
        assert "Dry-run of step 2" in str(app.screen.query_one("#output-title", Static).render())
