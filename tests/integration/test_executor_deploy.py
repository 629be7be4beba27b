"""The executor drives the real `make deploy` / `make rollback` against the Docker engine:
history gets exactly one record per run (the scripts' own, tagged with RUNBOOK_RUN_ID),
and the image tags the engine holds are offered for `<previous-version>`."""

from __future__ import annotations

from pathlib import Path

import pytest
from deploy_sandbox import REPO, Sandbox

from runbook.config import Config, EnvironmentConfig, ExecutionConfig
from runbook.document.parser import load
from runbook.execution.executor import Executor
from runbook.execution.history import read_history
from runbook.execution.resolve import suggestions
from runbook.model import Command, Variable
from tests.required import unavailable

pytestmark = [pytest.mark.integration, pytest.mark.serial]
PROJECT_RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"
SANDBOX_KEYS = (
    "MONKEYTOWN_PREFIX",
    "MONKEYTOWN_PORT",
    "MONKEYTOWN_BLUE_PORT",
    "MONKEYTOWN_GREEN_PORT",
    "WEB_IMAGE",
    "PROXY_IMAGE",
    "MONKEYTOWN_STATE_DIR",
    "DEPLOY_HISTORY_DIR",
    "SMOKE_TIMEOUT",
)


@pytest.fixture
def box(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Sandbox:
    if not PROJECT_RUNBOOK.exists():
        unavailable("the project's runbook is not in this checkout")
    sandbox.reset()
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(sandbox.history_dir))
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    return sandbox


def executor_for(box: Sandbox, version: str) -> Executor:
    env = {key: box.env[key] for key in SANDBOX_KEYS}
    return Executor(
        Config(
            environments={"Staging": EnvironmentConfig("Staging", env={**env, "VERSION": version})},
            execution=ExecutionConfig(grace_s=2.0, default_timeout_s=240),
        )
    )


def test_deploy_and_rollback_through_the_executor(box: Sandbox) -> None:
    runbook = load(PROJECT_RUNBOOK)
    run_ids = []
    for version in ("v1", "v2"):
        executor = executor_for(box, version)
        plan = executor.plan(
            runbook, "Quick Reference / Deployment Commands", 1, environment="Staging"
        )
        assert plan.cwd == str(REPO)
        result = executor.run(plan, confirmation=plan.confirm())
        assert result.ok, result
        run_ids.append(result.run_ids[0])
    executor = executor_for(box, "v2")
    plan = executor.plan(
        runbook, "Rollback Procedure / Automated Rollback", 1, environment="Staging"
    )
    result = executor.run(plan, confirmation=plan.confirm())
    assert result.ok, result
    run_ids.append(result.run_ids[0])

    records = read_history(box.history_dir / "deployments.jsonl")
    assert [r["run_id"] for r in records] == run_ids  # one each: no duplicate from the executor
    assert [r["action"] for r in records] == ["deploy", "deploy", "rollback"]
    assert records[-1]["from_version"] == "v2" and records[-1]["to_version"] == "v1"


def test_previous_version_offers_the_engine_tags(box: Sandbox) -> None:
    variable = Variable("previous-version", "placeholder")
    command = Command(
        code=f"docker tag {box.web_image}:<previous-version> {box.web_image}:current",
        line=1,
        risk="mutating",
        variables=(variable,),
    )
    offered = suggestions(command, variable)
    assert {"v1", "v2"} <= set(offered)
