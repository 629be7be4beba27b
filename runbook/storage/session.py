"""Checklist progress per runbook, environment and incident, saved atomically after every
change.

One JSON file per (runbook, environment, incident) in `<state dir>/sessions/`, keyed by
the runbook's absolute path, the environment's name and the incident's id: ticks made
in Development never show in Production, and a new incident starts on an unticked
checklist. Every change rewrites the file via temp file + fsync + rename, so a
`kill -9` at any moment leaves the previous or the new version, never a torn one.

```python
store = SessionStore(config.sessions_dir)    # <state dir>/sessions
session = store.load(path, "Production")     # None when there is nothing to resume
if session is None:
    session = store.start(path, runbook.sha256, "Production")
session.mark("Rollback Procedure / Manual Rollback", 2, "done", by="alice")   # saved
session.mark(key, 3, "skipped", reason="no recent deployment")            # saved
session.add_note(key, 3, "checked with Bob")                              # saved
session.put(key, 4, StepState(status="failed", exit_code=2))              # saved
```

A program with an event loop changes the session with `set` (no IO) and hands the
saving to a `SessionWriter`, which writes on its own thread, newest state last.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from runbook.storage.atomic_file import read_json, write_json_atomic

StepStatus = Literal["pending", "running", "done", "skipped", "failed", "cancelled"]
"""A checklist step's state. A cancelled step was stopped by someone (`by` says who);
a step that timed out or failed its check is failed."""
STEP_STATUSES: tuple[StepStatus, ...] = (
    "pending",
    "running",
    "done",
    "skipped",
    "failed",
    "cancelled",
)
OUTPUT_LINES_KEPT = 200
FORMAT_VERSION = 1


def checklist_status(run_status: str) -> StepStatus:
    """The checklist state a finished run leaves its step in: succeeded is done, cancelled
    is cancelled, refused leaves it pending; failed, timed out or lost is failed."""
    ended: dict[str, StepStatus] = {
        "succeeded": "done",
        "cancelled": "cancelled",
        "refused": "pending",
    }
    return ended.get(run_status, "failed")


_CANCELLED_REASON = re.compile(r"^cancelled(?: by (\S+))?")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class StepState:
    """What happened to one step (times are ISO 8601 strings in UTC)."""

    status: StepStatus = "pending"
    at: str | None = None
    """When the status last changed."""
    by: str | None = None
    reason: str | None = None
    """Why it was skipped, or how it failed."""
    notes: list[str] = field(default_factory=list)
    output: list[tuple[str, str]] = field(default_factory=list)
    """(stream, line) of the last run, newest last, at most OUTPUT_LINES_KEPT."""
    exit_code: int | None = None
    started_at: str | None = None
    run_ids: list[str] = field(default_factory=list)
    """Runs (see runbook.execution.runs) that executed this step, oldest first."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepState:
        known = {f.name for f in fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in known})
        state.output = [(str(s), str(t)) for s, t in state.output]
        if state.status not in STEP_STATUSES:
            state.reason = f"unknown state {state.status!r} in the saved session"
            state.status = "failed"
        cancelled = _CANCELLED_REASON.match(state.reason or "")
        if state.status == "failed" and cancelled:
            # Saved before cancelled was a state of its own: the reason says who cancelled.
            state.status = "cancelled"
            state.by = cancelled.group(1) or state.by
        return state


