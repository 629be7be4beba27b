"""Keys: one that changes things means the same wherever the focus is, and ctrl+c says how
to quit instead of doing nothing."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from textual.binding import Binding

import console
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


def test_a_live_pane_keeps_its_keys_out_of_the_footer() -> None:
    """Its keys show on its own line while it has the focus (KeyHint): the footer stays the
    console's and fits 80 columns whatever has the focus."""
    for pane in (ContainersPane, LogsPane, GaugesPane):
        shown = [b.key for b in pane.BINDINGS if isinstance(b, Binding) and b.show]
        assert not shown, f"{pane.__name__} adds {shown} to the footer"


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


async def test_the_footer_fits_80_columns_and_a_focused_pane_shows_its_keys(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    from textual.widgets._footer import FooterKey

    from console.widgets.key_hint import KeyHint
    from tests.tui.test_live_panes import make_app

    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.main_screen is not None)

        def shown_keys() -> list[FooterKey]:
            keys = [key for key in app.screen.query(FooterKey) if key.display]
            return keys if all(key.region.width > 0 for key in keys) else []

        keys = await until(shown_keys, what="the footer is laid out")
        assert {key.key for key in keys} >= {"r", "s", "n", "question_mark", "q"}
        assert all(key.region.right <= 80 for key in keys)

    live, _ = make_app(tmp_path)
    async with live.run_test(size=(120, 40)) as pilot:
        pane = live.query_one(ContainersPane)
        hint = pane.query_one(KeyHint)
        assert not hint.display or hint.region.height == 0  # not focused: no line for it
        pane.table.focus()
        await pilot.pause()
        assert hint.region.height == 1
        assert "R restart" in str(hint.render()) and "I inspect" in str(hint.render())


def test_docs_list_every_binding_id_with_its_default_keys() -> None:
    """docs/config.md's keymap table names each binding id a `[keymap]` entry may rebind,
    with the keys it has by default: a key added without its row fails here."""
    table = (Path(__file__).parents[2] / "docs" / "config.md").read_text()
    missing = []
    for module in pkgutil.walk_packages(console.__path__, "console."):
        if module.name.endswith("__main__"):
            continue
        for _name, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            for binding in getattr(cls, "BINDINGS", None) or []:
                if not isinstance(binding, Binding) or not binding.id:
                    continue
                keys = ", ".join(f"`{key.strip()}`" for key in binding.key.split(","))
                if f"| `{binding.id}` | {keys} |" not in table:
                    missing.append(f"{cls.__name__}: {binding.id} ({binding.key})")
    assert not missing, missing
