"""Console fixtures: a fixed clock, user and host, and a repository root that never varies."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.command import CommandList
from textual.worker import WorkerFailed

from console.app import RunbookConsole
from console.settings import ConsoleSettings
from runbook.config import Config, EnvironmentConfig
from runbook.document.parser import load
from tests.required import unavailable
from tests.waiting import wait_until_async

REPO = Path(__file__).resolve().parents[2]
FIXTURE_SEED = REPO / "tests" / "fixtures" / "seed_runbook.md"
PROJECT_RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"
FIXED_ROOT = Path("/srv/monkeytown")
"""Shown as the working directory in snapshots, wherever the checkout lives."""
FIXED_NOW = datetime(2026, 1, 17, 3, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fixed_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make every runbook's repository root the same fixed path (for snapshots)."""
    import runbook.storage.paths

    monkeypatch.setattr(runbook.storage.paths, "repository_root", lambda _path: FIXED_ROOT)
    return FIXED_ROOT


MakeConsole = Callable[..., RunbookConsole]


@pytest.fixture
def make_console(tmp_path: Path, clock: FakeClock) -> MakeConsole:
    """Build a console on a runbook with test settings; keyword arguments override them."""

    def make(path: Path = FIXTURE_SEED, **overrides: object) -> RunbookConsole:
        runbook = load(path)
        settings = ConsoleSettings(
            runbook_path=str(path),
            clock=clock,
            user="alice",
            hostname="ops-box",
            cpu_meter=lambda: 0.0,
            cpu_first_sample_s=0.0,
            session_dir=tmp_path / "sessions",
            confirm_arm_delay=0.0,
            config=Config(
                environments={"Production": EnvironmentConfig(name="Production", production=True)}
            ),
        )
        for name, value in overrides.items():
            setattr(settings, name, value)
        return RunbookConsole(runbook, settings)

    return make


@pytest.fixture
def project_runbook() -> Path:
    if not PROJECT_RUNBOOK.exists():
        unavailable("the project's runbook is not in this checkout")
    return PROJECT_RUNBOOK


async def palette_offers(app: App[Any], command: str) -> None:
    """Wait until the open command palette has searched what was typed and highlights
    `command` (its search runs in a worker, and results arrive in batches)."""

    def offered() -> bool:
        lists = app.screen.query(CommandList)
        if not lists or lists.first().highlighted is None:
            return False
        hits = lists.first()
        prompt = str(hits.get_option_at_index(hits.highlighted or 0).prompt)
        return command.casefold() in prompt.casefold()

    await wait_until_async(offered, what=f"the command palette offers {command!r}")


async def wait_for_workers(app: RunbookConsole) -> None:
    """Let every worker finish, then let the messages they posted be handled.

    A worker that failed has finished too: the console routes its error to a notification
    (tests assert on that). Whether `wait_for_complete` re-raises it depends on whether the
    failed worker is still listed when the wait starts, so it is not left to timing.
    """
    for _ in range(4):
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await app._animator.wait_until_complete()  # noqa: SLF001 - no public equivalent
