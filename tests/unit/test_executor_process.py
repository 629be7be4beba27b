"""Real processes: streaming, cancel, timeout, grandchildren, SIGTERM-ignoring steps."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from step_helpers import PROCEDURE, Recorder, fast_config, make_runbook, processes_with_run_id

from runbook.execution.executor import Executor
from runbook.execution.plan import Plan

GRACE_S = 1.0


@pytest.fixture(autouse=True)
def _private_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(tmp_path / "history"))


def run_in_thread(
    executor: Executor, code: str, recorder: Recorder, **kwargs: object
) -> threading.Thread:
    runbook = make_runbook(code, **kwargs)  # type: ignore[arg-type]
    plan = executor.plan(runbook, PROCEDURE, 1)
    worker = threading.Thread(target=executor.run, args=(plan, recorder), name="step-worker")
    worker.start()
    return worker


def test_streams_stdout_and_stderr_apart_with_timestamps() -> None:
    recorder = Recorder()
    executor = Executor(fast_config())
    plan = executor.plan(
        make_runbook("echo out1; echo err1 >&2; printf 'no newline'"), PROCEDURE, 1
    )
    result = executor.run(plan, recorder)
    assert result.status == "succeeded" and result.exit_code == 0
    assert recorder.texts("stdout") == ["out1", "no newline"]
    assert recorder.texts("stderr") == ["err1"]
    for line in recorder.lines:
        assert datetime.fromisoformat(line.time).tzinfo is not None
    assert recorder.results == [result]


def test_failure_reports_exit_code_and_stops_at_first_failing_line() -> None:
    executor = Executor(fast_config())
    recorder = Recorder()
    plan = executor.plan(make_runbook("echo a\nfalse\necho never"), PROCEDURE, 1)
    result = executor.run(plan, recorder)
    assert result.status == "failed"
    assert result.exit_code == 1
    assert "never" not in recorder.texts()


def test_reporter_is_called_from_the_running_thread() -> None:
    executor = Executor(fast_config())
    recorder = Recorder()
    worker = run_in_thread(executor, "echo hi", recorder)
    worker.join(30)
    assert recorder.threads == {"step-worker"}


def test_cancel_ends_grandchild_holding_stdout_within_grace() -> None:
    executor = Executor(fast_config(GRACE_S))
    recorder = Recorder(wait_for="ready")
    worker = run_in_thread(executor, "(sleep 60; echo x) & echo ready; sleep 60", recorder)
    assert recorder.seen.wait(30), recorder.texts()
    run_id = _current_run_id(executor)
    assert processes_with_run_id(run_id), "the step's processes should be running"
    cancelled_at = time.monotonic()
    executor.cancel(by="alice")
    worker.join(30)
    elapsed = time.monotonic() - cancelled_at
    assert elapsed <= GRACE_S + 1.0
    (result,) = recorder.results
    assert result.status == "cancelled"
    assert result.cancelled_by == "alice"
    assert processes_with_run_id(run_id) == []
    assert "x" not in recorder.texts("stdout")


def test_sigterm_ignoring_and_setsid_descendants_are_killed_after_grace() -> None:
    executor = Executor(fast_config(GRACE_S))
    recorder = Recorder(wait_for="ready")
    code = (
        "trap '' TERM\n"
        "setsid sleep 61 &\n"  # a new session: outside the step's process group
        "(trap '' TERM; sleep 62) &\n"
        "echo ready\n"
        "sleep 63"
    )
    worker = run_in_thread(executor, code, recorder)
    assert recorder.seen.wait(30)
    run_id = _current_run_id(executor)
    cancelled_at = time.monotonic()
    executor.cancel(by="bob")
    worker.join(30)
    assert time.monotonic() - cancelled_at <= GRACE_S + 1.0
    assert recorder.results[0].status == "cancelled"
    assert processes_with_run_id(run_id) == []
    assert any("SIGKILL" in text for text in recorder.texts("system"))


def test_timeout_ends_the_step_as_timed_out() -> None:
    executor = Executor(fast_config(GRACE_S))
    recorder = Recorder()
    plan = executor.plan(make_runbook("echo begin; sleep 60", timeout_s=1.0), PROCEDURE, 1)
    started = time.monotonic()
    result = executor.run(plan, recorder)
    assert time.monotonic() - started <= 1.0 + GRACE_S + 1.0
    assert result.status == "timed-out"
    assert recorder.texts("stdout") == ["begin"]
    assert processes_with_run_id(result.run_ids[0]) == []


def test_background_process_left_behind_is_ended_when_the_step_finishes() -> None:
    executor = Executor(fast_config(GRACE_S))
    plan = executor.plan(make_runbook("nohup sleep 64 >/dev/null 2>&1 &\necho done"), PROCEDURE, 1)
    result = executor.run(plan)
    assert result.status == "succeeded"
    assert processes_with_run_id(result.run_ids[0]) == []


def test_cancel_without_a_running_step_is_ignored() -> None:
    executor = Executor(fast_config())
    executor.cancel(by="nobody")
    result = executor.run(executor.plan(make_runbook("echo fine"), PROCEDURE, 1))
    assert result.status == "succeeded"


def _current_run_id(executor: Executor) -> str:
    assert executor.active_run_id is not None
    return executor.active_run_id


def test_cancel_at_the_very_start_is_honoured() -> None:
    executor = Executor(fast_config(GRACE_S))

    class CancelAtStart(Recorder):
        def started(self, plan: Plan) -> None:
            executor.cancel(by="eager")

    recorder = CancelAtStart()
    plan = executor.plan(make_runbook("echo should-not-matter; sleep 60"), PROCEDURE, 1)
    started = time.monotonic()
    result = executor.run(plan, recorder)
    assert time.monotonic() - started <= GRACE_S + 1.0 + 1.0  # plus the supervisor's start
    assert result.status == "cancelled"
    assert result.cancelled_by == "eager"
    assert processes_with_run_id(result.run_ids[0]) == []


def test_a_step_longer_than_one_argument_may_be_runs_to_its_last_line() -> None:
    """A 100,000-line step (4 MB: over Linux's 128 KB for one argument) runs as a script
    file, unread by the risk rules and so confirmed, each line in order, stopping at the
    first failing one as `bash -e -c` does."""
    lines = [f": line {n} some words to make it longer than usual" for n in range(100_000)]
    code = "\n".join([*lines, 'echo "last $((40 + 2))"', "false", "echo never"])
    executor = Executor(fast_config())
    recorder = Recorder()
    plan = executor.plan(make_runbook(code), PROCEDURE, 1)
    assert plan.risk == "destructive" and plan.risk_reason == "too long to rate: destructive unread"
    result = executor.run(plan, recorder, plan.confirm())
    assert result.status == "failed" and result.exit_code == 1, result.reason
    assert recorder.texts("stdout") == ["last 42"]
