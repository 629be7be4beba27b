"""Keys that arrive together (a quick typist, a paste, an SSH packet after a lag) are handled
one at a time, each by the screen it was typed at: the text typed behind a key that opens a
dialog goes into that dialog, never onto the checklist as commands."""

from __future__ import annotations

from textual import events

from console.app import RunbookConsole
from console.incident.screen import IncidentScreen
from console.screens.main import MainScreen
from tests.tui.conftest import MakeConsole
from tests.tui.test_incident_wiring import start_from_palette
from tests.waiting import wait_until_async as until

NAMES = {" ": "space", "\r": "enter"}


def burst(app: RunbookConsole, *keys: str) -> None:
    """Post every key at once, as a terminal does with the bytes of one read: no pause
    between them (Pilot's `press` waits for the app to go idle after each key)."""
    for key in keys:
        name = NAMES.get(key, key)
        app.post_message(events.Key(name, key if len(key) == 1 else None))


async def test_a_reason_typed_right_behind_s_goes_into_the_skip_dialog(
    make_console: MakeConsole,
) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.main_screen is not None)
        await pilot.pause()
        procedure = app.runbook.procedure("P1 - Critical")
        assert procedure is not None
        app.main_screen.jump_to(procedure.key)  # type: ignore[union-attr]
        await pilot.pause()
        burst(app, "s", *"no recent deploy", "\r", "n", *"paged bob", "\r")

        def records() -> list[tuple[str, str | None, list[str]]]:
            found = [app.progress.record(procedure.key, i) for i in range(1, 4)]
            return [(r.status, r.reason, r.notes) for r in found]

        await until(lambda: records()[1][2] != [], what="the note reaches the next step")
        assert records() == [
            ("skipped", "no recent deploy", []),
            ("pending", None, ["03:12 alice: paged bob"]),  # skip moved the cursor on
            ("pending", None, []),  # nothing typed was taken for a tick or a command
        ]
        assert isinstance(app.screen, MainScreen)


async def test_closing_an_incident_typed_in_one_go(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await start_from_palette(pilot, app)
        await pilot.press("i")  # reads the incident on a thread, then opens its screen
        await until(lambda: isinstance(app.screen, IncidentScreen))
        burst(app, "c", *"rolled back", "\r", "escape")
        await until(lambda: app.incidents.incident is None, what="the incident closes")
        await until(lambda: not isinstance(app.screen, IncidentScreen))
