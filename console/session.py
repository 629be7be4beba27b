"""Keeps the checklist's progress in the core's session store, and restores it on start.

Times are stored as ISO 8601 in UTC by the core and shown in local time here.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from console.progress import StepRecord
from console.settings import ConsoleSettings
from runbook.storage.session import Session, SessionStore, StepState

if TYPE_CHECKING:
    from console.app import RunbookConsole


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
    """The progress sink: every change is saved at once (atomically, by the core)."""

    def __init__(self, app: RunbookConsole, settings: ConsoleSettings) -> None:
        self.app = app
        self.settings = settings
        directory = settings.session_dir or settings.config.sessions_dir
        self.store = SessionStore(Path(directory))
        self.session: Session | None = None
        self.last_procedure: str | None = None
        self.resumed_steps = 0
        self.saved_at: str | None = None
        self.error: str | None = None
        """Why the session cannot be saved, shown once; the console keeps working."""

    @property
    def runbook_path(self) -> str | None:
        return self.app.runbook.path or self.settings.runbook_path or None

    def restore(self) -> None:
        """Put back ticks, notes and outputs from the saved session, if any."""
        path = self.runbook_path
        if path is None:
            return
        session = self.store.load(path) if self.settings.resume else None
        if session is None:
            return
        self.session = session
        self.last_procedure = session.procedure
        progress = self.app.progress
        for key, state in session.steps.items():
            procedure_key, _, index = key.rpartition("#")
            if not index.isdigit():
                continue
            progress.restore(procedure_key, int(index), to_record(state))
            self.resumed_steps += 1

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
            self.session = self.store.start(self.runbook_path, self.app.runbook.sha256)
            self.session.environment = self.app.environment
        return self.session

    def saved(
        self, procedure_key: str, step_index: int, record: StepRecord, run_id: str | None = None
    ) -> None:
        self.last_procedure = procedure_key
        try:
            session = self._ensure_session()
            if session is None:
                return
            run_ids = list(session.step(procedure_key, step_index).run_ids)
            if run_id:
                run_ids.append(run_id)
            session.put(procedure_key, step_index, to_state(record, run_ids))
        except OSError as error:
            if self.error is None:
                self.error = str(error)
                self.app.notify(f"Session not saved: {error}", severity="error", timeout=10)
            return
        self.saved_at = self.settings.clock().strftime("%H:%M")

    def add_run_ids(self, procedure_key: str, step_index: int, run_ids: tuple[str, ...]) -> None:
        if self.session is None:
            return
        state = self.session.step(procedure_key, step_index)
        state.run_ids.extend(run_id for run_id in run_ids if run_id not in state.run_ids)
        with contextlib.suppress(OSError):
            self.session.put(procedure_key, step_index, state)

    def discard(self) -> None:
        """Start over: forget the saved session."""
        path = self.runbook_path
        if path is not None:
            self.store.discard(path)
        self.session = None
        self.resumed_steps = 0
        self.saved_at = None

    def flush(self) -> None:
        """Write the session once more (on quit and on SIGTERM/SIGHUP)."""
        if self.session is not None:
            with contextlib.suppress(OSError):
                self.session.save()

    def describe(self) -> str:
        if self.error:
            return "NOT SAVED"
        if self.saved_at:
            return "session saved"
        if self.resumed_steps:
            return "resumed"
        return "new session"