@dataclass
class Session:
    """The checklist state of one runbook; every mutating method saves it."""

    runbook_path: str
    runbook_sha256: str
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    environment: str | None = None
    incident: str | None = None
    """The incident whose checklist this is; None outside incidents."""
    procedure: str | None = None
    """The procedure the operator was on, to reopen it."""
    steps: dict[str, StepState] = field(default_factory=dict)
    store: SessionStore | None = field(default=None, repr=False, compare=False)

    @staticmethod
    def key(procedure_key: str, step_index: int) -> str:
        return f"{procedure_key}#{step_index}"

    def step(self, procedure_key: str, step_index: int) -> StepState:
        """The state of a step (pending if never touched); does not save."""
        return self.steps.get(self.key(procedure_key, step_index)) or StepState()

    def set(self, procedure_key: str, step_index: int, state: StepState) -> None:
        """Replace a step's state, without saving."""
        state.output = state.output[-OUTPUT_LINES_KEPT:]
        self.steps[self.key(procedure_key, step_index)] = state
        self.procedure = procedure_key

    def put(self, procedure_key: str, step_index: int, state: StepState) -> None:
        """Replace a step's state and save."""
        self.set(procedure_key, step_index, state)
        self.save()

    def mark(
        self,
        procedure_key: str,
        step_index: int,
        status: StepStatus,
        *,
        by: str | None = None,
        reason: str | None = None,
        exit_code: int | None = None,
        run_id: str | None = None,
        output: list[tuple[str, str]] | None = None,
    ) -> StepState:
        """Set a step's status (with who, why, and the run's outcome) and save."""
        state = self.step(procedure_key, step_index)
        state.status, state.at, state.by, state.reason = status, _now(), by, reason
        if status == "running":
            state.started_at = state.at
        if exit_code is not None:
            state.exit_code = exit_code
        if run_id is not None:
            state.run_ids.append(run_id)
        if output is not None:
            state.output = list(output)
        self.put(procedure_key, step_index, state)
        return state

    def add_note(self, procedure_key: str, step_index: int, text: str) -> None:
        state = self.step(procedure_key, step_index)
        state.notes.append(text)
        self.put(procedure_key, step_index, state)

    def save(self) -> None:
        if self.store is not None:
            self.store.save(self)

    @property
    def changed_since(self) -> bool:
        """Whether the runbook on disk differs from the one this session was made with."""
        try:
            current = hashlib.sha256(Path(self.runbook_path).read_bytes()).hexdigest()
        except OSError:
            return True
        return current != self.runbook_sha256

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "runbook_path": self.runbook_path,
            "runbook_sha256": self.runbook_sha256,
            "created": self.created,
            "updated": self.updated,
            "environment": self.environment,
            "incident": self.incident,
            "procedure": self.procedure,
            "steps": {key: asdict(state) for key, state in self.steps.items()},
        }


