"""Pilot tests: every flow of the console, driven by keys as an operator would."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from console.messages import StepFinished
from console.screens.confirm import ConfirmScreen
from console.screens.help import HelpScreen
from console.screens.main import CHECKLIST_MIN, MainScreen
from console.screens.search import SearchScreen
from console.screens.variables import VariablesScreen
from console.widgets.navigator import Navigator
from console.widgets.step_list import StepList
from console.widgets.step_output import StepOutput
from tests.tui.conftest import MakeConsole, palette_offers, wait_for_workers
from tests.waiting import wait_until
from tests.waiting import wait_until_async as until

OPS = Path(__file__).parent / "fixtures" / "ops.md"


@pytest.fixture
def ops_copy(tmp_path: Path) -> Path:
    """The drill runbook in a directory of its own: commands run there (no .git above)."""
    folder = tmp_path / "ops"
    folder.mkdir()
    target = folder / "runbook.md"
    shutil.copy(OPS, target)
    return target


def held_gate(folder: Path) -> Path:
    """A fifo a step blocks on (`cat <fifo>`) until the test calls `open_gate`."""
    gate = folder / "gate"
    os.mkfifo(gate)
    return gate


def open_gate(gate: Path) -> None:
    """Let the step blocked on `gate` go on (a writer opens and closes it: cat sees EOF)."""
    subprocess.Popen(["timeout", "60", "sh", "-c", f": > '{gate}'"])  # bounded if nobody reads


def step_list(app: object) -> StepList:
    return app.main_screen.query_one(StepList)  # type: ignore[attr-defined]


async def until_ready(pilot, app) -> None:  # type: ignore[no-untyped-def]
    """Wait until the main screen is composed and mounted."""
    await until(lambda: app.main_screen is not None, 10, "the main screen is ready")
    await pilot.pause()


async def open_procedure(pilot, app, title: str) -> None:  # type: ignore[no-untyped-def]
    await until_ready(pilot, app)
    main = app.main_screen
    procedure = app.runbook.procedure(title)
    assert procedure is not None, title
    main.jump_to(procedure.key)
    await pilot.pause()


async def test_opens_the_seed_with_every_procedure(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await until_ready(pilot, app)
        assert isinstance(app.screen, MainScreen)
        assert step_list(app).procedure is not None
        titles = {p.title for p in app.runbook.procedures}
        assert "Zero-Downtime Deployment (Blue-Green)" in titles
        assert app.screen.has_class("-narrow")


async def test_tick_untick_and_advance(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Blue-Green")
        key = step_list(app).procedure.key  # type: ignore[union-attr]
        await pilot.press("space")
        record = app.progress.record(key, 1)
        assert record.status == "done" and record.by == "alice"
        assert step_list(app).highlighted == 1, "the cursor moves to the next step"
        await pilot.press("k", "x")
        assert app.progress.record(key, 1).status == "pending"


async def test_skip_with_reason_and_note(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "P1 - Critical")
        key = step_list(app).procedure.key  # type: ignore[union-attr]
        await pilot.press("j", "j", "s")
        await pilot.pause()
        await pilot.press(*"no recent deploy", "enter")
        await pilot.pause()
        record = app.progress.record(key, 3)
        assert record.status == "skipped" and record.reason == "no recent deploy"
        await pilot.press("k", "n")
        await pilot.pause()
        await pilot.press(*"paged bob", "enter")
        await pilot.pause()
        assert app.progress.record(key, 3).notes == ["03:12 alice: paged bob"]


async def test_skip_needs_a_reason(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "P2 - High")
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, MainScreen), "an empty reason is refused"
        await pilot.press("escape")
        await pilot.pause()
        key = step_list(app).procedure.key  # type: ignore[union-attr]
        assert app.progress.record(key, 1).status == "pending"


async def test_run_read_only_step_streams_output(make_console: MakeConsole, ops_copy: Path) -> None:
    messages: list[object] = []
    app = make_console(ops_copy)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await open_procedure(pilot, app, "Greet")
        await pilot.press("r")
        await wait_for_workers(app)
        await pilot.pause()
        finished = [m for m in messages if isinstance(m, StepFinished)]
        assert finished and finished[-1].status == "succeeded"
        key = step_list(app).procedure.key  # type: ignore[union-attr]
        record = app.progress.record(key, 1)
        assert record.status == "done"
        assert ("stdout", "hello-from-step") in record.output
        output = app.screen.query_one(StepOutput)
        if step_list(app).highlighted != 0:  # the cursor went on to the next step: back
            await pilot.press("k")
            await pilot.pause()
        assert output.shown == (key, 1)
        assert any("hello-from-step" in line.text for line in output.log_widget.lines)
        assert app.screen.query_one("#pane-deck").active == "output"  # type: ignore[attr-defined]


async def test_confirm_then_cancel_a_mutating_step(
    make_console: MakeConsole, ops_copy: Path
) -> None:
    marker = ops_copy.parent / "marker.txt"
    app = make_console(ops_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Mark deployed")
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.focused is not None and app.focused.id == "confirm-cancel"
        await pilot.press("enter")  # Enter lands on Cancel
        await wait_for_workers(app)
        assert isinstance(app.screen, MainScreen)
        assert not marker.exists()
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for_workers(app)
        await pilot.pause()
        assert marker.exists()
        key = step_list(app).procedure.key  # type: ignore[union-attr]
        assert app.progress.record(key, 1).status == "done"


async def test_held_enter_cannot_confirm(make_console: MakeConsole, ops_copy: Path) -> None:
    app = make_console(ops_copy, confirm_arm_delay=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Mark deployed")
        await pilot.press("r")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        screen.query_one("#confirm-run").focus()
        await pilot.press("enter", "enter", "y")
        await pilot.pause()
        assert app.screen is screen, "nothing confirms before the screen is armed"
        assert not (ops_copy.parent / "marker.txt").exists()


async def test_read_only_console_never_offers_mutating_runs(
    make_console: MakeConsole, ops_copy: Path
) -> None:
    app = make_console(ops_copy, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Mark deployed")
        await pilot.press("r")
        await wait_for_workers(app)
        assert isinstance(app.screen, MainScreen)
        refusal = "Read-only console: this step changes things and is not run here."
        assert [n.message for n in app._notifications if n.message == refusal]  # noqa: SLF001
        assert not (ops_copy.parent / "marker.txt").exists()
        from console.commands import RunbookCommands

        provider = RunbookCommands(app.screen)
        titles = [title for title, _help, _callback in provider._commands()]  # noqa: SLF001
        assert "step: Run selected" not in titles
        assert "step: Dry-run selected" in titles


async def test_variables_form_then_dry_run_spawns_nothing(
    make_console: MakeConsole, ops_copy: Path, tmp_path: Path
) -> None:
    app = make_console(ops_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Mark deployed")
        await pilot.press("j", "d")
        await pilot.pause()
        assert isinstance(app.screen, VariablesScreen)
        await pilot.press(*"abc123", "enter")
        await wait_for_workers(app)
        await pilot.pause()
        log = app.screen.query_one(StepOutput).log_widget
        text = "\n".join(line.text for line in log.lines)
        assert "echo monkeytown-web:abc123" in text
        runs_dir = app.settings.config.runs_dir
        assert not runs_dir.exists() or not any(runs_dir.iterdir())


async def test_cancel_a_running_step(make_console: MakeConsole, ops_copy: Path) -> None:
    messages: list[object] = []
    app = make_console(ops_copy)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await open_procedure(pilot, app, "Slow")
        await pilot.press("r")
        await until(
            lambda: (
                app.progress.record(app.running[0], 1).status == "running" if app.running else False
            ),
            10,
        )
        assert app.running is not None
        await pilot.press("c")
        await wait_for_workers(app)
        await pilot.pause()
        finished = [m for m in messages if isinstance(m, StepFinished)]
        assert finished and finished[-1].status == "cancelled"
        assert app.running is None
        procedure = step_list(app).procedure
        assert procedure is not None
        record = app.progress.record(procedure.key, 1)
        assert (record.status, record.by) == ("cancelled", "alice")
        counts = app.progress.counts(procedure)
        assert (counts.failed, counts.cancelled) == (0, 1), "a cancel is not a failure"
        row = str(step_list(app).get_option_at_index(0).prompt)
        assert row.startswith("⊘") and "cancelled" in row and "✗" not in row
        assert "failed" not in str(step_list(app).border_subtitle)
        assert "1 cancelled" in str(step_list(app).border_subtitle)
        assert not str(app.main_screen.query_one(Navigator).label_for(procedure)).startswith("✗")
        await pilot.press("q")
        await pilot.pause()
    again = make_console(ops_copy)
    async with again.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, again, "Slow")
        assert again.progress.record(procedure.key, 1).status == "cancelled"
        assert str(step_list(again).get_option_at_index(0).prompt).startswith("⊘")
        assert again.progress.counts(procedure).failed == 0


async def test_resume_after_restart(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Blue-Green")
        key = step_list(app).procedure.key  # type: ignore[union-attr]
        await pilot.press("space", "space", "n")
        await pilot.pause()
        await pilot.press(*"green is up", "enter")
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
    again = make_console()
    async with again.run_test(size=(80, 24)) as pilot:
        await until_ready(pilot, again)
        assert again.progress.record(key, 1).status == "done"
        assert again.progress.record(key, 2).status == "done"
        assert again.progress.record(key, 3).notes == ["03:12 alice: green is up"]
        assert step_list(again).procedure.key == key, "reopens the procedure in use"


async def test_search_jumps_to_the_step(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await until_ready(pilot, app)
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"rollback-now")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        procedure = step_list(app).procedure
        assert procedure is not None and procedure.title == "Emergency Rollback"


async def test_palette_runs_area_verb_commands(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "P3 - Warning")
        key = step_list(app).procedure.key  # type: ignore[union-attr]
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"step: tick")
        await palette_offers(app, "step: tick")
        await pilot.press("enter")
        await pilot.pause()
        assert app.progress.record(key, 1).status == "done"


async def test_help_lists_every_binding(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await until_ready(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {b.description for _title, bindings in app.screen.groups for b in bindings}
        for binding in MainScreen.BINDINGS:
            assert binding.description in listed  # type: ignore[union-attr]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_tiny_terminal_and_resize_storm(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(20, 10)) as pilot:
        await until_ready(pilot, app)
        assert app.screen.has_class("-tiny")
        too_small = app.screen.query_one("#too-small")
        assert "too small" in str(too_small.render())
        for width, height in [(80, 24), (20, 10), (200, 60), (1, 1), (120, 40), (33, 7)] * 5:
            await pilot.resize_terminal(width, height)
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert app.screen.has_class("-wide") and not app.screen.has_class("-tiny")


async def test_worker_failure_becomes_a_notification(
    make_console: MakeConsole, ops_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_console(ops_copy)

    def explode(*_args: object) -> None:
        raise RuntimeError("executor exploded")

    async with app.run_test(size=(80, 24)) as pilot:
        monkeypatch.setattr(app.runner.driver, "run", explode)
        await open_procedure(pilot, app, "Greet")
        await pilot.press("r")
        await wait_for_workers(app)
        await pilot.pause()
        assert app.is_running
        assert any("executor exploded" in str(n.message) for n in app._notifications)  # noqa: SLF001
        key = step_list(app).procedure.key  # type: ignore[union-attr]
        assert app.progress.record(key, 1).status == "failed"
        assert app.running is None


async def test_quit_asks_while_a_step_runs(make_console: MakeConsole, ops_copy: Path) -> None:
    app = make_console(ops_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Slow")
        await pilot.press("r")
        await until(lambda: app.running is not None, 10)
        await pilot.press("q")
        await pilot.pause()
        from console.screens.prompt import YesNoScreen

        assert isinstance(app.screen, YesNoScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running
        await pilot.press("c")
        await wait_for_workers(app)


async def test_walk_blue_green_of_the_project_runbook_in_dry_run(
    make_console: MakeConsole, project_runbook: Path
) -> None:
    app = make_console(project_runbook)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Blue-Green")
        procedure = step_list(app).procedure
        assert procedure is not None and len(procedure.steps) == 6
        dry_runs: list[str] = []
        for step in procedure.steps:
            assert step_list(app).current_step == step
            await pilot.press("d")
            await pilot.pause()
            if isinstance(app.screen, VariablesScreen):
                await pilot.press(*"1.4.2", "enter")
            await wait_for_workers(app)
            await pilot.pause()
            log = app.screen.query_one(StepOutput).log_widget
            text = "\n".join(line.text for line in log.lines)
            dry_runs.append(text)
            if step.commands:
                assert "nothing was started" in str(app.screen.query_one("#output-title").render())
                assert step.commands[0].code.split()[0] in text
            if step.kind == "decision" and step.condition == "unhealthy":
                await pilot.press("s")
                await pilot.pause()
                await pilot.press(*"green healthy", "enter")
            else:
                await pilot.press("space")
            await pilot.pause()
        counts = app.progress.counts(procedure)
        assert (counts.finished, counts.failed, counts.total) == (6, 0, 6)
        assert "make build" in dry_runs[0] and "make rollback" in dry_runs[5]
        runs_dir = app.settings.config.runs_dir
        assert not runs_dir.exists() or not any(runs_dir.iterdir()), "dry-run started nothing"


async def test_a_step_outlives_the_console_and_the_next_one_follows_it(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    folder = tmp_path / "outlive"
    folder.mkdir()
    path = folder / "runbook.md"
    gate = held_gate(folder)
    path.write_text(
        "# Drill\n\n## Checks\n\n### Nap\n\n```bash\n# Nap briefly\n"
        f"cat {gate} && echo rested\n```\n"
    )
    first = make_console(path)
    async with first.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, first, "Nap")
        key = step_list(first).procedure.key  # type: ignore[union-attr]
        await pilot.press("r")
        await until(lambda: first.progress.record(key, 1).status == "running", 10)
        assert first.running is not None
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")  # quit anyway: the step carries on
        await pilot.pause()
    # The console has quit while its step still blocks on the gate: it did not wait for it.
    assert first.progress.record(key, 1).status == "running"
    second = make_console(path)
    async with second.run_test(size=(80, 24)) as pilot:
        await until_ready(pilot, second)
        open_gate(gate)  # the step ends now, while the second console watches
        await until(lambda: second.progress.record(key, 1).status == "done", 10)
        record = second.progress.record(key, 1)
        assert record.status == "done", record
        assert ("stdout", "rested") in record.output


async def test_live_dock_takes_panes(make_console: MakeConsole) -> None:
    from textual.widgets import Static

    from console.widgets.live_dock import LiveDock

    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await until_ready(pilot, app)
        dock = app.screen.query_one(LiveDock)
        await dock.mount_pane(Static("containers: 3 running", id="containers-pane"))
        await pilot.press("3")
        await pilot.pause()
        assert dock.query_one("#containers-pane").region.height > 0, "visible in the Live tab"
        assert not dock.query("#live-status")


async def test_mouse_selects_steps_and_panes(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Blue-Green")
        steps = step_list(app)
        await pilot.click(StepList, offset=(6, 2))
        await pilot.pause()
        assert steps.highlighted == 1, "a click on the second row highlights step 2"
        await pilot.click("#tab-output")
        await pilot.pause()
        assert app.screen.query_one("#pane-deck").active == "output"  # type: ignore[attr-defined]


async def test_palette_offers_themes_and_they_apply(make_console: MakeConsole) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await until_ready(pilot, app)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "view: Change theme" in titles
        app.theme = "nord"
        await pilot.pause()
        app.action_toggle_reduced_colour()
        await pilot.pause()
        assert app.theme == "ansi-dark"
        app.action_toggle_reduced_colour()
        await pilot.pause()
        assert app.theme == "runbook"


async def test_live_panes_arrive_after_the_first_frame(make_console: MakeConsole) -> None:
    from textual.widgets import Static

    def fake_live(_console: object) -> Static:
        return Static("live: containers and gauges", id="fake-live")

    app = make_console(live_panes=fake_live)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_ready(pilot, app)
        await until(lambda: bool(app.screen.query("#fake-live")), what="the live dock is mounted")
        await pilot.press("3")
        await pilot.pause()
        live = app.screen.query_one("#fake-live")
        assert app.screen.has_class("-live-tab") and live.region.height > 0
        await pilot.press("1")
        await pilot.pause()
        assert not app.screen.has_class("-live-tab") and live.region.height == 0


async def test_keymap_from_the_config_file(make_console: MakeConsole, tmp_path: Path) -> None:
    from runbook.config import load_config

    config_file = tmp_path / "config.toml"
    config_file.write_text('[keymap]\nstep-tick = "t"\n')
    app = make_console(config=load_config(config_file))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "P3 - Warning")
        key = step_list(app).procedure.key  # type: ignore[union-attr]
        await pilot.press("t")
        await pilot.pause()
        assert app.progress.record(key, 1).status == "done"


async def test_a_broken_keymap_is_a_warning_toast(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    from runbook.config import load_config

    config_file = tmp_path / "config.toml"
    config_file.write_text("[keymap]\nstep-tick = 3\n")
    app = make_console(config=load_config(config_file))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "P3 - Warning")
        warnings = [n for n in app._notifications if n.severity == "warning"]  # noqa: SLF001
        assert [str(n.message) for n in warnings] == [
            f"[keymap] in {config_file} must map binding ids to key strings"
        ]
        key = step_list(app).procedure.key  # type: ignore[union-attr]
        await pilot.press("space")  # the default keys still work
        await pilot.pause()
        assert app.progress.record(key, 1).status == "done"


async def test_a_live_pane_can_open_a_procedure(make_console: MakeConsole) -> None:
    from console.panes.messages import ProcedureOpenRequested

    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await until_ready(pilot, app)
        key = app.runbook.procedure("Emergency Rollback").key  # type: ignore[union-attr]
        app.screen.query_one("#pane-live").post_message(ProcedureOpenRequested(key))
        await pilot.pause()
        assert step_list(app).procedure.key == key  # type: ignore[union-attr]


async def test_a_step_that_finished_while_no_console_was_open_shows_its_outcome(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    folder = tmp_path / "finished"
    folder.mkdir()
    path = folder / "runbook.md"
    gate = held_gate(folder)
    path.write_text(
        "# Drill\n\n## Checks\n\n### Nap\n\n```bash\n# Nap briefly\n"
        f"cat {gate} && echo rested && exit 3\n```\n"
    )
    first = make_console(path)
    async with first.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, first, "Nap")
        key = step_list(first).procedure.key  # type: ignore[union-attr]
        await pilot.press("r")  # read-only (cat, echo, exit): it runs at once
        await until(lambda: first.running is not None, 10)
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    open_gate(gate)  # the step ends now, with no console open
    runs_dir = first.settings.config.runs_dir

    def finished() -> bool:  # the detached supervisor finishes on its own
        states = [p.read_text() for p in runs_dir.glob("*/state.json")]
        return bool(states) and all('"running"' not in state for state in states)

    wait_until(finished, 10, "the detached step finished")
    second = make_console(path)
    async with second.run_test(size=(80, 24)) as pilot:
        await until_ready(pilot, second)
        record = second.progress.record(key, 1)
        assert record.status == "failed" and record.exit_code == 3
        assert ("stdout", "rested") in record.output


async def test_long_output_lines_wrap_at_80_columns(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    """`make status` ends its line with the version: at 80 columns it must be readable."""
    path = tmp_path / "runbook.md"
    long = "GET http://127.0.0.1:3000/health -> 200 " + "padding " * 12 + "(X-Version v1)"
    path.write_text(f"# R\n\n## Status\n\n```bash\n# Show the status\necho '{long}'\n```\n")
    app = make_console(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_procedure(pilot, app, "Status")
        await pilot.press("r")  # echo: read-only, runs at once
        await pilot.press("2")  # the output pane, as the operator looks at it
        output = app.main_screen.query_one(StepOutput)  # type: ignore[union-attr]
        log = output.log_widget
        shown = lambda: [strip.text.rstrip() for strip in log.lines]  # noqa: E731
        await until(lambda: "(X-Version v1)" in " ".join(shown()), 20, what="the version shown")
        width = log.scrollable_content_region.width
        assert width and all(len(line) <= width for line in shown()), (width, shown())


@pytest.mark.parametrize("size", [(120, 40), (200, 60)])
async def test_the_navigator_fits_the_longest_procedure_name_where_there_is_room(
    make_console: MakeConsole, project_runbook: Path, size: tuple[int, int]
) -> None:
    app = make_console(project_runbook)
    async with app.run_test(size=size) as pilot:
        await until(lambda: app.main_screen is not None)
        await pilot.pause()
        screen = app.main_screen
        assert screen is not None
        navigator, steps = screen.query_one(Navigator), screen.query_one(StepList)
        longest = max(len(p.title) for p in app.runbook.procedures)
        assert longest == len("Zero-Downtime Deployment (Blue-Green)")
        navigator.focus()  # choosing a procedure: the names show whole
        await pilot.pause()
        # Borders, tree guide and progress mark around the name: the name shows whole.
        assert navigator.size.width >= longest + 4
        assert navigator.outer_size.width <= size[0] * 0.38
        steps.focus()  # working the checklist beside the live panes: it keeps its width
        await pilot.pause()
        assert steps.outer_size.width >= CHECKLIST_MIN
        # The navigator's lines as the screen shows them (its content, without borders).
        shown = app.screen._compositor.render_strips()  # noqa: SLF001 - no public equivalent
        box = navigator.content_region
        labels = [shown[y].crop(box.x, box.right).text.rstrip() for y in range(box.y, box.bottom)]
        cut = [label for label in labels if "Zero-Downtime" in label]
        assert len(cut) == 1 and all(len(label) <= navigator.size.width for label in labels)
        if navigator.size.width < longest + 4:
            assert cut[0].endswith("…"), "a cut name says it is cut"
        else:
            assert cut[0].endswith("(Blue-Green)")
