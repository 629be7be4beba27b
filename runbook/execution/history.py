"""Deployment history: one JSON Lines record per deploy or rollback.

The file is `deployments.jsonl` in the seed's `deployment-history/` directory
(`<repo>/.monkeytown/devops/deployment-history/`, or DEPLOY_HISTORY_DIR). The
repository's deploy scripts append their own records, tagged with the
RUNBOOK_RUN_ID the executor gives every run; after a deploy or rollback step the
executor adds a record only when the scripts wrote none for that run.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from runbook.storage import paths
from runbook.storage.jsonl import append_line, read_lines

Action = Literal["deploy", "rollback", "rollback-now"]
HISTORY_FILE = "deployments.jsonl"
FIELDS = (
    "time",
    "action",
    "environment",
    "from_version",
    "to_version",
    "colour",
    "user",
    "host",
    "outcome",
    "run_id",
)

_MAKE = re.compile(r"(?:^|[\s;&|(/])make\b[^\n;&|]*?\b(rollback-now|rollback|deploy)\b", re.M)
_TAG_CURRENT = re.compile(r"\bdocker\s+(?:image\s+)?tag\s+\S+?:(\S+)\s+\S+:current\b")
_COMPOSE_UP = re.compile(r"\bdocker[- ]compose\b[^\n]*\sup\b")


def history_file(repo_root: Path) -> Path:
    return paths.history_dir(repo_root) / HISTORY_FILE


def history_file_for(path: Path) -> Path:
    """The deployment history of the repository holding `path`, a runbook or a directory."""
    resolved = path.resolve()
    # repository_root starts from a runbook's directory; a directory is its own start.
    inside = resolved / HISTORY_FILE if resolved.is_dir() else resolved
    return history_file(paths.repository_root(inside))


def classify(code: str) -> tuple[Action, str | None] | None:
    """Whether a command deploys or rolls back, and the version it moves to if it says.

    `make deploy`, `make rollback`, `make rollback-now`; `docker tag IMG:<sha> IMG:current`
    (a manual rollback, to `<sha>`); `docker compose ... up` (a deploy). The
    `compose restart` that follows a manual re-tag is not counted again: the re-tag
    step already recorded that rollback, with its version.
    """
    # Each pattern is tried only when the words it needs are there at all: on a command
    # of 100,000 lines that say "make", the first took a third of a second.
    make = _MAKE.search(code) if "rollback" in code or "deploy" in code else None
    if make:
        return make.group(1), None  # type: ignore[return-value]
    tag = _TAG_CURRENT.search(code) if ":current" in code else None
    if tag:
        version = tag.group(1).strip("'\"")
        return "rollback", version
    if "compose" in code and _COMPOSE_UP.search(code):
        return "deploy", None
    return None


def read_history(path: Path) -> list[dict[str, Any]]:
    """Every record, oldest first; torn or foreign lines are skipped."""
    return read_lines(path)


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one record durably (O_APPEND, one write, fsync). Raises OSError."""
    full = {name: record.get(name) for name in FIELDS}
    full.update(record)
    if not full.get("time"):
        full["time"] = datetime.now(UTC).isoformat(timespec="seconds")
    append_line(path, full)


def record_if_missing(path: Path, run_id: str, record: dict[str, Any]) -> bool:
    """Append `record` unless the deploy scripts already wrote one for `run_id`.

    A record without `from_version` gets the environment's live version from the
    history: what its last successful deploy or rollback moved to (None if unknown).

    Returns:
        True when a record was appended.
    """
    records = read_history(path)
    if any(r.get("run_id") == run_id for r in records):
        return False
    if record.get("from_version") is None:
        record = {**record, "from_version": live_version(records, record.get("environment"))}
    append_record(path, {**record, "run_id": run_id})
    return True


def live_version(records: list[dict[str, Any]], environment: object) -> str | None:
    """The version the last successful deploy or rollback in `environment` moved to."""
    for record in reversed(records):
        if record.get("environment") == environment and record.get("outcome") == "succeeded":
            version = record.get("to_version")
            return str(version) if version else None
    return None
