"""`rb-risk` raises a risk and never lowers it; a plan's risk is its resolved commands'.

Issue 13 (placeholders, re-classification after values) and issue 16 (a fence marked
read-only around `rm -rf` ran unprompted in Production; command substitution ran).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.document.check import check_file
from runbook.document.parser import parse
from runbook.execution.plan import plan

REPO = Path(__file__).resolve().parents[2]


def fenced(code: str, attributes: str = "") -> str:
    info = f"bash {{ {attributes} }}" if attributes else "bash"
    return f"# T\n\n## Fix\n\n```{info}\n{code}\n```\n"


def only_command(text: str):  # type: ignore[no-untyped-def]
    runbook = parse(text)
    (procedure,) = [p for p in runbook.procedures if p.steps]
    (step,) = procedure.steps
    (command,) = step.commands
    return runbook, command


def test_rb_risk_cannot_lower_a_destructive_command() -> None:
    runbook, command = only_command(fenced("rm -rf /srv/data", "rb-risk=read-only"))
    assert command.risk == "destructive"
    (problem,) = [p for p in runbook.problems if "rb-risk" in p.message]
    assert problem.line == command.line
    assert "cannot lower" in problem.message and "destructive" in problem.message


def test_rb_risk_raises_a_read_only_command() -> None:
    runbook, command = only_command(fenced("ls /srv", "rb-risk=destructive"))
    assert command.risk == "destructive"
    assert not [p for p in runbook.problems if "rb-risk" in p.message]


def test_an_unknown_rb_risk_is_reported_and_ignored() -> None:
    runbook, command = only_command(fenced("touch x", 'rb-risk="harmless"'))
    assert command.risk == "mutating"
    assert any("'harmless'" in p.message for p in runbook.problems)


def test_check_reports_the_attempt_to_lower(tmp_path: Path) -> None:
    path = tmp_path / "runbook.md"
    path.write_text(fenced("rm -rf /srv/data", "rb-risk=read-only"))
    report = check_file(str(path))
    assert any("cannot lower" in p["message"] for p in report["problems"])


def test_a_placeholder_is_a_value_not_a_redirection() -> None:
    _, logs = only_command(fenced("oc -n <namespace> logs <pod> --previous"))
    assert logs.risk == "read-only"
    _, delete = only_command(fenced("oc -n <ns> delete pod x"))
    assert delete.risk == "destructive"


@pytest.mark.parametrize(
    ("verb", "risk", "confirm"),
    [("get", "read-only", False), ("delete", "destructive", True), ("scale", "mutating", True)],
)
def test_the_plan_classifies_the_command_that_will_run(verb: str, risk: str, confirm: bool) -> None:
    runbook, command = only_command(fenced("kubectl <verb> deploy web -n prod"))
    assert command.risk == "mutating"  # unknown until the value is in
    found = plan(runbook, "Fix", 1, values={"verb": verb})
    assert found.risk == risk
    assert found.commands[0].risk == risk
    assert found.needs_confirmation is confirm
    assert f"risk:        {risk}" in found.describe()


def test_a_value_cannot_lower_a_declared_risk() -> None:
    runbook, _ = only_command(fenced("kubectl <verb> deploy web", "rb-risk=destructive"))
    assert plan(runbook, "Fix", 1, values={"verb": "get"}).risk == "destructive"


@pytest.mark.parametrize(
    "code",
    [
        'echo "$(touch pwned)"',
        "ls `touch pwned`",
        "env touch pwned",
        "awk 'BEGIN{system(\"touch pwned\")}'",
        "sed '1e touch pwned' /etc/hostname",
        "sort -o pwned /etc/hostname",
    ],
)
def test_run_in_production_without_a_terminal_refuses(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    repo = tmp_path / "repo"
    repo.mkdir()
    path = repo / "runbook.md"
    path.write_text(fenced(code, "rb-risk=read-only"))
    result = subprocess.run(
        [sys.executable, "-m", "console.cli", "run", str(path), "-p", "Fix", "--env", "Production"],
        capture_output=True,
        text=True,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        env={**os.environ},
        timeout=120,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "refused" in result.stdout + result.stderr
    assert not (repo / "pwned").exists()
