"""A runbook edited on disk while the console has it open: running a step reloads it and
shows what changed, instead of a confirmation that would be refused again and again; the
palette reloads it too; ticks follow their steps to the new text."""

from __future__ import annotations

from pathlib import Path

from console.screens.confirm import ConfirmScreen
from console.screens.prompt import YesNoScreen
from tests.tui.conftest import MakeConsole, palette_offers
from tests.unit.test_changes import BEFORE
from tests.waiting import wait_until_async as until

EDITED = BEFORE.replace("make rollback\n", "make rollback-now\n").replace(
    "1. Check the version:", "1. Freeze deploys.\n\n2. Check the version:"
)
EDITED = EDITED.replace("2. Roll back:", "3. Roll back:").replace("3. Tell the team.", "")


def dialog_text(app) -> str:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, YesNoScreen)
    return f"{screen.question}\n{screen.detail}"


async def test_running_a_step_of_an_edited_runbook_reloads_it_and_shows_the_changes(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    path = tmp_path / "runbook.md"
    path.write_text(BEFORE)
    app = make_console(path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(lambda: app.main_screen is not None)
        key = app.runbook.procedures[0].key
        app.main_screen.jump_to(key, 1)
        await pilot.pause()
        await pilot.press("space")  # step 1 "Check the version" done
        await until(lambda: app.progress.record(key, 1).status == "done")
        path.write_text(EDITED)  # someone fixes the runbook meanwhile

        app.main_screen.jump_to(key, 2)  # "Roll back": make rollback, as shown
        await pilot.pause()
        await pilot.press("r")
        await until(lambda: isinstance(app.screen, YesNoScreen))
        text = dialog_text(app)
        assert "changed on disk" in text and "Reloaded runbook.md" in text
        assert "Roll back: (make rollback → make rollback-now)" in text
        assert "step 1 added: Freeze deploys." in text
        assert not [s for s in app.screen_stack if isinstance(s, ConfirmScreen)], (
            "nothing to confirm against the old text"
        )
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, YesNoScreen))

        # The tick followed its step; the checklist shows the new text.
        assert app.runbook.sha256 != "" and app.runbook.procedures[0].steps[0].title.startswith(
            "Freeze"
        )
        assert app.progress.record(key, 2).status == "done"
        assert app.progress.record(key, 1).status == "pending"
        app.main_screen.jump_to(key, 3)
        await pilot.pause()
        await pilot.press("r")  # confirms against the new text now
        await until(lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.request.commands == ("make rollback-now",)  # type: ignore[attr-defined]
        await pilot.press("n")
        await until(lambda: not isinstance(app.screen, ConfirmScreen))
        app.session.flush(30)
    again = make_console(path)  # the session resumed on the new text, tick in its place
    async with again.run_test(size=(100, 30)) as pilot:
        await until(lambda: again.main_screen is not None)
        assert again.progress.record(key, 2).status == "done"
        assert again.progress.record(key, 1).status == "pending"


async def test_the_palette_reloads_the_runbook(make_console: MakeConsole, tmp_path: Path) -> None:
    path = tmp_path / "runbook.md"
    path.write_text(BEFORE)
    app = make_console(path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(lambda: app.main_screen is not None)
        await pilot.press("ctrl+p")
        await pilot.press(*"runbook: Reload")
        await palette_offers(app, "runbook: Reload from disk")
        await pilot.press("enter")
        await until(lambda: "nothing changed" in " ".join(n.message for n in app._notifications))  # noqa: SLF001

        path.write_text(EDITED)
        app.action_reload_runbook()
        await until(lambda: isinstance(app.screen, YesNoScreen))
        assert "step 1 added: Freeze deploys." in dialog_text(app)
        await pilot.press("escape")
        path.write_bytes(b"\x00binary")  # a broken file: one line, the old text stays
        app.action_reload_runbook()
        await until(lambda: any("not reloaded" in n.message for n in app._notifications))  # noqa: SLF001
        assert app.runbook.procedures[0].steps[0].title.startswith("Freeze")
