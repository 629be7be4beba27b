"""SIGTERM and SIGHUP: the console leaves the terminal as it found it and keeps the session."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "seed_runbook.md"


def _exited(pid: int) -> tuple[int, int] | None:
    """(pid, status) once the child has exited, else None (it is not waited for)."""
    done, status = os.waitpid(pid, os.WNOHANG)
    return (done, status) if done else None


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if marker in seen:
                return seen
    return seen


def ticked(state: Path) -> bool:
    """Whether a saved session holds a done step."""
    for path in (state / "sessions").glob("*.json"):
        try:
            saved = json.loads(path.read_text())
        except ValueError:
            continue  # being replaced
        if any(step["status"] == "done" for step in saved["steps"].values()):
            return True
    return False


def running(state: Path) -> bool:
    """Whether a run's state says it is running."""
    for path in (state / "runs").glob("*/state.json"):
        try:
            if json.loads(path.read_text())["status"] == "running":
                return True
        except ValueError:
            continue
    return False


@pytest.mark.serial
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_signal_restores_terminal_and_flushes_session(
    signum: signal.Signals, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "RUNBOOK_STATE_DIR": str(state),
        "PYTHONPATH": str(REPO),
    }
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(sys.executable, [sys.executable, "-m", "console.cli", str(FIXTURE)], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        assert b"Quit" in _read_until(fd, b"Quit", 20), "the console drew its first frame"
        time.sleep(0.3)
        os.write(fd, b" ")  # tick the highlighted step: saved at once
        wait_until(lambda: ticked(state), 10, "the session saved the ticked step")
        os.kill(pid, signum)
        tail = _read_until(fd, b"\x1b[?1049l", 5)
        _done, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert b"\x1b[?1049l" in tail, "the alternate screen was left"
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 128 + signum
    sessions = list((state / "sessions").glob("*.json"))
    assert len(sessions) == 1
    saved = json.loads(sessions[0].read_text())
    assert any(step["status"] == "done" for step in saved["steps"].values())


@pytest.mark.serial
def test_quitting_while_a_step_runs_does_not_wait_for_it(tmp_path: Path) -> None:
    folder = tmp_path / "drill"
    folder.mkdir()
    runbook = folder / "runbook.md"
    gate = folder / "gate"
    os.mkfifo(gate)  # the step blocks on it until the test lets it go
    runbook.write_text(f"# Drill\n\n## Nap\n\n```bash\n# Wait for the gate\ncat {gate}\n```\n")
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "RUNBOOK_STATE_DIR": str(tmp_path / "state"),
        "PYTHONPATH": str(REPO),
    }
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(sys.executable, [sys.executable, "-m", "console.cli", str(runbook)], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        assert b"Quit" in _read_until(fd, b"Quit", 20)
        time.sleep(0.3)
        os.write(fd, b"r")  # read-only: runs at once
        assert b"c cancels" in _read_until(fd, b"c cancels", 10)
        wait_until(lambda: running(tmp_path / "state"), 10, "the step's run is recorded running")
        os.write(fd, b"q")
        assert b"Quit anyway" in _read_until(fd, b"Quit anyway", 5)
        os.write(fd, b"y")
        _read_until(fd, b"\x1b[?1049l", 5)
        # The step blocks on the gate until after this: a console that waited for it would
        # never exit here.
        _done, status = wait_until(
            lambda: _exited(pid),
            60,
            "the console exits while its step still runs",
        )
    finally:
        os.close(fd)
    assert os.WIFEXITED(status)
    runs = list((tmp_path / "state" / "runs").glob("*/state.json"))
    assert runs and json.loads(runs[0].read_text())["status"] == "running", "the step carries on"
    subprocess.Popen(["timeout", "60", "sh", "-c", f": > '{gate}'"])  # let the step end
