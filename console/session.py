"""Keeps the checklist's progress in the core's session store, and restores it on start.

Times are stored as ISO 8601 in UTC by the core and shown in local time here. Saving
happens on the core's `SessionWriter` thread; a failed save is posted back as
`SessionNotSaved`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from textual.message import Message

from console.messages import SessionNotSaved
from console.progress import Progress, StepRecord
from console.settings import ConsoleSettings
from runbook.model import Runbook
from runbook.storage.session import Session, SessionStore, SessionWriter, StepState


def _to_iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _from_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).astimezone()
    except ValueError:
        return None


def to_state(record: StepRecord, run_ids: list[str]) -> StepState:
    return StepState(
        status=record.status,
        at=_to_iso(record.at),
        by=record.by,
        reason=record.reason,
        notes=list(record.notes),
        output=list(record.output),
        exit_code=record.exit_code,
        started_at=_to_iso(record.started_at),
        run_ids=list(run_ids),
    )


def to_record(state: StepState) -> StepRecord:
    return StepRecord(
        status=state.status,
        at=_from_iso(state.at),
        by=state.by,
        reason=state.reason,
        notes=list(state.notes),
        output=[(str(stream), str(text)) for stream, text in state.output],
        exit_code=state.exit_code,
        started_at=_from_iso(state.started_at),
    )


class SessionKeeper:
    """The progress sink: every change is queued for saving (atomically, by the core's writer).

    The checklist is the session of this runbook in this environment, outside incidents;
    while an incident is the console's, it is that incident's own (`switch`).

    Args:
        runbook: the runbook whose session this is.
        settings: where sessions live, the clock, whether to resume.
        environment: kept with a new session.
        post: delivers `SessionNotSaved` from the writer thread (thread-safe, e.g. the
            app's `post_message`).
    """

    def __init__(
        self,
        runbook: Runbook,
        settings: ConsoleSettings,
        environment: str,
        post: Callable[[Message], object],
    ) -> None:
        self.runbook = runbook
        self.settings = settings
        self.environment = environment
        self.post = post
        directory = settings.session_dir or settings.config.sessions_dir
        self.store = SessionStore(Path(directory))
        self.writer = SessionWriter(on_error=lambda error: self.post(SessionNotSaved(str(error))))
        self.session: Session | None = None
        self.incident: str | None = None
        """The incident whose checklist this is; None outside incidents."""
        self.last_procedure: str | None = None
        self.resumed_steps = 0
        self.saved_at: str | None = None
        self.error: str | None = None
        """Why the session cannot be saved, shown once; the console keeps working."""

    @property
    def runbook_path(self) -> str | None:
        return self.runbook.path or self.settings.runbook_path or None

    def restore(self, progress: Progress) -> None:
        """Put back ticks, notes and outputs from the saved session, if any (before the first
        frame: the only read of the session file)."""
        path = self.runbook_path
        if path is None:
            return
        session = (
            self.store.load(path, self.environment, self.incident) if self.settings.resume else None
        )
        if session is None:
            return
        self.session = session
        self.last_procedure = session.procedure
        for key, state in session.steps.items():
            procedure_key, _, index = key.rpartition("#")
            if not index.isdigit():
                continue
            progress.restore(procedure_key, int(index), to_record(state))
            self.resumed_steps += 1

    def switch(self, incident: str | None, progress: Progress) -> bool:
        """Make the checklist `incident`'s (None: the environment's outside incidents):
        its saved ticks, or none for a new incident. A step running now stays running in
        the new checklist, where its end is recorded. False when it already is."""
        if incident == self.incident:
            return False
        running = [(key, record) for key, record in progress.items() if record.status == "running"]
        self.incident = incident
        self.session = None
        self.resumed_steps = 0
        self.saved_at = None
        progress.clear()
        self.restore(progress)
        for (procedure_key, step_index), record in running:
            progress.restore(procedure_key, step_index, record)
            self.saved(procedure_key, step_index, record)
        return True

    def rebase(self, runbook: Runbook, moves: dict[str, dict[int, int]]) -> None:
        """The runbook was reloaded: its steps' records move to their new indexes
        (`moves`, per procedure: old index → new), and the session is of the new text."""
        self.runbook = runbook
        session = self.session
        if session is None:
            return
        with self.writer.lock:
            steps = {}
            for key, state in session.steps.items():
                procedure_key, _, index = key.rpartition("#")
                moved = moves.get(procedure_key, {}).get(int(index)) if index.isdigit() else None
                if moved is not None:
                    steps[Session.key(procedure_key, moved)] = state
            session.steps = steps
            session.runbook_sha256 = runbook.sha256
        self.writer.save(session)

    def running_runs(self) -> list[tuple[str, int, str]]:
        """(procedure key, step index, last run id) of steps saved as running."""
        found: list[tuple[str, int, str]] = []
        if self.session is None:
            return found
        for key, state in self.session.steps.items():
            procedure_key, _, index = key.rpartition("#")
            if state.status == "running" and state.run_ids and index.isdigit():
                found.append((procedure_key, int(index), state.run_ids[-1]))
        return found

    def _ensure_session(self) -> Session | None:
        if self.session is None and self.runbook_path is not None:
            self.session = self.store.new(
                self.runbook_path, self.runbook.sha256, self.environment, self.incident
            )
        return self.session

    def saved(
        self, procedure_key: str, step_index: int, record: StepRecord, run_id: str | None = None
    ) -> None:
        """Record a step's change in the session and queue the write (no IO here)."""
        self.last_procedure = procedure_key
        session = self._ensure_session()
        if session is None:
            return
        with self.writer.lock:
            run_ids = list(session.step(procedure_key, step_index).run_ids)
            if run_id:
                run_ids.append(run_id)
            session.set(procedure_key, step_index, to_state(record, run_ids))
        self.writer.save(session)
        self.saved_at = self.settings.clock().strftime("%H:%M")

    def not_saved(self, error: str) -> bool:
        """A write failed: True the first time, when the console should say so."""
        if self.error is not None:
            return False
        self.error = error
        return True

    def add_run_ids(self, procedure_key: str, step_index: int, run_ids: tuple[str, ...]) -> None:
        session = self.session
        if session is None:
            return
        with self.writer.lock:
            state = session.step(procedure_key, step_index)
            state.run_ids.extend(run_id for run_id in run_ids if run_id not in state.run_ids)
            session.set(procedure_key, step_index, state)
        self.writer.save(session)

    def discard(self) -> None:
        """Start over: forget the saved session (after any write under way)."""
        self.writer.flush()
        path = self.runbook_path
        if path is not None:
            self.store.discard(path, self.environment, self.incident)
        self.session = None
        self.resumed_steps = 0
        self.saved_at = None

    def flush(self, timeout_s: float | None = None) -> bool:
        """Write the session once more and wait until it is on disk (quit, SIGTERM/SIGHUP)."""
        if self.session is not None:
            self.writer.save(self.session)
        return self.writer.flush(timeout_s)

    def describe(self) -> str:
        if self.error:
            return "NOT SAVED"
        if self.saved_at:
            return "session saved"
        if self.resumed_steps:
            return "resumed"
        return "new session"
