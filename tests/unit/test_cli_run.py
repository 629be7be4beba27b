"""`runbook-console run`, `history`, `audit` and `runs` on a plain (non-TTY) terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import REPO, cli, runbook_in_repo

RUNBOOK = """# Test runbook

## Environments

| Environment | Purpose | URL | Status |
|-------------|---------|-----|--------|
| Development | Local testing | localhost:5173 | Active |
| Production  | Live system | TBD | Planned |

## Rollback

```bash
# Say where we are
pwd
```

```bash
# Restore specific version
touch restored-<version>
```
"""


@pytest.fixture
def runbook_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return runbook_in_repo(tmp_path, monkeypatch, RUNBOOK)


def procedure_step_count(path: Path) -> int:
    from runbook.document.parser import load

    procedure = load(path).procedure("Rollback")
    assert procedure is not None
    return len(procedure.steps)


def test_mutating_step_refused_without_tty_or_confirm(runbook_path: Path) -> None:
    assert procedure_step_count(runbook_path) == 2
    result = cli("run", str(runbook_path), "-p", "Rollback", "--var", "version=v1")
    assert result.returncode == 3, result.stderr
    assert str(runbook_path.parent) in result.stdout  # the read-only pwd ran
    assert "--confirm Development" in result.stderr
    assert not (runbook_path.parent / "restored-v1").exists()


def test_confirm_names_the_environment(runbook_path: Path) -> None:
    wrong = cli("run", str(runbook_path), "-p", "Rollback", "--step", "2", "--var", "version=v1",
                "--confirm", "Production")  # fmt: skip
    assert wrong.returncode == 3
    assert not (runbook_path.parent / "restored-v1").exists()
    right = cli("run", str(runbook_path), "-p", "Rollback", "--step", "2", "--var", "version=v1",
                "--confirm", "Development")  # fmt: skip
    assert right.returncode == 0, right.stderr
    assert (runbook_path.parent / "restored-v1").exists()

    audit = cli("audit", "--json")
    records = [json.loads(line) for line in audit.stdout.splitlines()]
    assert [r["event"] for r in records] == ["start", "end"]
    assert records[0]["command"] == "touch restored-v1"
    assert "touch restored-v1" in cli("audit").stdout
    runs = cli("runs", "--json")
    assert json.loads(runs.stdout.splitlines()[0])["status"] == "succeeded"


def test_dry_run_prints_resolved_commands_only(runbook_path: Path) -> None:
    result = cli("run", str(runbook_path), "-p", "Rollback", "--dry-run", "--env", "Production",
                 "--var", "version=$(id)")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "touch restored-'$(id)'" in result.stdout
    assert "Production (DEPLOY_ENV=prod) PRODUCTION" in result.stdout
    assert not list(runbook_path.parent.glob("restored*"))


def test_history_prints_records(runbook_path: Path, tmp_path: Path) -> None:
    history = tmp_path / "history" / "deployments.jsonl"
    history.parent.mkdir()
    record = {
        "time": "2026-01-17T10:00:00+00:00",
        "action": "rollback",
        "environment": "Production",
        "from_version": "b2",
        "to_version": "a1",
        "user": "alice",
        "host": "ops1",
        "outcome": "succeeded",
        "run_id": "r1",
        "colour": "blue",
    }
    history.write_text(json.dumps(record) + "\n")
    plain = cli("history", str(runbook_path))
    assert "rollback" in plain.stdout and "b2 -> a1" in plain.stdout and "alice" in plain.stdout
    as_json = cli("history", "--json", str(runbook_path))
    assert json.loads(as_json.stdout) == record


def test_unknown_procedure_is_a_one_line_error(runbook_path: Path) -> None:
    result = cli("run", str(runbook_path), "-p", "Nope")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_broken_config_is_a_one_line_error(runbook_path: Path) -> None:
    Path(os.environ["RUNBOOK_CONFIG_FILE"]).write_text("[execution\n")
    result = cli("run", str(runbook_path), "-p", "Rollback", "--dry-run")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not valid TOML" in result.stderr


def test_a_step_still_running_is_announced(runbook_path: Path) -> None:
    from runbook.config import load_config

    run_dir = load_config().runs_dir / "20260101T031205-abcdef01"
    run_dir.mkdir(parents=True)
    spec = {
        "run_id": run_dir.name,
        "code": "make rollback-now",
        "runbook_path": str(runbook_path.resolve()),
        "procedure_title": "Rollback",
        "step": 2,
        "environment": "Production",
        "identity": {"user": "alice"},
    }
    (run_dir / "spec.json").write_text(json.dumps(spec))
    # This test process stands in for the live supervisor of that run.
    (run_dir / "state.json").write_text(
        json.dumps({"status": "running", "supervisor_pid": os.getpid()})
    )
    result = cli("run", str(runbook_path), "-p", "Rollback", "--step", "1")
    assert "step 2 of 'Rollback' is still running (Production, started by alice)" in result.stdout
    assert f"runbook-console runs {run_dir.name}" in result.stdout


def test_cli_dry_run_of_a_whole_procedure_spawns_nothing(
    runbook_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from console.cli import build_parser

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("dry-run started a process")

    for module, name in ((subprocess, "Popen"), (os, "fork"), (os, "posix_spawn"), (os, "system")):
        monkeypatch.setattr(module, name, forbidden)
    args = build_parser().parse_args(
        [
            "run",
            str(runbook_path),
            "-p",
            "Rollback",
            "--dry-run",
            "--env",
            "Production",
            "--var",
            "version=v9",
        ]  # fmt: skip
    )
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "pwd" in out and "touch restored-v9" in out
    assert not list(runbook_path.parent.glob("restored*"))


def test_run_shows_a_failed_verify_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    path = tmp_path / "checked" / "runbook.md"
    path.parent.mkdir()
    path.write_text(
        "# Checked\n\n## Checks\n\n"
        '```bash { rb-verify="test -e missing-marker" }\n# Look\necho looked\n```\n\n'
        '```bash { rb-verify="test -n ok" }\n# Fine\necho fine\n```\n'
    )
    failed = cli("run", str(path), "-p", "Checks", "--step", "1")
    assert failed.returncode == 1
    assert "# verify: test -e missing-marker" in failed.stdout
    assert "failed: verify failed: test -e missing-marker exited 1" in failed.stderr
    passed = cli("run", str(path), "-p", "Checks", "--step", "2")
    assert passed.returncode == 0, passed.stderr
    assert "# verify passed: test -n ok" in passed.stdout
    assert "verified: 1 check passed" in passed.stdout
    dry = cli("run", str(path), "-p", "Checks", "--dry-run")
    assert "verify:      test -e missing-marker" in dry.stdout


def test_an_unwritable_state_directory_is_one_line_not_a_traceback(
    runbook_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(blocker / "state"))
    done = cli("run", str(runbook_path), "-p", "Rollback", "-s", "1")  # pwd: read-only
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "progress is not saved: Not a directory" in done.stderr
    assert "cannot start the step" in done.stderr + done.stdout


def test_a_reader_that_goes_away_is_not_a_failed_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run ... | head -1`: the step ran and succeeded; the closed pipe changes nothing."""
    from runbook.storage.session import SessionStore

    gate = tmp_path / "gate"
    os.mkfifo(gate)
    path = tmp_path / "runbook.md"
    path.write_text(
        f"# R\n\n## Wait\n\n```bash\n# Wait for the gate\ncat {gate}; echo released\n```\n"
    )
    state = tmp_path / "state"
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(state))
    child = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run", str(path), "-p", "Wait"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
        env={**os.environ},
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    child.stdout.close()  # as `head -1` does; the step still waits at its gate
    gate.write_text("go\n")  # released: what it prints now meets a closed pipe
    errors = child.stderr.read().decode()
    assert child.wait(120) == 0, errors
    assert "Traceback" not in errors and "Broken pipe" not in errors
    session = SessionStore(state / "sessions").load(path, "Development")
    assert session is not None
    assert session.step("Wait", 1).status == "done"


def test_confirmation_shows_the_runbooks_warning_for_the_step(
    runbook_path: Path,
) -> None:
    """The warning written before step 2 is printed with step 2's plan, before its command."""
    runbook_path.write_text(
        RUNBOOK.replace(
            "```bash\n# Restore specific version",
            "**DO NOT RUN THE FOLLOWING ON A POOL REPOSITORY**\n\n"
            "```bash\n# Restore specific version",
        )
    )
    result = cli("run", str(runbook_path), "-p", "Rollback", "--step", "2", "--var", "version=v1")
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    warning = "  ⚠ Warning from the runbook: DO NOT RUN THE FOLLOWING ON A POOL REPOSITORY"
    assert warning in lines
    assert lines.index(warning) < lines.index("    touch restored-v1")
    assert not (runbook_path.parent / "restored-v1").exists()
