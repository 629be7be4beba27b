"""Deployments around an incident: the "recent deployment?" hint and what was deployed during it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from runbook.execution.history import read_history
from runbook.incident.model import RECENT_DEPLOY_S
from runbook.incident.timeline import parse_time
from runbook.model import Procedure, Runbook
from runbook.storage import paths


@dataclass(frozen=True)
class DeploymentHint:
    """A deploy happened recently: say so and offer the rollback step or procedure."""

    record: dict[str, Any]
    age_s: float
    procedure: str | None
    step: int | None

    @property
    def text(self) -> str:
        version = self.record.get("to_version") or "?"
        minutes = int(self.age_s // 60)
        where = (
            f"; rollback: {self.procedure} step {self.step}"
            if self.procedure and self.step
            else f"; rollback: {self.procedure}"
            if self.procedure
            else ""
        )
        return (
            f"Recent deployment: {version} ({self.record.get('environment') or '?'}) "
            f"{minutes} min ago by {self.record.get('user') or '?'}{where}"
        )


def recent_deployments(
    history_path: Path, now: datetime, within_s: float = RECENT_DEPLOY_S
) -> list[dict[str, Any]]:
    """Successful deploys recorded within `within_s` before `now`, newest first."""
    found = []
    for record in read_history(history_path):
        if record.get("action") != "deploy" or record.get("outcome") not in (None, "succeeded"):
            continue
        try:
            age = (now - parse_time(str(record.get("time")))).total_seconds()
        except (TypeError, ValueError):
            continue
        if 0 <= age <= within_s:
            found.append((age, record))
    return [record for _, record in sorted(found, key=lambda pair: pair[0])]


def rollback_target(runbook: Runbook, procedure_key: str | None) -> tuple[str | None, int | None]:
    """Where the runbook says to roll back: a step of the severity's procedure, else a procedure.

    The seed's P1 step 3 ("If recent deployment: rollback immediately") is preferred;
    otherwise a procedure titled like "Rollback".
    """
    procedure = runbook.procedure(procedure_key) if procedure_key else None
    if procedure is not None:
        for step in procedure.steps:
            if "rollback" in step.text.casefold():
                return procedure.key, step.index
    candidates: list[Procedure] = [p for p in runbook.procedures if "rollback" in p.key.casefold()]
    candidates.sort(key=lambda p: (not p.steps or not p.steps[0].commands, p.line))
    return (candidates[0].key, None) if candidates else (None, None)


def deployment_hint(
    runbook: Runbook,
    procedure_key: str | None,
    now: datetime,
    history_path: Path | None = None,
    within_s: float = RECENT_DEPLOY_S,
) -> DeploymentHint | None:
    """The "recent deployment?" hint, or None when the history shows no deploy that recent."""
    if history_path is None:
        history_path = paths.history_dir(paths.repository_root(runbook.path)) / "deployments.jsonl"
    recent = recent_deployments(history_path, now, within_s)
    if not recent:
        return None
    procedure, step = rollback_target(runbook, procedure_key)
    age = (now - parse_time(str(recent[0]["time"]))).total_seconds()
    return DeploymentHint(recent[0], age, procedure, step)


def deployments_between(
    history_path: Path, start: datetime, end: datetime | None
) -> list[dict[str, Any]]:
    """Deploys and rollbacks recorded between two moments (end None: until now)."""
    found = []
    for record in read_history(history_path):
        try:
            moment = parse_time(str(record.get("time")))
        except (TypeError, ValueError):
            continue
        if moment >= start - timedelta(seconds=1) and (end is None or moment <= end):
            found.append(record)
    return found
