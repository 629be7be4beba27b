"""The confirmation dialog, driven as an operator would (issue 12, items 2, 4 and 5).

Production: the name box has focus on opening, the name is typed key by key and Enter
submits it; a wrong name is answered in the dialog, which stays open; letters typed in
the box are text, never the dialog's y/n shortcuts. Every dialog names the deploy
environment the commands act on and the inherited variables that change them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from console.screens.confirm import ARM_DELAY_S, ConfirmScreen
from console.screens.main import MainScreen
from tests.tui.conftest import MakeConsole, wait_for_workers
from tests.tui.test_flows import OPS, open_procedure
from tests.waiting import wait_until_async


@pytest.fixture
def ops_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "ops"
    folder.mkdir()
    target = folder / "runbook.md"
    shutil.copy(OPS, target)
    return target


def text_of(screen: ConfirmScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_confirm(pilot, app, title: str = "Mark deployed") -> ConfirmScreen:  # type: ignore[no-untyped-def]
    await open_procedure(pilot, app, title)
    await pilot.press("r")
    # The dialog is pushed once the step's plan is made: on a loaded box, after a pause.
    await wait_until_async(lambda: isinstance(app.screen, ConfirmScreen), what="the dialog opens")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    return screen


async def test_production_name_typed_then_enter_runs(
    make_console: MakeConsole, ops_copy: Path
) -> None:
    """With the real arm delay: the box has focus, every key lands in it, Enter submits."""
    marker = ops_copy.parent / "marker.txt"
    app = make_console(ops_copy, environment="Production", confirm_arm_delay=ARM_DELAY_S)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_confirm(pilot, app)
        typed = screen.query_one("#confirm-typed", Input)
        assert app.focused is typed, "the name box has focus when the dialog opens"
        assert "type Production to confirm" in typed.placeholder
        await pilot.press(*"Production", "enter")
        await wait_for_workers(app)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen), "Enter in the box submits the right name"
        assert marker.exists()


async def test_wrong_name_is_answered_and_the_dialog_stays(
    make_console: MakeConsole, ops_copy: Path
) -> None:
    marker = ops_copy.parent / "marker.txt"
    app = make_console(ops_copy, environment="Production")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_confirm(pilot, app)
        typed = screen.query_one("#confirm-typed", Input)
        await pilot.press(*"Prod", "enter")
        await pilot.pause()
        assert app.screen is screen, "a wrong name leaves the dialog open"
        error = screen.query_one("#confirm-error", Static)
        assert error.display and "'Prod' is not Production" in text_of(screen, "#confirm-error")
        assert app.focused is typed
        # y and n are letters of the name here, never Run or Cancel.
        await pilot.press("y", "n", "h", "l")
        await pilot.pause()
        assert app.screen is screen and typed.value == "Prodynhl"
        assert not error.display, "typing again clears the message"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press(*["backspace"] * 8, *"production", "enter")  # the name, in any case
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await wait_for_workers(app)
        assert marker.exists()


async def test_escape_cancels_from_the_box_and_paste_is_refused(
    make_console: MakeConsole, ops_copy: Path
) -> None:
    from textual import events

    app = make_console(ops_copy, environment="Production")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_confirm(pilot, app)
        typed = screen.query_one("#confirm-typed", Input)
        typed.post_message(events.Paste("Production"))
        await pilot.pause()
        assert typed.value == "", "pasting the name is refused"
        await pilot.press("tab")  # off the box, y is a shortcut again: still needs the name
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is screen and app.focused is typed
        assert "Nothing typed" in text_of(screen, "#confirm-error")
        await pilot.press("escape")
        await wait_for_workers(app)
        assert isinstance(app.screen, MainScreen)
        assert not (ops_copy.parent / "marker.txt").exists()


async def test_held_enter_on_the_empty_box_does_nothing(
    make_console: MakeConsole, ops_copy: Path
) -> None:
    app = make_console(ops_copy, environment="Production", confirm_arm_delay=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_confirm(pilot, app)
        await pilot.press("enter", "enter", "enter")
        await pilot.pause()
        assert app.screen is screen
        assert not screen.query_one("#confirm-error", Static).display


RUNBOOK = """\
# Ops

## Config

### Apply the config

