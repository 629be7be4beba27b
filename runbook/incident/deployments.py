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

ROLLBACK_ACTIONS = ("rollback", "rollback-now")
"""History actions that roll back (the deploy scripts' `make rollback`, `make rollback-now`)."""


@dataclass(frozen=True)
class DeploymentHint:
    """The newest deploy or rollback, when recent: after a deploy, say so and offer the
    rollback step or procedure; after a rollback, say what it rolled back to, offer nothing.

    `age_s` is the age when the hint was made; `age_at(now)`, `text_at(now)` and
    `strip_text(now)` let a display tick without reading the history again.
    """

    record: dict[str, Any]
    age_s: float
    procedure: str | None
    step: int | None

    @property
    def at(self) -> datetime:
        return parse_time(str(self.record.get("time")))

    @property
    def rolled_back(self) -> bool:
        """The newest change was a rollback: the service already runs the older version."""
        return self.record.get("action") in ROLLBACK_ACTIONS

    @property
    def offers_rollback(self) -> bool:
        """Whether to offer the rollback (never again after a rollback)."""
        return not self.rolled_back and self.procedure is not None

    @property
    def version(self) -> str:
        return str(self.record.get("to_version") or "?")

    def age_at(self, now: datetime) -> float:
        """Seconds since the deploy or rollback, at `now` (never negative)."""
        return max((now - self.at).total_seconds(), 0.0)

    def strip_text(self, now: datetime) -> str:
        """One short line: `Deployed v2 12m ago · b rollback` or `Rolled back to v1 3m ago`."""
        minutes = int(self.age_at(now) // 60)
        if self.rolled_back:
            return f"Rolled back to {self.version} {minutes}m ago"
        offer = " · b rollback" if self.offers_rollback else ""
        return f"Deployed {self.version} {minutes}m ago{offer}"

    def text_at(self, now: datetime) -> str:
        """The full sentence at `now`, with where to roll back after a deploy."""
        minutes = int(self.age_at(now) // 60)
        who = f"({self.record.get('environment') or '?'}) {minutes} min ago"
        by = f"by {self.record.get('user') or '?'}"
        if self.rolled_back:
            return f"Rolled back to {self.version} {who} {by}"
        where = (
            f"; rollback: {self.procedure} step {self.step}"
            if self.procedure and self.step
            else f"; rollback: {self.procedure}"
            if self.procedure
            else ""
        )
        return f"Recent deployment: {self.version} {who} {by}{where}"

    @property
    def text(self) -> str:
        """`text_at` the moment the hint was made."""
        return self.text_at(self.at + timedelta(seconds=self.age_s))


def recent_deployments(
    history_path: Path, now: datetime, within_s: float = RECENT_DEPLOY_S
) -> list[dict[str, Any]]:
    """Successful deploys and rollbacks recorded within `within_s` before `now`, newest first."""
    found = []
    for record in read_history(history_path):
        action = record.get("action")
        if action not in ("deploy", *ROLLBACK_ACTIONS):
            continue
        if record.get("outcome") not in (None, "succeeded"):
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
    """The "recent deployment?" hint, or None when the history shows no change that recent.

    The newest successful deploy or rollback decides: after a rollback the hint says
    so and offers no rollback (`procedure` and `step` are None).
    """
    if history_path is None:
        history_path = paths.history_dir(paths.repository_root(runbook.path)) / "deployments.jsonl"
    recent = recent_deployments(history_path, now, within_s)
    if not recent:
        return None
    newest = recent[0]
    age = (now - parse_time(str(newest["time"]))).total_seconds()
    if newest.get("action") in ROLLBACK_ACTIONS:
        return DeploymentHint(newest, age, None, None)
    procedure, step = rollback_target(runbook, procedure_key)
    return DeploymentHint(newest, age, procedure, step)


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
