"""The risk rules against a table of labelled commands (tests/fixtures/risk/commands.tsv).

Each row: a command, the risk an on-call engineer would sign, and why. The table
spans many CLIs; a rule change that moves any label shows here, row by row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.execution.risk import classify

TABLE = Path(__file__).resolve().parent.parent / "fixtures" / "risk" / "commands.tsv"


def rows() -> list[tuple[str, str, str]]:
    found = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        command, risk, why = line.split("\t")
        found.append((command, risk, why))
    return found


ROWS = rows()


def test_the_table_is_broad() -> None:
    programs = {command.split()[0] for command, _, _ in ROWS}
    assert len(ROWS) >= 400
    clis = {"kubectl", "oc", "docker", "git", "helm", "terraform", "aws", "gcloud", "az", "consul"}
    clis |= {"etcdctl", "vault", "redis-cli", "psql", "ceph", "systemctl", "journalctl", "curl"}
    assert clis <= programs
    assert {risk for _, risk, _ in ROWS} == {"read-only", "mutating", "destructive"}


@pytest.mark.parametrize(("command", "risk", "why"), ROWS, ids=[row[0][:60] for row in ROWS])
def test_risk_of(command: str, risk: str, why: str) -> None:
    assert classify(command) == risk, why
