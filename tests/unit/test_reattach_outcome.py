"""How a run that ended while no console watched it marks its step."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.reattach import outcome
from runbook.execution.runs import RunInfo
from runbook.incident.events import step_event


def finished_run(tmp_path: Path, **state: object) -> RunInfo:
    return RunInfo("r1", tmp_path, {"procedure": "P", "step": 1}, dict(state))


def test_a_run_cancelled_while_the_console_was_away_is_cancelled_by_its_canceller(
    tmp_path: Path,
) -> None:
    ended = outcome(finished_run(tmp_path, status="cancelled", cancelled_by="bob", exit_code=-15))
    assert (ended.status, ended.by) == ("cancelled", "bob")


@pytest.mark.parametrize("status", ["timed-out", "failed"])
def test_a_run_that_timed_out_or_failed_is_failed(tmp_path: Path, status: str) -> None:
    ended = outcome(finished_run(tmp_path, status=status, reason="timed out after 30s"))
    assert (ended.status, ended.by) == ("failed", None)


def test_a_cancelled_step_is_its_own_timeline_event() -> None:
    event = step_event("P", 2, "Restart", "cancelled", reason="cancelled by bob", actor="bob")
    assert event.kind == "step-cancelled" and "Step 2 cancelled" in event.text


def test_a_step_left_running_finds_only_its_own_environments_run(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from console.progress import Progress, StepRecord
    from console.reattach import saved_runs
    from runbook.document.parser import parse
    from runbook.storage.atomic_file import write_json_atomic

    runbook = parse("# R\n\n## Restart\n\n1. Restart:\n\n   ```bash\n   make restart\n   ```\n")
    key = runbook.procedures[0].key
    progress = Progress(runbook, lambda: datetime.now(UTC), "alice")
    progress.restore(key, 1, StepRecord(status="running"))
    runs_dir, path = tmp_path / "runs", str(tmp_path / "runbook.md")
    for run_id, environment in (("2-dev", "Development"), ("1-prod", "Production")):
        spec = {"procedure": key, "step": 1, "runbook_path": path, "environment": environment}
        write_json_atomic(runs_dir / run_id / "spec.json", spec)
        write_json_atomic(runs_dir / run_id / "state.json", {"status": "running"})

    production = saved_runs(runbook, progress, runs_dir, path, "production")
    assert [saved.run.run_id for saved in production if saved.run] == ["1-prod"]
    development = saved_runs(runbook, progress, runs_dir, path, "Development")
    assert [saved.run.run_id for saved in development if saved.run] == ["2-dev"]
    assert saved_runs(runbook, progress, runs_dir, path, "Staging")[0].run is None
