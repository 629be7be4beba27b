"""The console on a real pseudo-terminal: its size comes from the terminal, not LINES/COLUMNS.

A stale `LINES` or `COLUMNS` in the environment (make exported one; some shells do)
used to win over the terminal's size, and the frame was painted at the wrong rows.
These run the README's command itself and read the screen through a terminal emulator.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pty_terminal import (
    CTRL_Q,
    PtyTerminal,
    children,
    command_line,
    environment,
    session_processes,
)

from runbook.document.parser import load
from runbook.drills.sandboxes import free_ports
from tests.required import unavailable
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
CONSOLE = REPO / ".venv" / "bin" / "runbook-console"
PROJECT_RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"
FRAME_TIMEOUT_S = 120.0
"""The footer comes after the live panes mount, which start a local sandbox service."""
EXIT_TIMEOUT_S = 30.0
FOOTER_KEYS = "q Quit"
NAVIGATOR_TOP = "╭─ Procedures "
SERVING_STRIP = "Development │"
"""The strip under the header starts with the environment the console acts on."""


@pytest.fixture
def wrong_size_env(tmp_path: Path) -> dict[str, str]:
    """The test's environment with a stale terminal size, as a shell or make may export it.

    No Docker engine answers at DOCKER_HOST, no Prometheus is configured and nothing
    answers at the environment's base URL, so the console opens on its embedded
    default: a local sandbox service, a child that must not inherit the stale size.
    """
    if not CONSOLE.exists():
        unavailable(f"{CONSOLE} is missing: run `make console` once to install the console")
    (nothing_there,) = free_ports(1)
    Path(os.environ["RUNBOOK_CONFIG_FILE"]).write_text(
        f'[environments.Development]\nbase_url = "http://127.0.0.1:{nothing_there}"\n'
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    env.update(
        LINES="50",
        COLUMNS="200",
        TERM="xterm-256color",
        DOCKER_HOST=f"unix://{tmp_path / 'no-engine.sock'}",
    )
    return env


@pytest.fixture
def terminals() -> Iterator[list[PtyTerminal]]:
    started: list[PtyTerminal] = []
    yield started
    for terminal in started:
        terminal.close()


def frame_problems(rows: list[str], title: str) -> list[str]:
    """What is wrong with a frame that should fill the whole screen, one line per fault."""
    columns, last = len(rows[0]), len(rows) - 1
    problems = []
    if title not in rows[0]:
        problems.append(f"row 0 is not the header with {title!r}")
    if not rows[1].lstrip().startswith(SERVING_STRIP):
        problems.append(f"row 1 is not the what-is-serving strip ({SERVING_STRIP!r}…)")
    if not rows[2].startswith(NAVIGATOR_TOP):
        problems.append(f"row 2 does not open the navigator with {NAVIGATOR_TOP!r}")
    if not rows[2].endswith("╮"):
        problems.append(f"row 2 does not end with a border in column {columns - 1}")
    if not (rows[last - 1].startswith("╰") and rows[last - 1].endswith("╯")):
        problems.append(f"row {last - 1} is not the bottom border from column 0 to {columns - 1}")
    if FOOTER_KEYS not in rows[last]:
        problems.append(f"row {last} is not the footer with {FOOTER_KEYS!r}")
    footer_rows = [number for number, row in enumerate(rows) if FOOTER_KEYS in row]
    if footer_rows != [last]:
        problems.append(f"the footer is on rows {footer_rows}, not only on row {last}")
    return problems


@pytest.mark.parametrize(
    ("command", "columns", "lines"),
    [
        pytest.param(["make", "console"], 100, 30, id="make-console-100x30"),
        pytest.param([str(CONSOLE)], 120, 40, id="runbook-console-120x40"),
    ],
)
def test_console_paints_at_the_terminals_size_whatever_lines_and_columns_say(
    command: list[str],
    columns: int,
    lines: int,
    wrong_size_env: dict[str, str],
    terminals: list[PtyTerminal],
) -> None:
    title = load(PROJECT_RUNBOOK).title
    assert title, "the project's runbook has a title"
    terminal = PtyTerminal(command, columns=columns, lines=lines, env=wrong_size_env, cwd=REPO)
    terminals.append(terminal)

    terminal.wait_for(
        lambda rows: (
            any(FOOTER_KEYS in row for row in rows) and any(NAVIGATOR_TOP in row for row in rows)
        ),
        FRAME_TIMEOUT_S,
        "footer and navigator",
    )
    problems = frame_problems(terminal.rows, title)
    assert not problems, "\n".join(problems) + "\n" + terminal.dump()
    (console,) = [
        pid
        for pid in session_processes(terminal.process.pid)
        if any(part.endswith("/runbook-console") for part in command_line(pid))
    ]
    # The frame comes first; the embedded sandbox service starts beside it.
    started = wait_until(
        lambda: children(console), FRAME_TIMEOUT_S, "the console started its embedded service"
    )
    for pid in started:
        inherited = environment(pid).keys() & {"LINES", "COLUMNS"}
        assert not inherited, f"{command_line(pid)} inherited {inherited}"

    terminal.press(CTRL_Q)
    assert terminal.wait_exit(EXIT_TIMEOUT_S) == 0, terminal.dump()
    left = terminal.wait_session_empty(EXIT_TIMEOUT_S)
    assert not left, f"processes left behind after quitting: {left}"


def test_a_terminal_that_hangs_up_ends_the_console_with_its_session_saved(
    wrong_size_env: dict[str, str], terminals: list[PtyTerminal]
) -> None:
    """The terminal goes away and no SIGHUP reaches the console (make, not the console,
    is the terminal's controlling process, as under tmux): its reads return nothing at once.
    It used to spin on them at half a core for ever; it now saves its session and exits."""
    terminal = PtyTerminal(["make", "console"], columns=100, lines=30, env=wrong_size_env, cwd=REPO)
    terminals.append(terminal)
    terminal.wait_for(
        lambda rows: any(FOOTER_KEYS in row for row in rows), FRAME_TIMEOUT_S, "footer"
    )
    (console,) = [
        pid
        for pid in session_processes(terminal.process.pid)
        if any(part.endswith("/runbook-console") for part in command_line(pid))
    ]
    terminal.press(b" ")  # tick the highlighted step: something to save
    sessions = Path(os.environ["RUNBOOK_STATE_DIR"]) / "sessions"
    wait_until(
        lambda: any('"done"' in p.read_text() for p in sessions.rglob("*.json")),
        EXIT_TIMEOUT_S,
        "the tick saved",
    )
    terminal.hang_up()
    wait_until(
        lambda: not Path(f"/proc/{console}").exists() or _zombie(console),
        EXIT_TIMEOUT_S,
        "the console ended after its terminal hung up",
    )
    assert any('"done"' in p.read_text() for p in sessions.rglob("*.json"))
    left = terminal.wait_session_empty(EXIT_TIMEOUT_S)
    assert not left, f"processes left behind after the hang-up: {left}"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
