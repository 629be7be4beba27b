"""One mutating step per environment across processes; the lock lives as long as the step."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from step_helpers import PROCEDURE, Recorder, fast_config, make_runbook

from runbook.execution.executor import Executor
from runbook.execution.locks import EnvironmentLock, LockBusy, LockHolder, read_holder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(tmp_path / "history"))
    return tmp_path / "locks"


SECOND_CONSOLE = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    from step_helpers import PROCEDURE, fast_config, make_runbook
    from runbook.execution.executor import Executor
    executor = Executor(fast_config())
    plan = executor.plan(make_runbook("echo second", risk="mutating"), PROCEDURE, 1,
                         environment="Production")
    result = executor.run(plan, confirmation=plan.confirm(typed="Production"))
    print(result.status)
    print(result.reason)
    """
)


def test_second_console_is_refused_at_once_naming_the_holder(_private_dirs: Path) -> None:
    executor = Executor(fast_config())
    recorder = Recorder(wait_for="holding")
    plan = executor.plan(
        make_runbook("echo holding; sleep 60", risk="destructive"),
        PROCEDURE,
        1,
        environment="Production",
    )
    worker = threading.Thread(
        target=executor.run, args=(plan, recorder, plan.confirm(typed="Production"))
    )
    worker.start()
    try:
        assert recorder.seen.wait(30)
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-c", SECOND_CONSOLE, str(REPO), str(Path(__file__).parent)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ},
        )
        assert time.monotonic() - started < 10  # at once: no waiting for the holder
        status, reason = second.stdout.splitlines()[:2]
        assert status == "refused"
        assert reason.startswith("Production is locked by ")
        assert f"running '{PROCEDURE}' step 1" in reason
        assert " since " in reason
        holder = read_holder(_private_dirs, "Production")
        assert holder is not None and holder.step == 1 and holder.pid != os.getpid()
    finally:
        executor.cancel(by="test")
        worker.join(30)
    assert recorder.results[0].status == "cancelled"
    # The holder's step ended, so the lock is free again for everyone.
    assert read_holder(_private_dirs, "Production") is None
    again = executor.plan(
        make_runbook("echo next", risk="mutating"), PROCEDURE, 1, environment="Production"
    )
    assert executor.run(again, confirmation=again.confirm(typed="Production")).status == "succeeded"


def test_read_only_steps_do_not_take_the_lock(_private_dirs: Path) -> None:
    holder = LockHolder(
        user="alice", pid=1, since="2026-01-01T03:12:05+00:00", environment="Production"
    )
    lock = EnvironmentLock.acquire(_private_dirs, holder)
    try:
        executor = Executor(fast_config())
        plan = executor.plan(make_runbook("echo look"), PROCEDURE, 1, environment="Production")
        assert executor.run(plan).status == "succeeded"
    finally:
        lock.release()


def test_other_environments_are_independent(_private_dirs: Path) -> None:
    holder = LockHolder(
        user="alice", pid=1, since="2026-01-01T03:12:05+00:00", environment="Production"
    )
    lock = EnvironmentLock.acquire(_private_dirs, holder)
    try:
        with pytest.raises(LockBusy) as busy:
            EnvironmentLock.acquire(_private_dirs, holder)
        assert str(busy.value).startswith("Production is locked by alice since ")
        executor = Executor(fast_config())
        plan = executor.plan(
            make_runbook("echo ok", risk="mutating"), PROCEDURE, 1, environment="Staging"
        )
        assert executor.run(plan, confirmation=plan.confirm()).status == "succeeded"
    finally:
        lock.release()
