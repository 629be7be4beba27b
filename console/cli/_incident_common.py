"""Helpers shared by the incident, report, open and drill subcommands."""

from __future__ import annotations

from pathlib import Path

from console.cli._common import CliError
from runbook.config import Config
from runbook.incident.store import IncidentStore
from runbook.model import Runbook

PACKAGE_REPOSITORY = Path(__file__).resolve().parents[2]
PROJECT_RUNBOOK = PACKAGE_REPOSITORY / ".monkeytown" / "devops" / "runbook.md"


def runbook_path(given: str | None) -> Path:
    """The runbook named, else ./runbook.md, else the project's own runbook."""
    if given:
        return Path(given)
    local = Path.cwd() / "runbook.md"
    return local if local.is_file() else PROJECT_RUNBOOK


def load_runbook(given: str | None) -> Runbook:
    from runbook.document.parser import load

    path = runbook_path(given)
    if not path.is_file():
        raise CliError(f"no runbook at {path}", 2)
    try:
        return load(path)
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read {path}: {error}", 2) from None


def store(settings: Config) -> IncidentStore:
    return IncidentStore(settings.state_dir / "incidents")
