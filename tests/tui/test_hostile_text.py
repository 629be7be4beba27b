"""Runbook, engine and typed text is shown as written, never read as markup: brackets,
escapes and control characters in titles, steps, palette and search queries, log lines and
filters never crash the console. A crash, should one happen, exits non-zero with one line
and keeps the session."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.panes.logs import LogsPane
from console.panes.messages import LogLinesArrived
from console.screens.search import SearchScreen
from runbook.sources.logs import LogLine
from tests.tui.conftest import MakeConsole
from tests.tui.test_live_panes import make_app
from tests.waiting import wait_until_async as until

NASTY = ["[", "[ERROR]", "(19[", "[/x]", "[/]", "[/red]", "[b]", "[$accent]", "[@click=app.quit]"]
TEXT = st.text(alphabet=st.sampled_from([*"[]/\\$@=#:ab x", "\x1b", "\x07", "\t"]), max_size=16)


def runbook_text(title: str, heading: str, step: str, code: str) -> str:
    # Control characters would end a Markdown line; the parser sees the rest as text.
    line = " ".join(title.split()) or "t"
    return (
        f"# {line}\n\n## {' '.join(heading.split()) or 'h'}\n\n"
        f"1. {' '.join(step.split()) or 's'}:\n\n   ```bash\n   echo {code!r}\n   ```\n"
    )


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=TEXT, heading=TEXT, step=TEXT, code=TEXT, query=TEXT)
async def test_any_text_in_titles_steps_and_queries_is_shown_as_written(
    make_console: MakeConsole,
    tmp_path_factory: pytest.TempPathFactory,
    title: str,
    heading: str,
    step: str,
    code: str,
    query: str,
) -> None:
    path = tmp_path_factory.mktemp("hostile") / "runbook.md"
    path.write_text(runbook_text(title, heading, step, code))
    app = make_console(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.main_screen is not None)
        app.main_screen.jump_to(app.runbook.procedures[0].key, 1)
        await pilot.press("ctrl+p")
        await pilot.press(*query.replace("\x1b", "").replace("\x07", "") or "x")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.press("slash")
        await until(lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*"[/red]", *(query.replace("\x1b", "") or "x"))
        await pilot.pause()
        await pilot.press("escape")
        app.notify(f"{title} {step}", title=heading)
        await pilot.pause()
        assert app.is_running


@pytest.mark.parametrize("typed", NASTY)
async def test_typing_brackets_into_the_log_filter_and_search(tmp_path: Path, typed: str) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        logs = app.query_one(LogsPane)
        logs.follow(("web",))
        lines = tuple(
            LogLine("web", f"2026-12-03T03:00:0{n}.000000000Z", text)
            for n, text in enumerate(["[ERROR] boom [/red]", "(19[ ok", "\x1b[2J[/] x"])
        )
        logs.post_message(LogLinesArrived(lines))
        await until(lambda: len(logs.buffer.lines) == 3)
        logs.view.focus()
        for key in ("slash", "S"):
            await pilot.press(key)
            await pilot.press(*typed)
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
        assert logs.filter_text == typed and logs.search_text == typed
        # The filter is a plain substring: the lines that hold it, shown as written.
        assert len(logs.view.lines) == sum(typed in line.text for line in lines)
        assert all(typed in line for line in logs.view.lines)
        assert app.is_running


async def test_a_crash_exits_with_one_line_and_keeps_the_session(
    make_console: MakeConsole, capfd: pytest.CaptureFixture[str]
) -> None:
    app = make_console()
    key = app.runbook.procedures[0].key
    with pytest.raises(RuntimeError, match="boom"):
        async with app.run_test(size=(80, 24)) as pilot:
            await until(lambda: app.main_screen is not None)
            app.main_screen.jump_to(key, 1)
            await pilot.press("space")
            await until(lambda: app.progress.record(key, 1).status == "done")
            app.call_later(_explode)
            await pilot.pause()
    assert app.return_code == 1
    said = capfd.readouterr().err
    assert "runbook-console: crashed (RuntimeError: boom); the session was saved" in said
    assert "Traceback" not in said
    log = app.settings.config.state_dir / "crash.log"
    assert "RuntimeError: boom" in log.read_text()
    from runbook.storage.session import SessionStore

    saved = SessionStore(app.session.store.directory).load(app.runbook_path or "", app.environment)
    assert saved is not None and saved.step(key, 1).status == "done"


def _explode() -> None:
    raise RuntimeError("boom")


PRINTS_ESCAPES = """# Ops

## Noisy

1. Print:

   ```bash
   printf '\\033[2J\\033]0;PWNED\\007\\033[31mred\\033[0m done\\n'
   ```
"""


async def test_step_output_and_logs_never_drive_the_terminal(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    path = tmp_path / "runbook.md"
    path.write_text(PRINTS_ESCAPES)
    app = make_console(path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(lambda: app.main_screen is not None)
        app.main_screen.jump_to(app.runbook.procedures[0].key, 1)
        await pilot.pause()
        await pilot.press("r")  # printf: read-only, runs at once
        output = app.main_screen.show_output()
        shown = lambda: [strip.text for strip in output.log_widget.lines]  # noqa: E731
        await until(lambda: any("red done" in line for line in shown()), 20)
        assert not [line for line in shown() if "\x1b" in line or "\x07" in line]

    logs_app, _ = make_app(tmp_path)
    async with logs_app.run_test(size=(120, 40)):
        logs = logs_app.query_one(LogsPane)
        logs.follow(("web",))
        attack = "\x1b[2J\x1b]0;PWNED\x07tick 1"
        logs.post_message(LogLinesArrived((LogLine("web", "2026-12-03T03:00:00Z", attack),)))
        await until(lambda: any("tick 1" in line for line in logs.view.lines))
        assert logs.view.lines[-1].endswith(" tick 1") and "\x1b" not in logs.view.lines[-1]


def test_the_cli_prints_step_output_without_escapes(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    path = tmp_path / "runbook.md"
    path.write_text(PRINTS_ESCAPES)
    env = {**os.environ, "RUNBOOK_STATE_DIR": str(tmp_path / "state")}
    code = "import sys; from console.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", code, "run", str(path), "-p", "Noisy"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "red done" in done.stdout
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout


async def test_the_variables_form_never_shows_a_secret(
    make_console: MakeConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Input

    from console.screens.variables import VariablesScreen

    monkeypatch.setenv("API_TOKEN", "s3cr3t-value")
    path = tmp_path / "runbook.md"
    path.write_text(
        "# R\n\n## Call\n\n```bash\n# Call the API\n"
        'curl -fsS -H "Authorization: $API_TOKEN" http://127.0.0.1:9/<path>\n```\n'
    )
    app = make_console(path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(lambda: app.main_screen is not None)
        app.main_screen.jump_to(app.runbook.procedures[0].key, 1)
        await pilot.pause()
        await pilot.press("d")  # dry-run: the form first
        await until(lambda: isinstance(app.screen, VariablesScreen))
        token = app.screen.query_one("#variable-API_TOKEN", Input)
        assert token.password and token.value == ""
        assert "already set" in token.placeholder
        assert "s3cr3t-value" not in " ".join(
            str(widget.render()) for widget in app.screen.query("*") if widget.display
        )
        screen = app.screen
        assert isinstance(screen, VariablesScreen)
        assert screen._values()["API_TOKEN"] == "s3cr3t-value"  # noqa: SLF001 - kept when empty
