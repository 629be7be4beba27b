"""Incidents on disk: one JSON file each, read-modify-write under an exclusive lock.

The TUI and the CLI can both record into the same incident.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from runbook.incident.model import Incident, IncidentError
from runbook.incident.timeline import Event
from runbook.storage import paths
from runbook.storage.atomic_file import read_json, write_json_atomic

LOCK_TIMEOUT_S = 5.0
"""How long to wait for another console or the CLI to finish writing an incident."""
LOCK_POLL_S = (0.01, 0.2)
"""The first and the longest pause between two tries for the lock."""


class IncidentBusy(IncidentError):
    """Another process held the incident's lock for longer than the timeout."""


def _lock(fd: int, incident_id: str, timeout_s: float) -> None:
    """Take an exclusive flock on `fd`, trying again with a growing pause until `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    pause, longest = LOCK_POLL_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise IncidentBusy(
                    f"incident {incident_id} is busy (locked by another console or the CLI); "
                    "try again"
                ) from None
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, longest)


class IncidentStore:
    """Incidents as `<state dir>/incidents/<id>.json`, one lock file per incident."""

    def __init__(
        self, directory: Path | None = None, lock_timeout_s: float = LOCK_TIMEOUT_S
    ) -> None:
        self.directory = directory or paths.state_dir() / "incidents"
        self.lock_timeout_s = lock_timeout_s
        """Past this wait for the lock, `locked` raises IncidentBusy instead of waiting on."""

    def path_for(self, incident_id: str) -> Path:
        return self.directory / f"{incident_id}.json"

    def lock_path(self, incident_id: str) -> Path:
        """The file that `locked` flocks, beside the incident's."""
        return self.directory / f".{incident_id}.lock"

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

    def open_for(
        self, runbook_path: str | None, runbook_sha256: str, environment: str
    ) -> Incident | None:
        """The newest open incident (not a drill) of this runbook in `environment`. The
        runbook is known by its absolute path or its text; an incident that names no
        environment is every environment's."""
        for incident_id in reversed(self.ids()):
            raw = read_json(self.path_for(incident_id))
            if not isinstance(raw, dict) or raw.get("closed_at") or raw.get("drill"):
                continue
            if raw.get("runbook_sha256") != runbook_sha256 and raw.get("runbook_path") != (
                runbook_path
            ):
                continue
            named = raw.get("environment")
            if named and str(named).casefold() != environment.casefold():
                continue
            return Incident.from_dict(raw)
        return None

    def list(self) -> list[Incident]:
        found = []
        for incident_id in self.ids():
            raw = read_json(self.path_for(incident_id))
            if isinstance(raw, dict):
                found.append(Incident.from_dict(raw))
        return found

    @contextlib.contextmanager
    def locked(self, incident_id: str) -> Iterator[Incident]:
        """Load under an exclusive lock, yield, save on a clean exit.

        Raises:
            IncidentBusy: another process held the lock for `lock_timeout_s`.
        """
        resolved = self.resolve_id(incident_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path(resolved), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd, resolved, self.lock_timeout_s)
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
