"""Runs on disk: one directory per executed command, shared by supervisor and consoles.

`<state dir>/runs/<run id>/` holds
- `spec.json`: what to run and where (written by the console, no secrets);
- `state.json`: `starting`, `running`, then the final status (written atomically
  by the supervisor, last of all, after the audit and history records);
- `output.jsonl`: one `{"t", "stream", "text"}` object per masked output line;
- `cancel.json`: who asked to cancel (written by a console before it signals).

Because the supervisor outlives the console, a new console finds every run
here: `list_runs()` shows them running or finished, `read_output()` their output.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from runbook.atomic_file import read_json

RunStatus = Literal[
    "starting", "running", "succeeded", "failed", "cancelled", "timed-out", "refused", "lost"
]
FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled", "timed-out", "refused", "lost"})
Stream = Literal["stdout", "stderr", "system"]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(4)


@dataclass(frozen=True)
class OutputLine:
    time: str
    """ISO 8601 (UTC) time the line was read."""
    stream: Stream
    text: str
    """The line without its newline, secrets masked."""

    @classmethod
    def from_json(cls, raw: str) -> OutputLine | None:
        try:
            data = json.loads(raw)
            return cls(time=str(data["t"]), stream=data["stream"], text=str(data["text"]))
        except (ValueError, KeyError, TypeError):
            return None

    def to_json(self) -> str:
        return json.dumps({"t": self.time, "stream": self.stream, "text": self.text}) + "\n"


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    directory: Path
    spec: dict[str, Any]
    state: dict[str, Any]

    @property
    def status(self) -> RunStatus:
        """The final status, `running`, or `lost` when the supervisor died without one."""
        status = str(self.state.get("status", "starting"))
        if status in FINAL_STATUSES:
            return status  # type: ignore[return-value]
        pid = self.state.get("supervisor_pid")
        if isinstance(pid, int) and not pid_alive(pid):
            return "lost"
        return status  # type: ignore[return-value]

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def load_run(directory: Path) -> RunInfo | None:
    spec = read_json(directory / "spec.json")
    if not isinstance(spec, dict):
        return None
    state = read_json(directory / "state.json")
    return RunInfo(directory.name, directory, spec, state if isinstance(state, dict) else {})


def list_runs(runs_dir: Path | None = None) -> list[RunInfo]:
    """Every run, newest first (by default in the configured state dir)."""
    if runs_dir is None:
        from runbook.config import load_config

        runs_dir = load_config().runs_dir
    try:
        entries = sorted(runs_dir.iterdir(), key=lambda p: p.name, reverse=True)
    except OSError:
        return []
    return [info for entry in entries if (info := load_run(entry)) is not None]


def read_output(directory: Path) -> list[OutputLine]:
    """A run's output so far."""
    return list(iter_output(directory / "output.jsonl"))


def iter_output(path: Path) -> Iterator[OutputLine]:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for raw in handle:
                if raw.endswith("\n") and (line := OutputLine.from_json(raw)) is not None:
                    yield line
    except FileNotFoundError:
        return


class OutputTail:
    """Reads new complete lines of `output.jsonl` as the supervisor appends them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""

    def read_new(self) -> list[OutputLine]:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return []
        try:
            os.lseek(fd, self._offset, os.SEEK_SET)
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(fd)
        data = self._partial + b"".join(chunks)
        self._offset += sum(len(c) for c in chunks)
        *complete, self._partial = data.split(b"\n")
        lines = []
        for raw in complete:
            line = OutputLine.from_json(raw.decode("utf-8", "replace"))
            if line is not None:
                lines.append(line)
        return lines
