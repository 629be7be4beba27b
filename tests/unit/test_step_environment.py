"""What a step's processes inherit: never the console's terminal size."""

from __future__ import annotations

from pathlib import Path

import pytest
from step_helpers import PROCEDURE, Recorder, fast_config, make_runbook

from runbook.config import Config, EnvironmentConfig
from runbook.execution.environment import without_terminal_size
from runbook.execution.executor import Executor

SHOW_SIZE = 'echo "LINES=${LINES-unset} COLUMNS=${COLUMNS-unset} KEPT=${KEPT-unset}"'
NO_SIZE = 'test -z "${LINES+set}" && test -z "${COLUMNS+set}"'


@pytest.fixture(autouse=True)
def _stale_terminal_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("LINES", "50")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("KEPT", "yes")


def test_step_and_its_verify_check_inherit_no_terminal_size() -> None:
    executor = Executor(fast_config())
    recorder = Recorder()
    plan = executor.plan(make_runbook(SHOW_SIZE, verify=NO_SIZE), PROCEDURE, 1)
    result = executor.run(plan, recorder)
    assert recorder.texts("stdout") == ["LINES=unset COLUMNS=unset KEPT=yes"]
    assert result.status == "succeeded", recorder.texts()


def test_a_size_the_config_declares_reaches_the_step() -> None:
    config = Config(
        execution=fast_config().execution,
        environments={"Development": EnvironmentConfig(name="Development", env={"COLUMNS": "132"})},
    )
    executor = Executor(config)
    recorder = Recorder()
    plan = executor.plan(make_runbook(SHOW_SIZE), PROCEDURE, 1, environment="Development")
    executor.run(plan, recorder)
    assert recorder.texts("stdout") == ["LINES=unset COLUMNS=132 KEPT=yes"]


def test_without_terminal_size_drops_only_the_size() -> None:
    environ = {"LINES": "50", "COLUMNS": "200", "TERM": "xterm", "LINES_X": "1"}
    assert without_terminal_size(environ) == {"TERM": "xterm", "LINES_X": "1"}
