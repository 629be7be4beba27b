"""`runbook-console run` on a real terminal (a pty): y/N, typed production name, Ctrl-C cancel."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runbook.storage.session import SessionStore

REPO = Path(__file__).resolve().parents[2]

RUNBOOK = """# Test runbook

## Restart

```bash
# Restart the web container
touch restarted
```

## Long job

```bash
# Rebuild everything
echo rebuilding; sleep 60
```
"""


class Terminal:
    """A child process on a pseudo-terminal, read until an expected prompt appears."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "console.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=REPO,
            start_new_session=True,
            preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0),
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while text not in self.seen:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} not in {self.seen!r}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    raise AssertionError(f"{text!r} not in {self.seen!r}") from None

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self) -> int:
        code = self.process.wait(60)
        os.close(self.master)
        return code


@pytest.fixture
def runbook_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(tmp_path / "history"))
    path = tmp_path / "repo" / "runbook.md"
    path.parent.mkdir()
    path.write_text(RUNBOOK)
    return path


def test_yes_runs_and_no_declines(runbook_path: Path) -> None:
    declined = Terminal("run", str(runbook_path), "-p", "Restart")
    declined.expect("Run it? [y/N]")
    declined.send("\n")
    declined.expect("declined")
    assert declined.finish() == 3
    assert not (runbook_path.parent / "restarted").exists()

    accepted = Terminal("run", str(runbook_path), "-p", "Restart")
    accepted.expect("touch restarted")
    accepted.send("y\n")
    accepted.expect("succeeded")
    assert accepted.finish() == 0
    assert (runbook_path.parent / "restarted").exists()


def test_production_needs_the_name_typed(runbook_path: Path) -> None:
    wrong = Terminal("run", str(runbook_path), "-p", "Restart", "--env", "Production")
    wrong.expect("Type Production")
    wrong.send("y\n")
    wrong.expect("not confirmed")
    assert wrong.finish() == 3
    assert not (runbook_path.parent / "restarted").exists()

    right = Terminal("run", str(runbook_path), "-p", "Restart", "--env", "Production")
    right.expect("Type Production")
    right.send("Production\n")
    right.expect("succeeded")
    assert right.finish() == 0


def test_ctrl_c_cancels_the_running_step(
    runbook_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(tmp_path / "state"))
    term = Terminal("run", str(runbook_path), "-p", "Long job")  # read-only: runs at once
    term.expect("rebuilding")
    term.send("\x03")
    term.expect("cancelled by")
    assert term.finish() == 1
    session = SessionStore(tmp_path / "state" / "sessions").load(runbook_path, "Development")
    assert session is not None
    step = session.step("Long job", 1)
    assert step.status == "cancelled", "a cancel is saved as cancelled, not failed"
    assert step.by


def test_reopening_offers_to_resume(runbook_path: Path) -> None:
    first = Terminal("run", str(runbook_path), "-p", "Restart")
    first.expect("Run it? [y/N]")
    first.send("y\n")
    first.expect("succeeded")
    assert first.finish() == 0
    (runbook_path.parent / "restarted").unlink()

    again = Terminal("run", str(runbook_path), "-p", "Restart")
    again.expect("Resume: skip the 1 step(s) already done? [Y/n]")
    again.send("\n")
    again.expect("already done in the saved session; skipping")
    assert again.finish() == 0
    assert not (runbook_path.parent / "restarted").exists()
