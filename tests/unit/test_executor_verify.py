"""`rb-verify`: the read-only check run after a step's command succeeds, with real processes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from step_helpers import PROCEDURE, Recorder, fast_config, make_runbook, processes_with_run_id

from runbook.config import Config, ExecutionConfig, SecretsConfig
from runbook.execution import runs
from runbook.execution.audit import read_records
from runbook.execution.executor import Executor
from runbook.model import Command, Procedure, Runbook, Step

GRACE_S = 1.0


def run_step(executor: Executor, code: str, verify: str, **kwargs: object) -> Recorder:
    recorder = Recorder()
    plan = executor.plan(make_runbook(code, verify=verify, **kwargs), PROCEDURE, 1)  # type: ignore[arg-type]
    executor.run(plan, recorder)
    return recorder


def logged_lines(executor: Executor, run_id: str) -> list[tuple[str, str]]:
    """What output.jsonl holds: (stream, text) per line."""
    directory = executor.config.runs_dir / run_id
    return [(line.stream, line.text) for line in runs.read_output(directory)]


def test_a_passing_check_runs_after_the_command_and_is_logged() -> None:
    executor = Executor(fast_config())
    recorder = run_step(executor, "echo deployed", "test -n ok && echo all-good")
    (result,) = recorder.results
    assert result.status == "succeeded" and result.verified is True
    assert result.exit_code == 0 and result.reason is None
    logged = logged_lines(executor, result.run_ids[0])
    announced = logged.index(("system", "verify: test -n ok && echo all-good"))
    assert logged.index(("stdout", "deployed")) < announced < logged.index(("stdout", "all-good"))
    assert ("system", "verify passed: test -n ok && echo all-good") in logged
    assert recorder.texts() == [text for _, text in logged]
    end = read_records(executor.config.audit_file)[-1]
    assert end["event"] == "end" and end["status"] == "succeeded"
    assert end["verify"][0]["status"] == "passed"


def test_a_failing_check_fails_the_step_with_a_reason_in_state_and_audit() -> None:
    executor = Executor(fast_config())
    recorder = run_step(executor, "echo deployed", "test -e /nonexistent/marker")
    (result,) = recorder.results
    assert result.status == "failed" and result.verified is False
    assert result.exit_code == 0, "the step's own command succeeded"
    assert result.reason == "verify failed: test -e /nonexistent/marker exited 1"
    logged = logged_lines(executor, result.run_ids[0])
    assert ("system", "verify: test -e /nonexistent/marker") in logged
    assert any(text.startswith("failed after") and result.reason in text for _, text in logged)
    state = runs.load_run(executor.config.runs_dir / result.run_ids[0])
    assert state is not None and state.status == "failed"
    end = read_records(executor.config.audit_file)[-1]
    assert end["event"] == "end" and end["status"] == "failed"
    assert end["reason"] == result.reason
    assert end["verify"] == [
        {
            "command": "test -e /nonexistent/marker",
            "duration_s": end["verify"][0]["duration_s"],
            "exit_code": 1,
            "status": "failed",
        }
    ]


def test_a_failed_command_is_not_verified() -> None:
    executor = Executor(fast_config())
    recorder = run_step(executor, "exit 3", "echo checked")
    (result,) = recorder.results
    assert result.status == "failed" and result.exit_code == 3
    assert result.verified is None
    assert not any(text.startswith("verify") for text in recorder.texts("system"))
    assert "checked" not in recorder.texts("stdout")


def test_a_hanging_check_times_out_within_the_step_timeout() -> None:
    executor = Executor(fast_config(GRACE_S))
    started = time.monotonic()
    recorder = run_step(executor, "echo quick", "sleep 30", timeout_s=1.0)
    elapsed = time.monotonic() - started
    (result,) = recorder.results
    assert elapsed <= 1.0 + GRACE_S + 2.0
    assert result.status == "failed" and result.verified is False
    assert result.reason == "verify timed out after 1s: sleep 30"
    assert any("verify timed out after 1.0s: SIGTERM" in t for t in recorder.texts("system"))
    assert processes_with_run_id(result.run_ids[0]) == []


def test_the_check_timeout_is_capped_by_the_config() -> None:
    executor = Executor(Config(execution=ExecutionConfig(grace_s=GRACE_S, verify_timeout_s=0.5)))
    plan = executor.plan(make_runbook("true", verify="sleep 30", timeout_s=300.0), PROCEDURE, 1)
    assert plan.verify_timeout_s == 0.5
    result = executor.run(plan)
    assert result.reason == "verify timed out after 0.5s: sleep 30"


@pytest.mark.parametrize(
    ("check", "risk"),
    [("touch verified.txt", "mutating"), ("rm -f verified.txt", "destructive")],
)
def test_a_check_the_risk_rules_call_mutating_is_refused(
    tmp_path: Path, check: str, risk: str
) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "verified.txt").write_text("keep me")
    executor = Executor(fast_config())
    runbook = make_runbook("echo deployed", verify=check, path=folder / "runbook.md")
    plan = executor.plan(runbook, PROCEDURE, 1)
    assert f"will not run: {risk}" in plan.describe()
    recorder = Recorder()
    result = executor.run(plan, recorder)
    assert result.status == "failed" and result.verified is False
    assert result.reason == (
        f"verify refused: {check} is {risk} by the risk rules; a verify command must be read-only"
    )
    assert (folder / "verified.txt").read_text() == "keep me"
    assert "deployed" in recorder.texts("stdout")
    assert f"verify: {check}" not in recorder.texts("system")


def test_secrets_in_check_output_and_command_are_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "s3cr3t-Value-42"
    monkeypatch.setenv("DEPLOY_API_TOKEN", secret)
    config = Config(
        secrets=SecretsConfig(patterns=("ghp_[A-Za-z0-9]{8}",)),
        execution=ExecutionConfig(grace_s=GRACE_S),
    )
    executor = Executor(config)
    check = "echo token=$DEPLOY_API_TOKEN; echo ghp_abcd1234 >&2"
    recorder = run_step(executor, "echo deployed", check)
    (result,) = recorder.results
    assert result.status == "succeeded"
    assert "token=********" in recorder.texts("stdout")
    assert "********" in recorder.texts("stderr")
    assert "verify: echo token=$DEPLOY_API_TOKEN; echo ******** >&2" in recorder.texts("system")
    directory = executor.config.runs_dir / result.run_ids[0]
    for text in (
        (directory / "output.jsonl").read_text(),
        (directory / "state.json").read_text(),
        executor.config.audit_file.read_text(),
    ):
        assert secret not in text and "ghp_abcd1234" not in text


def test_a_cancelled_step_does_not_run_its_check() -> None:
    executor = Executor(fast_config(GRACE_S))
    recorder = Recorder(wait_for="ready")
    plan = executor.plan(
        make_runbook("echo ready; sleep 60", verify="echo check-ran"), PROCEDURE, 1
    )
    worker = threading.Thread(target=executor.run, args=(plan, recorder))
    worker.start()
    assert recorder.seen.wait(30), recorder.texts()
    executor.cancel(by="alice")
    worker.join(30)
    (result,) = recorder.results
    assert result.status == "cancelled" and result.cancelled_by == "alice"
    assert result.verified is None
    assert "check-ran" not in recorder.texts()
    assert not any(text.startswith("verify") for text in recorder.texts("system"))


def test_checks_take_the_operators_values_and_ask_for_missing_ones() -> None:
    command = Command(code="echo deploying", line=3, risk="read-only", verify="test <tag> = v2")
    step = Step(index=1, text="Deploy", line=3, kind="command", commands=(command,))
    runbook = Runbook(
        title="T",
        sha256="0" * 64,
        procedures=(Procedure(title=PROCEDURE, line=1, steps=(step,)),),
    )
    executor = Executor(fast_config())
    assert executor.plan(runbook, PROCEDURE, 1).missing == ("tag",)
    plan = executor.plan(runbook, PROCEDURE, 1, values={"tag": "v2; touch pwned"})
    assert plan.verify[0].code == "test 'v2; touch pwned' = v2"
    assert plan.verify[0].runnable
    result = executor.run(plan)
    assert result.status == "failed" and result.reason is not None
    assert result.reason.startswith("verify failed: test 'v2; touch pwned' = v2 exited 1")
