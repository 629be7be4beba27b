"""Steps a previous console left running: find their runs on disk and read how they ended.

A mutating step outlives the console that started it (its supervisor is detached), so
the session may say "running" for a step whose run has since finished, or still runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from console.progress import Progress, StepStatus
from runbook.execution import runs
from runbook.execution.rolls import OpenRoll, open_rolls
from runbook.execution.runs import RunInfo
from runbook.model import Runbook
from runbook.storage.session import checklist_status


@dataclass(frozen=True)
class SavedRun:
    """A step saved as running, and its newest run (None when none was found)."""

    procedure_key: str
    step_index: int
    run: RunInfo | None


@dataclass(frozen=True)
class Outcome:
    """How a finished run ended, in the checklist's terms."""

    status: StepStatus
    reason: str | None
    by: str | None
    exit_code: int | None
    lines: list[tuple[str, str]]


def saved_runs(
    runbook: Runbook,
    progress: Progress,
    runs_dir: Path,
    runbook_path: str | None,
    environment: str,
) -> list[SavedRun]:
    """Steps the session has as running (wait steps aside: their countdown carries on),
    with their newest run of this runbook in `environment`: never another environment's."""
    saved = [
        key
        for key, record in progress.items()
        if record.status == "running" and key[1] > 0 and not _is_wait(runbook, *key)
    ]
    if not saved:
        return []
    try:
        known = runs.list_runs(runs_dir)  # newest first
    except OSError:
        known = []
    paths = _paths(runbook_path)
    found = []
    for procedure_key, step_index in saved:
        run = next(
            (
                info
                for info in known
                if info.spec.get("procedure") == procedure_key
                and info.spec.get("step") == step_index
                and info.spec.get("runbook_path") in paths
                and str(info.spec.get("environment", "")).casefold() == environment.casefold()
            ),
            None,
        )
        found.append(SavedRun(procedure_key, step_index, run))
    return found


def rolls_left(rolls_dir: Path, runbook_path: str | None, environment: str) -> list[OpenRoll]:
    """Rolls of this runbook in `environment` whose console stopped mid-roll, each locked for
    this console (runbook.execution.rolls); never another environment's."""
    paths = _paths(runbook_path)

    def wanted(start: object) -> bool:
        if not isinstance(start, dict):
            return False
        here = str(start.get("environment", "")).casefold() == environment.casefold()
        return here and start.get("runbook") in paths

    return open_rolls(rolls_dir, wanted)


def roll_ended(audit_file: Path, roll_id: str) -> Outcome:
    """How a roll closed elsewhere ended (its `roll` audit record), for a step saved as
    running whose roll another console or `runbook-console rolls --close` closed."""
    from runbook.execution.audit import read_records

    try:
        records = read_records(audit_file)
    except OSError:
        records = []
    closing = next(
        (r for r in reversed(records) if r.get("event") == "roll" and r.get("roll_id") == roll_id),
        None,
    )
    if closing is None:
        reason = f"interrupted: roll {roll_id} has no closing record (runbook-console rolls)"
        return Outcome("failed", reason, None, None, [])
    status = str(closing.get("status", "failed"))
    ok = len(closing.get("ok") or [])
    hosts = len(closing.get("hosts") or [])
    why = None if status == "succeeded" else f"{status}: {ok} of {hosts} hosts ok"
    by = closing.get("closed_by") or closing.get("cancelled_by")
    text = f"roll {roll_id} {status}" + (f", closed by {by}" if by else "")
    return Outcome(checklist_status(status), why, None, None, [("info", text)])


def _paths(runbook_path: str | None) -> set[str | None]:
    return {runbook_path, str(Path(runbook_path).resolve()) if runbook_path else None}


def outcome(run: RunInfo) -> Outcome:
    """The result and output of a run that has finished."""
    lines: list[tuple[str, str]] = [
        ("info" if line.stream == "system" else str(line.stream), line.text)
        for line in runs.read_output(run.directory)
    ]
    exit_code = run.state.get("exit_code")
    status = checklist_status(run.status)
    succeeded = status == "done"
    reason = run.state.get("reason")
    by = run.state.get("cancelled_by") if status == "cancelled" else None
    checks = run.state.get("verify")
    if isinstance(checks, list) and any(
        isinstance(c, dict) and c.get("status") != "passed" for c in checks
    ):
        exit_code = None  # the command exited 0; its rb-verify check is what failed
    return Outcome(
        status=status,
        reason=None if succeeded else (str(reason) if reason else run.status),
        by=str(by) if by else None,
        exit_code=exit_code if isinstance(exit_code, int) else None,
        lines=lines,
    )


def _is_wait(runbook: Runbook, procedure_key: str, step_index: int) -> bool:
    procedure = runbook.procedure(procedure_key)
    if procedure is None or not 0 < step_index <= len(procedure.steps):
        return False
    return procedure.steps[step_index - 1].kind == "wait"
