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
