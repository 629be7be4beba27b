"""Keys typed faster than the console handles them land where the operator meant (issue 13).

A quick typist's Tab and the letters after it arrive together. Pilot's `press` waits for
the app to go idle after every key, which no typist does, so these tests post every key
event in one go and wait once: each key that follows a focus change must land in the
newly focused field, never in the previous one.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from textual import events
from textual.app import App
from textual.screen import ModalScreen
from textual.widgets import Button, Input

from console.requests import ConfirmRequest, VariableQuestion
from console.screens.confirm import ConfirmScreen
from console.screens.prompt import TextPromptScreen
from console.screens.variables import VariablesScreen
from tests.waiting import wait_until_async as until

NAMED_KEYS = {"tab": "\t", "shift+tab": None, "enter": "\r"}
"""Keys named in these tests, with the character a terminal sends for them."""
CHARACTER_NAMES = {"-": "minus", " ": "space"}
"""Printable characters whose key has a name of its own."""


def key_event(key: str) -> events.Key:
    """The event a terminal sends for `key`: a character, or a name such as "tab"."""
    if key in NAMED_KEYS:
        return events.Key(key, NAMED_KEYS[key])
    return events.Key(CHARACTER_NAMES.get(key, key), key)


def type_back_to_back(app: App[Any], *keys: str) -> None:
    """Queue every key at once, as a terminal read of a fast typist's keys delivers them."""
    for key in keys:
        app.post_message(key_event(key))


async def settled(fields: list[Input], expected: list[str]) -> None:
    """Wait for the fields to hold `expected`; if they never do, say what they hold."""
    with contextlib.suppress(AssertionError):
        await until(lambda: [field.value for field in fields] == expected, timeout=5)
    assert [field.value for field in fields] == expected


class Host(App[None]):
    """An empty app that shows one dialog."""

    def __init__(self, dialog: ModalScreen[Any]) -> None:
        super().__init__()
        self.dialog = dialog
        self.result: object = "open"

    def on_mount(self) -> None:
        def done(result: object) -> None:
            self.result = result

        self.push_screen(self.dialog, done)


def values_dialog() -> VariablesScreen:
    return VariablesScreen(
        "Values for step 3: Restart the pod",
        [VariableQuestion("NAMESPACE"), VariableQuestion("POD"), VariableQuestion("REASON")],
    )


async def test_keys_after_tab_land_in_the_next_value() -> None:
    app = Host(values_dialog())
    async with app.run_test(size=(100, 30)):
        namespace = app.dialog.query_one("#variable-NAMESPACE", Input)
        pod = app.dialog.query_one("#variable-POD", Input)
        await until(lambda: app.focused is namespace, what="the first value has focus")
        type_back_to_back(app, *"payments-prod", "tab", *"api-7d9f")
        await settled([namespace, pod], ["payments-prod", "api-7d9f"])
        assert app.focused is pod


async def test_keys_after_shift_tab_and_enter_land_in_the_field_moved_to() -> None:
    app = Host(values_dialog())
    async with app.run_test(size=(100, 30)):
        fields = [
            app.dialog.query_one(f"#variable-{name}", Input)
            for name in ("NAMESPACE", "POD", "REASON")
        ]
        namespace, pod, reason = fields
        await until(lambda: app.focused is namespace, what="the first value has focus")
        # Enter moves to the next value; Shift+Tab goes back (selecting the value there, so
        # what is typed replaces it); Tab twice moves on to the last one.
        type_back_to_back(
            app, *"payments", "enter", *"api", "shift+tab", *"payments-prod", "tab", "tab", *"oom"
        )
        await settled(fields, ["payments-prod", "api", "oom"])
        assert app.focused is reason
        assert app.result == "open", "Enter in a value that is not the last moves on"


async def test_enter_on_the_last_value_submits_everything_typed_before_it() -> None:
    app = Host(values_dialog())
    async with app.run_test(size=(100, 30)):
        namespace = app.dialog.query_one("#variable-NAMESPACE", Input)
        await until(lambda: app.focused is namespace, what="the first value has focus")
        type_back_to_back(app, *"prod", "tab", *"api-1", "enter", *"oom-kill", "enter")
        await until(lambda: app.result != "open", what="the form is submitted")
        assert app.result == {"NAMESPACE": "prod", "POD": "api-1", "REASON": "oom-kill"}


async def test_keys_after_shift_tab_land_in_the_note_box() -> None:
    """The one-line prompts (skip reason, note): back from the buttons into the box."""
    app = Host(TextPromptScreen("Skip step 2: why?", "reason"))
    async with app.run_test(size=(100, 30)):
        box = app.dialog.query_one(Input)
        cancel = app.dialog.query_one("#prompt-cancel", Button)
        await until(lambda: app.focused is box, what="the box has focus")
        type_back_to_back(app, "tab")
        await until(lambda: app.focused is cancel, what="Tab leaves the box")
        # The space would press Cancel if it went to the button left.
        type_back_to_back(app, "shift+tab", *"flaky probe", "enter")
        await until(lambda: app.result != "open", what="the dialog closes")
        assert app.result == "flaky probe"


def production_confirm() -> ConfirmScreen:
    request = ConfirmRequest(
        title="Restart api",
        risk="mutating",
        commands=("systemctl restart api",),
        cwd="/srv/app",
        environment="Production",
        production=True,
    )
    return ConfirmScreen(request, arm_delay=0.0)


@pytest.mark.parametrize("back_key", ["shift+tab", "left", "h"])
async def test_production_name_typed_right_after_moving_back_into_the_box(back_key: str) -> None:
    """Letters after a focus change into the name box are the name: never lost, never the
    dialog's shortcuts (`n` cancels while a button has focus)."""
    dialog = production_confirm()
    app = Host(dialog)
    async with app.run_test(size=(100, 30)):
        box = dialog.query_one("#confirm-typed", Input)
        cancel = dialog.query_one("#confirm-cancel", Button)
        await until(lambda: app.focused is box, what="the name box has focus")
        type_back_to_back(app, "tab")
        await until(lambda: app.focused is cancel, what="Tab leaves the box")
        type_back_to_back(app, back_key, *"Production", "enter")
        await until(lambda: app.result != "open", what="the dialog closes")
        assert app.result is True, f"the box held {box.value!r}"


async def test_keys_after_tab_out_of_the_name_box_are_shortcuts() -> None:
    dialog = production_confirm()
    app = Host(dialog)
    async with app.run_test(size=(100, 30)):
        box = dialog.query_one("#confirm-typed", Input)
        await until(lambda: app.focused is box, what="the name box has focus")
        type_back_to_back(app, *"Prod", "tab", "n")
        await until(lambda: app.result != "open", what="the dialog closes")
        assert app.result is False, "n on the Cancel button cancels"
        assert box.value == "Prod"
