"""The run spec between executor and supervisor: typed both ways, a bad file is one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from step_helpers import PROCEDURE, fast_config, make_runbook

from runbook.execution.executor import Executor
from runbook.execution.run_spec import SPEC_FILE, RunSpec, RunSpecError, VerifySpec


def sample_spec() -> RunSpec:
    return RunSpec(
        run_id="20260101T000000-deadbeef",
        code="echo ok\nmake deploy",
        cwd="/srv/app",
        timeout_s=60.0,
        grace_s=2.0,
        environment="Production",
        production=True,
        risk="mutating",
        mutating=True,
        lock_dir="/run/locks",
        audit_file="/var/audit.jsonl",
        history_file="/var/history.jsonl",
        runbook_path=None,
        runbook_sha256="abc",
        procedure="Deploy",
        procedure_title="Deploy",
        step=2,
        step_title="Roll out",
        identity={"user": "alice", "uid": 1000, "tty": None},
        secret_patterns=("token=\\S+",),
        secret_names=("API_KEY",),
        verify=(VerifySpec("curl -fsS http://127.0.0.1/health", "read-only"),),
        verify_timeout_s=30.0,
        keep_runs=500,
        keep_runs_days=30.0,
        console_pid=4242,
        created="2026-01-01T00:00:00.000+00:00",
    )


def spec_data(**changes: Any) -> str:
    data = json.loads(sample_spec().to_json())
    for name, value in changes.items():
        if value is ...:
            del data[name]
        else:
            data[name] = value
    return json.dumps(data)


def test_a_spec_survives_the_round_trip(tmp_path: Path) -> None:
    spec = sample_spec()
    assert RunSpec.from_json(spec.to_json()) == spec
    spec.write(tmp_path)
    assert RunSpec.read(tmp_path) == spec
    nothing_to_verify = replace(spec, verify=(), runbook_path="/srv/app/runbook.md")
    assert RunSpec.from_json(nothing_to_verify.to_json()) == nothing_to_verify


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ("[]", "not a JSON object but an array"),
        (spec_data(timeout_s=...), "field 'timeout_s' is missing"),
        (spec_data(timeout_s="60"), "field 'timeout_s' must be a number, not a string"),
        (spec_data(step=True), "field 'step' must be a whole number, not a boolean"),
        (spec_data(step=2.5), "field 'step' must be a whole number, not a number"),
        (spec_data(mutating="yes"), "field 'mutating' must be true or false, not a string"),
        (spec_data(runbook_path=3), "field 'runbook_path' must be a string or null, not a number"),
        (spec_data(risk="harmless"), "field 'risk' must be one of read-only, mutating"),
        (spec_data(secret_names="API_KEY"), "must be a list of strings, not a string"),
        (spec_data(identity={"user": ["a"]}), "field 'identity' must be an object of"),
        (spec_data(verify=[{"code": "true"}]), "field 'verify[0]' must have the fields"),
        (
            spec_data(verify=[{"code": "true", "risk": "safe"}]),
            "field 'verify[0].risk' must be one of",
        ),
        (spec_data(verify=[{"code": 1, "risk": "read-only"}]), "'verify[0].code' must be a"),
        (spec_data(colour="blue"), "unknown field(s): colour"),
    ],
)
def test_a_bad_spec_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(RunSpecError) as caught:
        RunSpec.from_json(text)
    assert message in str(caught.value)


def test_reading_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RunSpecError, match=f"cannot read {tmp_path / SPEC_FILE}"):
        RunSpec.read(tmp_path)
    (tmp_path / SPEC_FILE).write_text(spec_data(code=...))
    with pytest.raises(RunSpecError, match=f"{tmp_path / SPEC_FILE}: field 'code' is missing"):
        RunSpec.read(tmp_path)


def test_the_supervisor_refuses_a_bad_spec_in_one_line(tmp_path: Path) -> None:
    (tmp_path / SPEC_FILE).write_text(spec_data(grace_s=None))
    result = subprocess.run(
        [sys.executable, "-m", "runbook.execution.supervisor", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"supervisor not started: {tmp_path / SPEC_FILE}: "
        "field 'grace_s' must be a number, not null"
    ]
    assert not (tmp_path / "state.json").exists()  # nothing ran, nothing was locked


def test_the_executor_writes_the_spec_the_supervisor_reads() -> None:
    executor = Executor(fast_config())
    plan = executor.plan(make_runbook("echo ok"), PROCEDURE, 1)
    result = executor.run(plan)
    assert result.status == "succeeded"
    (run_id,) = result.run_ids
    spec = RunSpec.read(executor.config.runs_dir / run_id)
    assert (spec.run_id, spec.code, spec.cwd, spec.risk, spec.mutating) == (
        run_id,
        "echo ok",
        plan.cwd,
        "read-only",
        False,
    )
    assert spec.step == plan.step_index and spec.environment == plan.environment
