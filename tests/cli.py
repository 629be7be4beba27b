"""Run `runbook-console` (python -m console.cli) as a child process, as a user would, with
locks and deploy history kept in the test's own directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The CLI with `args`, from the repository, no stdin; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        env={**os.environ},
        timeout=timeout,
    )


def runbook_in_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    """`text` as tmp_path/repo/runbook.md; locks and deploy history under tmp_path."""
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(tmp_path / "history"))
    path = tmp_path / "repo" / "runbook.md"
    path.parent.mkdir()
    path.write_text(text)
    return path
