"""Incidents on disk: one JSON file each, read-modify-write under an exclusive lock.

The TUI and the CLI can both record into the same incident.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from runbook.incident.model import Incident, IncidentError
from runbook.incident.timeline import Event
from runbook.storage import paths
from runbook.storage.atomic_file import read_json, write_json_atomic


class IncidentStore:
    """Incidents as `<state dir>/incidents/<id>.json`, one lock file per incident."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or paths.state_dir() / "incidents"

    def path_for(self, incident_id: str) -> Path:
        return self.directory / f"{incident_id}.json"

    def save(self, incident: Incident) -> None:
        write_json_atomic(self.path_for(incident.id), incident.to_dict())

    def load(self, incident_id: str) -> Incident:
        """An incident by id, unique id prefix, or `latest`/`current` (newest open one)."""
        resolved = self.resolve_id(incident_id)
        raw = read_json(self.path_for(resolved))
        if not isinstance(raw, dict):
            raise IncidentError(f"incident {incident_id} cannot be read")
        return Incident.from_dict(raw)

    def resolve_id(self, incident_id: str | None) -> str:
        ids = self.ids()
        if incident_id in (None, "", "latest", "current"):
            for candidate in reversed(ids):
                raw = read_json(self.path_for(candidate))
                if isinstance(raw, dict) and not raw.get("closed_at"):
                    return candidate
            if incident_id == "latest" and ids:
                return ids[-1]
            raise IncidentError("no open incident; start one with: incident start --severity P1")
        assert incident_id is not None
        if incident_id in ids:
            return incident_id
        matches = [i for i in ids if i.casefold().startswith(incident_id.casefold())]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise IncidentError(f"no incident {incident_id} in {self.directory}")
        raise IncidentError(f"{incident_id} matches several incidents: {', '.join(matches)}")

    def ids(self) -> list[str]:
        """Every incident id, oldest first (ids start with their opening time)."""
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("INC-*.json"))

    def list(self) -> list[Incident]:
        found = []
        for incident_id in self.ids():
            raw = read_json(self.path_for(incident_id))
            if isinstance(raw, dict):
                found.append(Incident.from_dict(raw))
        return found

    @contextlib.contextmanager
    def locked(self, incident_id: str) -> Iterator[Incident]:
        """Load under an exclusive lock, yield, save on a clean exit."""
        resolved = self.resolve_id(incident_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / f".{resolved}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            incident = self.load(resolved)
            yield incident
            self.save(incident)
        finally:
            os.close(fd)

    def update(self, incident_id: str, change: Callable[[Incident], Any]) -> Incident:
        """Apply `change` to the stored incident under the lock and save it."""
        with self.locked(incident_id) as incident:
            change(incident)
        return incident

    def append(self, incident_id: str, event: Event) -> None:
        """Record one event (the TUI's timeline, the drill runner) without losing others'."""
        self.update(incident_id, lambda incident: incident.record(event))
