"""Keys: one that changes things means the same wherever the focus is, and ctrl+c says how
to quit instead of doing nothing."""

from __future__ import annotations

from textual.binding import Binding

from console.panes.containers import ContainersPane
from console.panes.gauges import GaugesPane
from console.panes.logs import LogsPane
from console.screens.main import MainScreen
from console.widgets.navigator import Navigator
from console.widgets.step_detail import StepDetail
from console.widgets.step_list import StepList
from console.widgets.step_output import StepOutput
from tests.tui.conftest import MakeConsole
from tests.waiting import wait_until_async as until

MUTATING = {"tick", "run", "skip", "note", "cancel", "acknowledge", "escalate", "rollback"}
"""The main screen's actions that change something: a step, the incident, a run."""
PANES = (ContainersPane, LogsPane, GaugesPane, Navigator, StepList, StepDetail, StepOutput)


def keys(bindings: object) -> dict[str, str]:
    found: dict[str, str] = {}
    for binding in bindings:  # type: ignore[attr-defined]
        if isinstance(binding, Binding):
            for key in binding.key.split(","):
                found[key.strip()] = binding.action
    return found


def test_a_key_that_changes_things_is_never_taken_by_a_focused_pane() -> None:
    screen = keys(MainScreen.BINDINGS)
    changing = {key: action for key, action in screen.items() if action in MUTATING}
    assert set(changing.values()) == MUTATING
    for pane in PANES:
        taken = {key: action for key, action in keys(pane.BINDINGS).items() if key in changing}
        assert not taken, f"{pane.__name__} turns {taken} into something else than {changing}"


def test_the_containers_mutating_action_has_a_key_of_its_own() -> None:
    pane = keys(ContainersPane.BINDINGS)
    assert pane["R"] == "act('restart')" and "r" not in pane and "i" not in pane


async def test_ctrl_c_says_how_to_quit(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.main_screen is not None)
        await pilot.press("ctrl+c")
        text = "ctrl+c does not quit here: press q, or ctrl+q, to quit."
        await until(lambda: any(n.message == text for n in app._notifications))  # noqa: SLF001
        assert app.is_running
