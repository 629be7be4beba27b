"""A program on a pseudo-terminal of a known size, its screen read through pyte.

The program gets the pty as its controlling terminal, in a session of its own, so
the size it reads from the terminal is the one set here and `close()` can end
everything it started.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pyte

CTRL_Q = b"\x11"


def _take_terminal() -> None:
    """In the child, after setsid: make the pty on stdin its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _live_processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, session id) of every process that is not a zombie."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state, ppid, pgrp, session, ...
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            yield int(entry.name), int(fields[1]), int(fields[3])


def session_processes(session_id: int) -> list[int]:
    """Pids of the live processes in a session (zombies left out: they hold nothing)."""
    return [pid for pid, _, session in _live_processes() if session == session_id]


def children(parent_pid: int) -> list[int]:
    return [pid for pid, parent, _ in _live_processes() if parent == parent_pid]


def command_line(pid: int) -> list[str]:
    return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode().split("\0")[:-1]


def environment(pid: int) -> dict[str, str]:
    """The environment a process was started with."""
    raw = (Path("/proc") / str(pid) / "environ").read_bytes().decode(errors="replace")
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


class PtyTerminal:
    """Runs `argv` on a `columns` x `lines` pseudo-terminal and emulates its screen."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        columns: int,
        lines: int,
        env: Mapping[str, str],
        cwd: Path,
    ) -> None:
        self.columns, self.lines = columns, lines
        self.screen = pyte.Screen(columns, lines)
        self._stream = pyte.ByteStream(self.screen)
        self._master, slave = os.openpty()
        self.started_at = time.monotonic()
        """When the program was launched (time.monotonic())."""
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        try:
            self.process = subprocess.Popen(
                list(argv),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
                preexec_fn=_take_terminal,  # noqa: PLW1509 - runs after setsid, as it must
            )
        finally:
            os.close(slave)
        self._closed = False
        self._hung_up = False
        self.bytes_read = 0
        """Everything the program wrote so far, in bytes (the benches count it)."""

    @property
    def rows(self) -> list[str]:
        """The screen, one string of `columns` characters per row."""
        return list(self.screen.display)

    def dump(self) -> str:
        return "\n".join(f"{number:2} |{row}|" for number, row in enumerate(self.rows))

    def _read(self, timeout_s: float) -> bool:
        """Feed what the program wrote within `timeout_s` to the screen; False at its end."""
        if self._closed:
            return False
        ready, _, _ = select.select([self._master], [], [], timeout_s)
        if not ready:
            return True
        try:
            data = os.read(self._master, 65536)
        except OSError as error:  # EIO: every holder of the pty's other end has gone
            if error.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self._closed = True
            return False
        self.bytes_read += len(data)
        self._stream.feed(data)
        return True

    def pump(self, seconds: float) -> None:
        """Read (and emulate) whatever the program writes for `seconds`."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if not self._read(min(remaining, 0.2)):
                time.sleep(min(remaining, 0.2))  # the program ended: nothing more comes

    def wait_for(self, condition: Callable[[list[str]], bool], timeout_s: float, what: str) -> None:
        """Read output until `condition(rows)` holds; fails with the screen after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while not condition(self.rows):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout_s:g}s; the screen:\n{self.dump()}")
            if not self._read(0.2) and self.process.poll() is not None:
                raise AssertionError(
                    f"the program exited ({self.process.returncode}) before {what}; "
                    f"the screen:\n{self.dump()}"
                )

    def press(self, keys: bytes) -> None:
        os.write(self._master, keys)

    def wait_exit(self, timeout_s: float) -> int:
        """Read output until the program exits; its exit code."""
        deadline = time.monotonic() + timeout_s
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"still running {timeout_s:g}s later:\n{self.dump()}")
            self._read(0.2)
        return self.process.returncode

    def wait_session_empty(self, timeout_s: float) -> list[int]:
        """Wait until nothing the program started is left; the pids still there otherwise."""
        deadline = time.monotonic() + timeout_s
        left = session_processes(self.process.pid)
        while left and time.monotonic() < deadline:
            self._read(0.1)
            left = session_processes(self.process.pid)
        return left

    def hang_up(self) -> None:
        """The terminal goes away (an SSH connection dropped): its master end is closed."""
        if not self._hung_up:
            self._closed = self._hung_up = True
            os.close(self._master)

    def close(self) -> None:
        """Kill whatever the program left in its session and release the pty."""
        for pid in session_processes(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        if not self._hung_up:
            os.close(self._master)
