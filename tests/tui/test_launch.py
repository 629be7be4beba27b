"""`runbook-console [PATH]` without a terminal, with a bad file, and its defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from console import launch


def test_not_a_terminal_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert launch.launch([]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "runbook-console show|check|run" in lines[0]
    assert captured.out == ""


def test_load_error_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(launch, "is_terminal", lambda: True)
    assert launch.launch([str(tmp_path / "missing.md")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("runbook-console: ")


def test_unknown_environment_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, seed_path: Path
) -> None:
    monkeypatch.setattr(launch, "is_terminal", lambda: True)
    assert launch.launch([str(seed_path), "--env", "moon"]) == 2
    assert "unknown environment 'moon'" in capsys.readouterr().err


def test_default_path_prefers_local_runbook(tmp_path: Path) -> None:
    assert launch.default_runbook_path(tmp_path) in (launch.PROJECT_RUNBOOK, launch.SEED_RUNBOOK)
    (tmp_path / "runbook.md").write_text("# Local\n")
    assert launch.default_runbook_path(tmp_path) == tmp_path / "runbook.md"
