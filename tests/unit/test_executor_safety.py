"""Confirmation, injection, dry-run, audit fail-closed and masking, with real processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from step_helpers import PROCEDURE, Recorder, fast_config, make_runbook

from runbook.config import Config, EnvironmentConfig, ExecutionConfig
from runbook.execution.audit import read_records
from runbook.execution.executor import Executor
from runbook.execution.plan import ConfirmationError
from runbook.model import Variable


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(tmp_path / "history"))


def test_read_only_runs_without_confirmation() -> None:
    executor = Executor(fast_config())
    plan = executor.plan(make_runbook("echo ok"), PROCEDURE, 1)
    assert not plan.needs_confirmation
    assert executor.run(plan).status == "succeeded"


def test_mutating_step_is_refused_without_confirmation(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    executor = Executor(fast_config())
    plan = executor.plan(make_runbook(f"touch {marker}", risk="mutating"), PROCEDURE, 1)
    assert plan.needs_confirmation
    recorder = Recorder()
    result = executor.run(plan, recorder)
    assert result.status == "refused"
    assert "confirmation" in (result.reason or "")
    assert not marker.exists()
    assert recorder.started_plans == [] and recorder.results == [result]


def test_confirmation_runs_the_step_and_shows_command_cwd_environment(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    executor = Executor(fast_config())
    runbook = make_runbook(f"touch {marker}", risk="mutating", path=tmp_path / "runbook.md")
    plan = executor.plan(runbook, PROCEDURE, 1, environment="Staging")
    text = plan.describe()
    assert f"touch {marker}" in text and str(tmp_path) in text and "Staging" in text
    assert plan.cwd == str(tmp_path)  # no .git above tmp_path: the runbook's directory
    result = executor.run(plan, confirmation=plan.confirm())
    assert result.status == "succeeded"
    assert marker.exists()


def test_production_needs_the_environment_name_typed() -> None:
    executor = Executor(fast_config())
    plan = executor.plan(
        make_runbook("make rollback-now", risk="destructive"),
        PROCEDURE,
        1,
        environment="Production",
    )
    assert plan.production
    with pytest.raises(ConfirmationError):
        plan.confirm()
    with pytest.raises(ConfirmationError):
        plan.confirm(typed="y")
    assert plan.confirm(typed="Production").environment == "Production"


def test_config_decides_what_is_production() -> None:
    config = Config(
        environments={
            "Production": EnvironmentConfig("Production", production=False),
            "live": EnvironmentConfig("live", production=True),
        }
    )
    assert not config.is_production("Production")
    assert config.is_production("live")
    assert Config().is_production("Production")
    assert not Config().is_production("Development")


def test_confirmation_is_stale_when_the_runbook_file_changes(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "runbook.md"
    executor = Executor(fast_config())
    plan = executor.plan(make_runbook(f"touch {marker}", risk="mutating", path=path), PROCEDURE, 1)
    confirmation = plan.confirm()
    path.write_text(path.read_text() + "\nedited\n")
    result = executor.run(plan, confirmation=confirmation)
    assert result.status == "refused"
    assert result.reason == "runbook changed since confirmation; confirm again"
    assert not marker.exists()


def test_confirmation_of_one_command_does_not_run_another(tmp_path: Path) -> None:
    executor = Executor(fast_config())
    variables = (Variable("TARGET", "env"),)
    runbook = make_runbook("echo $TARGET", risk="mutating", variables=variables)
    first = executor.plan(runbook, PROCEDURE, 1, values={"TARGET": "blue"})
    second = executor.plan(runbook, PROCEDURE, 1, values={"TARGET": "green"})
    result = executor.run(second, confirmation=first.confirm())
    assert result.status == "refused"


def test_missing_variables_refuse(tmp_path: Path) -> None:
    executor = Executor(fast_config())
    runbook = make_runbook(
        "docker tag monkeytown-web:<previous-sha> monkeytown-web:current",
        risk="mutating",
        variables=(Variable("previous-sha", "placeholder"),),
    )
    plan = executor.plan(runbook, PROCEDURE, 1)
    assert plan.missing == ("previous-sha",)
    result = executor.run(plan, confirmation=plan.confirm())
    assert result.status == "refused" and "previous-sha" in (result.reason or "")


INJECTIONS = [
    "; rm -rf /",
    "$(touch pwned-dollar)",
    "`touch pwned-backtick`",
    "x\ntouch pwned-newline",
    "-rf",
    "' ; touch pwned-single '",
    '" ; touch pwned-double "',
    "a && touch pwned-and || b",
    "${IFS}touch${IFS}pwned-ifs",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_values_are_quoted_and_run_nothing_extra(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls_dir = tmp_path / "calls"
    calls_dir.mkdir()
    # A fake program records its argv; fake rm/touch record that they were called at all.
    for name in ("recordargs", "rm", "touch"):
        script = bin_dir / name
        script.write_text(f'#!/bin/bash\nprintf "%s\\0" "{name}" "$@" > {calls_dir}/{name}.$$\n')
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    workdir = tmp_path / "repo"
    workdir.mkdir()
    code = 'recordargs <value> "$VALUE" $VALUE "prefix-<value>" \'<value>\' "${VALUE}"'
    runbook = make_runbook(
        code,
        path=workdir / "runbook.md",
        variables=(Variable("value", "placeholder"), Variable("VALUE", "env")),
    )
    executor = Executor(fast_config())
    plan = executor.plan(runbook, PROCEDURE, 1, values={"value": value, "VALUE": value})
    assert plan.risk == "mutating"  # recordargs is no known read-only program
    result = executor.run(plan, confirmation=plan.confirm())
    assert result.status == "succeeded", result
    calls = [p.read_text() for p in calls_dir.iterdir()]
    assert len(calls) == 1, calls  # no rm, no touch: only our program ran
    argv = calls[0].split("\0")[:-1]
    assert argv == ["recordargs", value, value, value, f"prefix-{value}", value, value]
    assert not any(p.name.startswith("pwned") for p in workdir.iterdir())


def test_dry_run_spawns_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("dry-run started a process")

    executor = Executor(fast_config())
    runbook = make_runbook("make deploy", "make rollback", risk="mutating")
    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.setattr(os, "fork", forbidden)
    monkeypatch.setattr(os, "posix_spawn", forbidden)
    monkeypatch.setattr(os, "system", forbidden)
    commands = [
        executor.dry_run(executor.plan(runbook, PROCEDURE, n, environment="Production"))
        for n in (1, 2)
    ]
    assert commands == [("make deploy",), ("make rollback",)]
    assert not (tmp_path / "home" / "state" / "runbook-console" / "runs").exists()


def test_audit_fail_closed_refuses_mutating_but_runs_read_only(tmp_path: Path) -> None:
    # We run as root, so permission bits would not stop the write; a path whose parent
    # is a regular file cannot be created by anyone (ENOTDIR), which is what we need.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    audit_file = blocker / "audit.jsonl"
    config = Config(execution=ExecutionConfig(grace_s=1.0, audit_file=str(audit_file)))
    executor = Executor(config)
    marker = tmp_path / "mutated"
    mutating = executor.plan(make_runbook(f"touch {marker}", risk="mutating"), PROCEDURE, 1)
    result = executor.run(mutating, confirmation=mutating.confirm())
    assert result.status == "refused"
    assert "audit trail" in (result.reason or "") and "cannot be written" in (result.reason or "")
    assert not marker.exists()
    read_only = executor.plan(make_runbook("echo still-fine"), PROCEDURE, 1)
    recorder = Recorder()
    assert executor.run(read_only, recorder).status == "succeeded"
    assert "still-fine" in recorder.texts("stdout")
    assert any("warning" in text for text in recorder.texts("system"))


def test_audit_records_start_and_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "198.51.100.7 50000 198.51.100.1 22")
    executor = Executor(fast_config())
    path = tmp_path / "runbook.md"
    plan = executor.plan(
        make_runbook("echo audited; exit 4", risk="mutating", path=path), PROCEDURE, 1
    )
    result = executor.run(plan, confirmation=plan.confirm())
    records = read_records(executor.config.audit_file)
    start, end = records[-2:]
    assert (start["event"], end["event"]) == ("start", "end")
    for record in (start, end):
        assert record["command"] == "echo audited; exit 4"
        assert record["runbook"] == str(path.resolve())
        assert record["runbook_sha256"] == plan.runbook_sha256
        assert record["procedure"] == PROCEDURE and record["step"] == 1
        assert record["ssh_client"] == "198.51.100.7 50000"
        assert record["environment"] == "Development"
        for key in ("user", "uid", "host", "tty", "time", "run_id"):
            assert key in record
    assert end["status"] == "failed" and end["exit_code"] == 4 == result.exit_code
    assert end["output_tail"] == ["audited"]
    assert isinstance(end["duration_s"], float)


def test_secret_split_across_writes_is_masked_in_output_and_audit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "s3cr3t-Value-42"
    monkeypatch.setenv("DEPLOY_API_TOKEN", secret)
    executor = Executor(fast_config())
    code = (
        "printf 'token=s3cr3t-'; sleep 0.3; printf 'Value-42 done\\n'; echo $DEPLOY_API_TOKEN >&2"
    )
    recorder = Recorder()
    plan = executor.plan(make_runbook(code), PROCEDURE, 1)
    result = executor.run(plan, recorder)
    assert result.status == "succeeded"
    assert recorder.texts("stdout") == ["token=******** done"]
    assert recorder.texts("stderr") == ["********"]
    audit_text = executor.config.audit_file.read_text()
    assert secret not in audit_text
    run_dir = executor.config.runs_dir / result.run_ids[0]
    assert secret not in (run_dir / "output.jsonl").read_text()
    assert secret not in json.dumps(result.output_tail)


def test_environment_settings_reach_the_command(tmp_path: Path) -> None:
    config = Config(
        environments={"Staging": EnvironmentConfig("Staging", env={"COLOUR": "green"})},
        execution=ExecutionConfig(grace_s=1.0),
    )
    executor = Executor(config)
    recorder = Recorder()
    plan = executor.plan(
        make_runbook('echo "$COLOUR $RUNBOOK_RUN_ID"'), PROCEDURE, 1, environment="Staging"
    )
    result = executor.run(plan, recorder)
    assert recorder.texts("stdout") == [f"green {result.run_ids[0]}"]


def test_audit_fail_closed_on_a_read_only_mount(tmp_path: Path) -> None:
    """A truly read-only directory (a read-only tmpfs), which stops root too."""
    readonly = tmp_path / "ro"
    readonly.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(readonly)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        config = Config(
            execution=ExecutionConfig(grace_s=1.0, audit_file=str(readonly / "audit.jsonl"))
        )
        executor = Executor(config)
        marker = tmp_path / "mutated"
        plan = executor.plan(make_runbook(f"touch {marker}", risk="mutating"), PROCEDURE, 1)
        result = executor.run(plan, confirmation=plan.confirm())
        assert result.status == "refused"
        assert "Read-only file system" in (result.reason or "")
        assert not marker.exists()
        read_only = executor.plan(make_runbook("echo fine"), PROCEDURE, 1)
        assert executor.run(read_only).status == "succeeded"
    finally:
        subprocess.run(["umount", str(readonly)], check=False)


def test_a_step_of_several_commands_is_one_script_one_run_one_lock() -> None:
    from runbook.model import Command, Procedure, Runbook, Step

    step = Step(
        index=1,
        text="Find the node, then look at it",
        line=1,
        kind="command",
        commands=(
            Command(code="NODE_NAME=node-7", line=2, risk="read-only"),
            Command(code='echo "inspecting $NODE_NAME"', line=4, risk="mutating"),
        ),
    )
    runbook = Runbook(title="t", sha256="0" * 64, procedures=(Procedure("P", 1, (step,)),))
    executor = Executor(fast_config())
    plan = executor.plan(runbook, "P", 1)
    assert plan.risk == "mutating"
    assert plan.resolved_commands == ("NODE_NAME=node-7", 'echo "inspecting $NODE_NAME"')
    recorder = Recorder()
    result = executor.run(plan, recorder, plan.confirm())
    assert result.ok
    assert recorder.texts("stdout") == ["inspecting node-7"]
    assert len(result.run_ids) == 1
    records = [
        r for r in read_records(executor.config.audit_file) if r["run_id"] == result.run_ids[0]
    ]
    assert [r["event"] for r in records] == ["start", "end"]