class SessionStore:
    """Sessions on disk, one file per (runbook path, environment, incident).

    A session saved without an environment (by older versions, or by a program that
    names none) is keyed by the runbook's path alone; it is resumed for the environment
    it recorded, and never for another.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(
        self, runbook_path: str | Path, environment: str | None = None, incident: str | None = None
    ) -> Path:
        key = str(Path(runbook_path).expanduser().resolve())
        if environment is not None or incident is not None:
            key = "\n".join((key, (environment or "").casefold(), incident or ""))
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def file_of(self, session: Session) -> Path:
        return self.path_for(session.runbook_path, session.environment, session.incident)

    def load(
        self, runbook_path: str | Path, environment: str | None = None, incident: str | None = None
    ) -> Session | None:
        """The saved session of this runbook in `environment` during `incident` (None:
        outside incidents), or None (nothing saved, or unreadable)."""
        session = self._read(self.path_for(runbook_path, environment, incident))
        if session is None and incident is None:
            session = self._legacy(runbook_path, environment)
        if session is not None:
            session.environment = session.environment or environment
            session.incident = incident
        return session

    def _legacy(self, runbook_path: str | Path, environment: str | None) -> Session | None:
        """A session saved before sessions were kept per environment, when it names
        `environment`: it is resumed there, and nowhere else."""
        if environment is None:
            return None
        legacy = self._read(self.path_for(runbook_path))
        if legacy is None or legacy.incident is not None or not legacy.environment:
            return None
        return legacy if legacy.environment.casefold() == environment.casefold() else None

    def _read(self, path: Path) -> Session | None:
        data = read_json(path)
        if not isinstance(data, dict) or "runbook_path" not in data:
            return None
        try:
            steps = {k: StepState.from_dict(v) for k, v in dict(data.get("steps", {})).items()}
            incident = data.get("incident")
            return Session(
                runbook_path=str(data["runbook_path"]),
                runbook_sha256=str(data.get("runbook_sha256", "")),
                created=str(data.get("created", _now())),
                updated=str(data.get("updated", _now())),
                environment=data.get("environment"),
                incident=str(incident) if incident else None,
                procedure=data.get("procedure"),
                steps=steps,
                store=self,
            )
        except (TypeError, ValueError):
            return None

    def new(
        self,
        runbook_path: str | Path,
        runbook_sha256: str,
        environment: str | None = None,
        incident: str | None = None,
    ) -> Session:
        """A fresh session, not saved yet."""
        absolute = str(Path(runbook_path).expanduser().resolve())
        return Session(
            runbook_path=absolute,
            runbook_sha256=runbook_sha256,
            environment=environment,
            incident=incident,
            store=self,
        )

    def start(
        self,
        runbook_path: str | Path,
        runbook_sha256: str,
        environment: str | None = None,
        incident: str | None = None,
    ) -> Session:
        """A fresh session (replacing any saved one), saved at once."""
        session = self.new(runbook_path, runbook_sha256, environment, incident)
        session.save()
        return session

    def resume(
        self,
        runbook_path: str | Path,
        runbook_sha256: str,
        environment: str,
        incident: str | None = None,
    ) -> Session:
        """The saved session of this runbook in `environment` (during `incident`) when it
        is of this very runbook text, else a fresh one, saved."""
        session = self.load(runbook_path, environment, incident)
        if session is None or session.runbook_sha256 != runbook_sha256:
            session = self.start(runbook_path, runbook_sha256, environment, incident)
        return session

    def save(self, session: Session) -> None:
        session.updated = _now()
        write_json_atomic(self.file_of(session), session.to_dict())

    def discard(
        self, runbook_path: str | Path, environment: str | None = None, incident: str | None = None
    ) -> None:
        self.path_for(runbook_path, environment, incident).unlink(missing_ok=True)
        if incident is None and self._legacy(runbook_path, environment) is not None:
            self.path_for(runbook_path).unlink(missing_ok=True)


WRITER_IDLE_S = 0.5
"""The writer thread ends after this long with nothing to write (a new change starts another)."""


class SessionWriter:
    """Saves sessions on one thread of its own, so a UI thread never waits for the disk.

    Changes are coalesced: while a write is under way, any number of `save` calls lead
    to one more write, of the newest state. The thread is not a daemon, so a write
    under way when the program ends is finished; `flush` waits for everything queued.

    ```python
    writer = SessionWriter(on_error=lambda error: print(error))
    with writer.lock:                     # the writer thread reads the session under it
        session.set(key, 1, StepState(status="done"))
    writer.save(session)                  # returns at once
    writer.flush()                        # on quit: the newest state is on disk
    ```
    """

    def __init__(self, on_error: Callable[[OSError], object]) -> None:
        self.on_error = on_error
        """Called on the writer thread when a write fails."""
        self.lock = threading.Lock()
        """Held while the session is serialised: hold it to change the session."""
        self._condition = threading.Condition()
        self._pending: dict[int, Session] = {}
        """Sessions waiting to be written, by identity: each gets its newest state written."""
        self._writing = False
        self._thread: threading.Thread | None = None

    def save(self, session: Session) -> None:
        """Queue a write of `session`'s newest state (thread-safe, returns at once)."""
        with self._condition:
            self._pending[id(session)] = session
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name="session-writer")
                self._thread.start()
            self._condition.notify_all()

    def _drain(self) -> None:
        while True:
            with self._condition:
                if not self._pending:
                    self._condition.wait(WRITER_IDLE_S)
                if not self._pending:
                    self._thread = None
                    return
                _, session = self._pending.popitem()
                self._writing = True
            try:
                self._write(session)
            finally:
                with self._condition:
                    self._writing = False
                    self._condition.notify_all()

    def _write(self, session: Session) -> None:
        with self.lock:
            session.updated = _now()
            data = session.to_dict()
        try:
            if session.store is not None:
                write_json_atomic(session.store.file_of(session), data)
        except OSError as error:
            self.on_error(error)

    def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until every queued write is on disk; False if `timeout_s` ran out first."""
        with self._condition:
            return self._condition.wait_for(
                lambda: not self._pending and not self._writing, timeout_s
            )
