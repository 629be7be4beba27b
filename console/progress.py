"""Checklist progress as the console shows it: one record per step of each procedure.

The console keeps this view in memory and hands every change to a `ProgressSink`
(the core's session store) so a restart, or a `kill -9`, loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from runbook.model import Procedure, Runbook
from runbook.storage.session import StepStatus

__all__ = ["Counts", "Progress", "ProgressSink", "StepRecord", "StepStatus"]

OUTPUT_TAIL_LINES = 200
"""Lines of a step's last output kept for the detail pane and the session."""


@dataclass
class StepRecord:
    """What happened to one step."""

    status: StepStatus = "pending"
    at: datetime | None = None
    """When the status last changed (done, skipped, failed, started)."""
    by: str | None = None
    """Who changed it: ticked, skipped, started, or cancelled it."""
    reason: str | None = None
    """Why it was skipped, or how it failed."""
    notes: list[str] = field(default_factory=list)
    output: list[tuple[str, str]] = field(default_factory=list)
    """(stream, line) of the last run, newest last, at most OUTPUT_TAIL_LINES."""
    exit_code: int | None = None
    started_at: datetime | None = None
    """When a wait step's countdown or a command began."""
    hosts: dict[str, str] = field(default_factory=dict)
    """A rolled step's last run: each host's state, in the roll's order (not saved)."""
    host_details: dict[str, str] = field(default_factory=dict)
    """What the grid says beside a host's state (exit code, why it was skipped; not saved)."""


class ProgressSink(Protocol):
    """Where progress goes to be kept (the core's session store)."""

    def saved(self, procedure_key: str, step_index: int, record: StepRecord) -> None: ...


class Counts(NamedTuple):
    """A procedure's steps by outcome; skipped counts as finished."""

    finished: int
    failed: int
    total: int
    cancelled: int = 0


class Progress:
    """Per-step records for a whole runbook, keyed by procedure key and step index."""

    def __init__(
        self,
        runbook: Runbook,
        clock: Callable[[], datetime],
        user: str,
        sink: ProgressSink | None = None,
    ) -> None:
        self.runbook = runbook
        self.clock = clock
        self.user = user
        self.sink = sink
        self._records: dict[tuple[str, int], StepRecord] = {}
        self.procedure_started: dict[str, datetime] = {}
        """When the operator first acted on each procedure; deadlines count from here."""

    def record(self, procedure_key: str, step_index: int) -> StepRecord:
        key = (procedure_key, step_index)
        if key not in self._records:
            self._records[key] = StepRecord()
        return self._records[key]

    def restore(self, procedure_key: str, step_index: int, record: StepRecord) -> None:
        """Put back a record read from a saved session."""
        self._records[(procedure_key, step_index)] = record
        if record.at is not None:
            started = self.procedure_started.get(procedure_key)
            first = record.started_at or record.at
            if started is None or first < started:
                self.procedure_started[procedure_key] = first

    def clear(self) -> None:
        """Forget everything (a fresh session)."""
        self._records.clear()
        self.procedure_started.clear()

    def remap(
        self, runbook: Runbook, moves: dict[str, dict[int, int]]
    ) -> list[tuple[str, int, StepRecord]]:
        """Take the runbook's new text: each record moves to its step's new index (`moves`,
        per procedure: old index → new). The records of steps that are gone are returned
        (procedure key, old index, record), those with something on them, and dropped."""
        self.runbook = runbook
        kept: dict[tuple[str, int], StepRecord] = {}
        gone: list[tuple[str, int, StepRecord]] = []
        for (key, index), record in self._records.items():
            moved = moves.get(key, {}).get(index)
            if moved is not None:
                kept[(key, moved)] = record
            elif record.status != "pending" or record.notes:
                gone.append((key, index, record))
        self._records = kept
        for key in [k for k in self.procedure_started if k not in moves]:
            del self.procedure_started[key]
        return gone

    def items(self) -> Iterable[tuple[tuple[str, int], StepRecord]]:
        return self._records.items()

    def counts(self, procedure: Procedure) -> Counts:
        """Finished (done or skipped), failed and cancelled steps of a procedure."""
        statuses = [self.record(procedure.key, step.index).status for step in procedure.steps]
        return Counts(
            finished=sum(status in ("done", "skipped") for status in statuses),
            failed=statuses.count("failed"),
            total=len(statuses),
            cancelled=statuses.count("cancelled"),
        )

    def touched(self) -> bool:
        """Whether anything has been recorded at all."""
        return any(r.status != "pending" or r.notes for r in self._records.values())

    def _changed(self, procedure_key: str, step_index: int) -> StepRecord:
        record = self.record(procedure_key, step_index)
        self.procedure_started.setdefault(procedure_key, self.clock())
        if self.sink is not None:
            self.sink.saved(procedure_key, step_index, record)
        return record

    def set_status(
        self,
        procedure_key: str,
        step_index: int,
        status: StepStatus,
        reason: str | None = None,
        exit_code: int | None = None,
        by: str | None = None,
    ) -> StepRecord:
        """Change a step's status, by `by` (this console's user when not given)."""
        record = self.record(procedure_key, step_index)
        record.status = status
        record.reason = reason
        record.exit_code = exit_code
        now = self.clock()
        if status == "pending":
            record.at = record.by = None
        else:
            record.at = now
            record.by = by or self.user
        if status == "running":
            record.started_at = now
            record.output = []
        return self._changed(procedure_key, step_index)

    def add_note(self, procedure_key: str, step_index: int, note: str) -> StepRecord:
        record = self.record(procedure_key, step_index)
        stamp = self.clock().strftime("%H:%M")
        record.notes.append(f"{stamp} {self.user}: {note}")
        return self._changed(procedure_key, step_index)

    def add_output(
        self, procedure_key: str, step_index: int, lines: Iterable[tuple[str, str]]
    ) -> None:
        """Append output lines (not persisted until the step finishes, to spare the disk)."""
        record = self.record(procedure_key, step_index)
        record.output.extend(lines)
        del record.output[:-OUTPUT_TAIL_LINES]

    def keep_waiting(self, procedure_key: str, step_index: int) -> StepRecord:
        """A wait step's command finished: it stays running until its time is up."""
        record = self.record(procedure_key, step_index)
        record.status = "running"
        if record.started_at is None:
            record.started_at = self.clock()
        return self._changed(procedure_key, step_index)

    def start_timer(self, procedure_key: str, step_index: int) -> StepRecord:
        """Start a wait step's countdown."""
        return self.set_status(procedure_key, step_index, "running")
