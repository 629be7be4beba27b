"""Shared fixtures: keep every test away from the developer's own config and state."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.required import unavailable

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED = SHARED / "seed" / "runbook.md"
CORPUS = SHARED / "corpus"
PROJECT_RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point XDG dirs, the config file and the state dir at a per-test temp dir."""
    home = tmp_path / "home"
    for variable, folder in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ):
        (home / folder).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(variable, str(home / folder))
    monkeypatch.setenv("RUNBOOK_CONFIG_FILE", str(home / "config" / "runbook-console.toml"))
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(home / "state" / "runbook-console"))
    # Locks and deployment history default to box-wide places; tests keep their own.
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(home / "locks"))
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(home / "deployment-history"))
    return home


@pytest.fixture
def seed_path() -> Path:
    if not SEED.exists():
        unavailable("../shared/seed/runbook.md is not beside this checkout")
    return SEED


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`serial` tests all go to one xdist worker, one after another (`--dist loadgroup`):
    they share fixed resources (the engine-wide drill cleanup, the deploy sandbox's images)
    or time themselves. Everything else runs spread over the workers."""
    for item in items:
        if item.get_closest_marker("serial") is not None:
            item.add_marker(pytest.mark.xdist_group("serial"))
