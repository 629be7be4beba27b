"""Runs on disk: one directory per executed command, shared by supervisor and consoles.

`<state dir>/runs/<run id>/` holds
- `spec.json`: what to run and where (a `run_spec.RunSpec`, written by the console, no secrets);
- `state.json`: `starting`, `running`, then the final status (written atomically
  by the supervisor, last of all, after the audit and history records);
- `output.jsonl`: one `{"t", "stream", "text"}` object per masked output line;
- `cancel.json`: who asked to cancel (written by a console before it signals).

Because the supervisor outlives the console, a new console finds every run
here: `list_runs(config.runs_dir)` shows them running or finished, `read_output()` their output.
`prune_runs()` removes old finished ones (each supervisor calls it as it ends);
the audit trail and deployment history live elsewhere and are never touched.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from runbook.storage.atomic_file import read_json

RunStatus = Literal[
    "starting", "running", "succeeded", "failed", "cancelled", "timed-out", "refused", "lost"
]
FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled", "timed-out", "refused", "lost"})
Stream = Literal["stdout", "stderr", "system"]
RUN_ID = re.compile(r"^(\d{8}T\d{6})-[0-9a-f]{8}$")
"""What `new_run_id` makes; only directories named so are ever pruned."""
PRUNING_PREFIX = ".pruning-"
"""A run being removed is renamed first, so no reader sees it half gone."""
PRUNE_MIN_AGE = timedelta(hours=1)
"""Whatever the retention says: a console may still be reading a run that just ended."""


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


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """Every run in `runs_dir` (the config's `runs_dir`), newest first."""
    try:
        entries = sorted(runs_dir.iterdir(), key=lambda p: p.name, reverse=True)
    except OSError:
        return []
    return [
        info
        for entry in entries
        if not entry.name.startswith(".") and (info := load_run(entry)) is not None
    ]


def find_run(runs: list[RunInfo], prefix: str) -> RunInfo | None:
    """The one run whose id starts with `prefix`; None when no run or several do."""
    matches = [info for info in runs if info.run_id.startswith(prefix)]
    return matches[0] if len(matches) == 1 else None


def unfinished_runs(runs_dir: Path, runbook_path: str | None) -> list[RunInfo]:
    """Runs of this runbook still going: a console that died, another operator's step."""
    if runbook_path is None:
        return []
    absolute = str(Path(runbook_path).resolve())
    return [
        info
        for info in list_runs(runs_dir)
        if info.spec.get("runbook_path") == absolute and not info.finished
    ]


def run_started(run_id: str) -> datetime | None:
    """When a run was created, from its id (UTC); None for a name `new_run_id` did not make."""
    match = RUN_ID.match(run_id)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def prune_runs(
    runs_dir: Path,
    keep_count: int,
    keep_days: float,
    *,
    now: datetime | None = None,
    exclude: Collection[str] = (),
    protect: Collection[Path] = (),
) -> list[str]:
    """Remove finished runs that are neither among the newest `keep_count` nor younger
    than `keep_days`; the ids removed.

    Only directories named like a run id are considered, newest first by name, and only
    old ones are opened, so a pass costs a directory listing and a few small reads. A run
    is kept while it is running, while its supervisor's pid is alive, when it ended within
    `keep_days` (never less than an hour), or when it holds one of the `protect` paths
    (the audit trail, the deployment history). A run without `state.json` that old never
    started (a supervisor writes it first) and goes too.

    Args:
        runs_dir: the `runs` directory of a state dir.
        keep_count: the newest runs kept whatever their age.
        keep_days: runs younger than this are kept however many there are.
        now: the present (tests pass one).
        exclude: run ids never removed (the caller's own run).
        protect: files whose run directory, if any, must stay.
    """
    now = now or datetime.now(UTC)
    cutoff = now - max(timedelta(days=keep_days), PRUNE_MIN_AGE)
    try:
        names = sorted(os.listdir(runs_dir), reverse=True)
    except OSError:
        return []
    for name in names:
        if name.startswith(PRUNING_PREFIX):  # left by a pass that was killed midway
            shutil.rmtree(runs_dir / name, ignore_errors=True)
    guarded = [path.resolve() for path in protect]
    removed: list[str] = []
    for name in [name for name in names if RUN_ID.match(name)][keep_count:]:
        started = run_started(name)
        if name in exclude or started is None or started > cutoff:
            continue
        directory = runs_dir / name
        if not _prunable(directory, cutoff) or any(
            path.is_relative_to(directory.resolve()) for path in guarded
        ):
            continue
        doomed = runs_dir / f"{PRUNING_PREFIX}{name}"
        try:
            directory.rename(doomed)
        except OSError:
            continue  # gone already (another console pruning) or not ours to move
        shutil.rmtree(doomed, ignore_errors=True)
        removed.append(name)
    return removed


def _prunable(directory: Path, cutoff: datetime) -> bool:
    """Whether an old run has finished for good (see `prune_runs`)."""
    if not directory.is_dir() or directory.is_symlink():
        return False
    info = load_run(directory)
    if info is None:
        return False
    if not (directory / "state.json").exists():
        return True
    pid = info.state.get("supervisor_pid")
    if not info.finished or (isinstance(pid, int) and pid_alive(pid)):
        return False
    ended = info.state.get("ended")
    try:
        ended_at = datetime.fromisoformat(str(ended)) if ended else None
    except ValueError:
        ended_at = None
    return ended_at is None or ended_at <= cutoff


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
