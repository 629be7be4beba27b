"""Deployment history: deploy and rollback steps leave a record, once per run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from step_helpers import PROCEDURE, fast_config, make_runbook

from runbook.execution.executor import Executor
from runbook.execution.history import (
    append_record,
    classify,
    history_file,
    history_file_for,
    read_history,
)


@pytest.fixture
def history_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(tmp_path / "history"))
    return tmp_path / "history"


def test_classify() -> None:
    assert classify("make deploy") == ("deploy", None)
    assert classify("make rollback") == ("rollback", None)
    assert classify("make rollback-now") == ("rollback-now", None)
    assert classify("docker tag monkeytown-web:abc123 monkeytown-web:current") == (
        "rollback",
        "abc123",
    )
    assert classify("docker-compose -f deploy/docker-compose.prod.yml up -d") == ("deploy", None)
    assert classify("docker-compose -f deploy/docker-compose.prod.yml restart") is None
    assert classify("make status") is None
    assert classify("docker images | grep monkeytown-web") is None


def test_default_location_follows_the_seed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DEPLOY_HISTORY_DIR", raising=False)
    assert history_file(tmp_path) == (
        tmp_path / ".monkeytown/devops/deployment-history/deployments.jsonl"
    )


def test_the_history_of_a_runbook_or_a_directory_is_its_repository_s(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DEPLOY_HISTORY_DIR", raising=False)
    (tmp_path / ".git").mkdir()
    docs = tmp_path / "docs" / "ops"
    docs.mkdir(parents=True)
    (docs / "runbook.md").write_text("# x\n")
    expected = history_file(tmp_path)
    assert history_file_for(docs / "runbook.md") == expected
    assert history_file_for(docs) == expected
    assert history_file_for(tmp_path) == expected


def fake_make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "make"
    script.write_text("#!/bin/bash\n" + body)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


def test_deploy_step_appends_a_record(
    history_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_make(tmp_path, monkeypatch, 'echo making "$@"\n')
    executor = Executor(fast_config())
    runbook = make_runbook("make deploy", risk="mutating", path=tmp_path / "runbook.md")
    plan = executor.plan(runbook, PROCEDURE, 1, environment="Staging")
    result = executor.run(plan, confirmation=plan.confirm())
    assert result.ok
    (record,) = read_history(history_dir / "deployments.jsonl")
    assert record["action"] == "deploy"
    assert record["environment"] == "Staging"
    assert record["outcome"] == "succeeded"
    assert record["run_id"] == result.run_ids[0]
    for key in ("time", "from_version", "to_version", "colour", "user", "host"):
        assert key in record


def test_no_duplicate_when_the_script_wrote_its_own(
    history_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_make(
        tmp_path,
        monkeypatch,
        'mkdir -p "$DEPLOY_HISTORY_DIR"\n'
        'printf \'{"action":"rollback","to_version":"v1","run_id":"%s"}\\n\' '
        '"$RUNBOOK_RUN_ID" >> "$DEPLOY_HISTORY_DIR/deployments.jsonl"\n',
    )
    executor = Executor(fast_config())
    runbook = make_runbook("make rollback", risk="mutating", path=tmp_path / "runbook.md")
    plan = executor.plan(runbook, PROCEDURE, 1)
    result = executor.run(plan, confirmation=plan.confirm())
    assert result.ok
    records = read_history(history_dir / "deployments.jsonl")
    assert len(records) == 1
    assert records[0]["to_version"] == "v1"
    assert records[0]["run_id"] == result.run_ids[0]


def test_an_executor_record_takes_from_version_from_the_history(
    history_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live version before the step: the last successful move in that environment."""
    path = history_dir / "deployments.jsonl"
    append_record(
        path,
        {"action": "deploy", "environment": "Staging", "to_version": "v7", "outcome": "succeeded"},
    )
    append_record(
        path,
        {"action": "deploy", "environment": "Staging", "to_version": "v8", "outcome": "failed"},
    )
    append_record(
        path,
        {
            "action": "deploy",
            "environment": "Production",
            "to_version": "v9",
            "outcome": "succeeded",
        },
    )
    fake_make(tmp_path, monkeypatch, "true\n")
    executor = Executor(fast_config())
    runbook = make_runbook("make rollback", risk="mutating", path=tmp_path / "runbook.md")
    plan = executor.plan(runbook, PROCEDURE, 1, environment="Staging")
    assert executor.run(plan, confirmation=plan.confirm()).ok
    record = read_history(path)[-1]
    assert (record["action"], record["environment"], record["from_version"]) == (
        "rollback",
        "Staging",
        "v7",
    )