```bash
# Apply it
bash deploy/update-config.sh
```
"""
SCRIPT = """\
source_file="${CONFIG_FILE:-deploy/config/$DEPLOY_ENV.json}"
echo "env=$DEPLOY_ENV file=$source_file" > applied.txt
"""


async def test_dialog_names_deploy_env_and_inherited_variables(
    make_console: MakeConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CONFIG_FILE exported in the shell changes what the script installs: the dialog says so,
    and names the DEPLOY_ENV the script is given; what runs is what was shown."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "deploy").mkdir()
    (repo / "deploy" / "update-config.sh").write_text(SCRIPT)
    (repo / "runbook.md").write_text(RUNBOOK)
    monkeypatch.setenv("CONFIG_FILE", "/tmp/x.json")
    monkeypatch.setenv("DEPLOY_ENV", "prod")
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    app = make_console(repo / "runbook.md")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_confirm(pilot, app, "Apply the config")
        where = text_of(screen, "#confirm-where-text")
        assert "env Development (DEPLOY_ENV=dev)" in where
        assert "inherited CONFIG_FILE=/tmp/x.json" in where
        assert "DEPLOY_ENV=prod" not in where, "the console's own DEPLOY_ENV wins"
        assert screen.query_one("#confirm-buttons").region.bottom <= 24
        await pilot.press("y")
        await wait_for_workers(app)
        await pilot.pause()
    assert (repo / "applied.txt").read_text() == "env=dev file=/tmp/x.json\n"


WARNED = """# Repository maintenance

## Prune the repository

```sh
touch listed.txt
```

**DO NOT RUN THE FOLLOWING ON A POOL REPOSITORY**

```sh
rm -f pruned.txt
```

> [!NOTE]
> Pruning again is harmless.
"""


async def test_dialog_shows_the_warning_of_the_step_it_confirms(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    """The runbook's warning before step 2 is in step 2's dialog, marked as the runbook's,
    and not in step 1's; the step's detail shows it too."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "runbook.md").write_text(WARNED)
    app = make_console(repo / "runbook.md")
    warning = "⚠ Warning from the runbook: DO NOT RUN THE FOLLOWING ON A POOL REPOSITORY"
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_confirm(pilot, app, "Prune the repository")
        assert "touch listed.txt" in text_of(screen, "#confirm-code")
        assert not screen.query("#confirm-admonitions-text"), "step 1 has no warning"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        detail = app.screen.query_one("#detail-admonitions", Static)
        assert detail.display and warning in str(detail.render())
        extra = str(app.screen.query_one("#detail-extra", Static).render())
        assert "At the end of this section:" in extra
        assert "Note from the runbook: Pruning again is harmless." in extra
        await pilot.press("r")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        assert "rm -f pruned.txt" in text_of(screen, "#confirm-code")
        shown = text_of(screen, "#confirm-admonitions-text")
        assert shown == warning, "only this step's warning; the section's note is not"
        region = screen.query_one("#confirm-admonitions").region
        assert region.height >= 1 and region.bottom <= 36


SHOWN = ("#confirm-buttons", "#confirm-typed", "#confirm-code")


@pytest.mark.parametrize("height", [20, 24])
async def test_long_warning_in_a_short_terminal_leaves_the_buttons_on_screen(
    make_console: MakeConsole, tmp_path: Path, height: int
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    long_warning = " ".join(["Every object of the pool repository is lost for good."] * 12)
    commands = "\n".join(f"rm -f pruned-{n}.txt" for n in range(3))
    (repo / "runbook.md").write_text(
        f"## Prune\n\n> [!WARNING]\n> {long_warning}\n\n```sh\n{commands}\n```\n"
    )
    app = make_console(repo / "runbook.md", environment="Production")
    async with app.run_test(size=(80, height)) as pilot:
        screen = await open_confirm(pilot, app, "Prune")
        assert "⚠ Warning from the runbook: Every object" in text_of(
            screen, "#confirm-admonitions-text"
        )

        def all_fit() -> bool:
            regions = [screen.query_one(selector).region for selector in SHOWN]
            return all(region.height >= 1 and region.bottom <= height for region in regions)

        # Wrapping the warning takes a layout pass or two: wait for the one that settles.
        await wait_until_async(all_fit, what=f"{', '.join(SHOWN)} on screen")
