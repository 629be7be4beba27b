"""The container list: a snapshot, then Docker events, resynchronised after an outage.

`ContainerMonitor` emits `ContainersListed` once per (re)connection, then
`ContainerChanged` and `ContainerRemoved` as create/start/die/destroy/
health_status events arrive, each row read by `docker inspect`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import docker
from docker.errors import NotFound

from runbook.sources.docker.engine import Emit, Engine, follow_events
from runbook.sources.docker.threads import parallel_map, run_until_stopped

WATCHED_EVENTS = (
    "create start restart die stop kill destroy health_status pause unpause rename oom".split()
)
"""Container events that change a row; exec_* events of health checks are not asked for."""


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    image: str
    state: str
    """created, running, paused, restarting, exited, dead."""
    health: str = ""
    """healthy, unhealthy, starting, or "" without a health check."""
    started_at: float | None = None
    restart_count: int = 0
    host: str = ""
    """The engine it runs on, as configured (URL or context name); "" for a lone engine."""
    pid: int = 0
    """Its main process on the engine's host (0 when not running): a local engine's
    stats are read from that process's cgroup."""
    detailed: bool = True
    """False for a row from the engine's listing not inspected yet: its start time,
    restart count and process are not known (shown as "-", never as 0)."""

    def uptime_s(self, now: float | None = None) -> float | None:
        if self.state != "running" or self.started_at is None:
            return None
        return max(0.0, (now or time.time()) - self.started_at)


@dataclass(frozen=True)
class ContainersListed:
    """Every container of one engine: rows of that engine not listed are gone."""

    containers: tuple[ContainerInfo, ...]
    host: str = ""


@dataclass(frozen=True)
class ContainerChanged:
    container: ContainerInfo
    action: str


@dataclass(frozen=True)
class ContainerRemoved:
    id: str
    host: str = ""


def parse_time(value: str | None) -> float | None:
    """Epoch seconds of an engine timestamp (RFC 3339, nanoseconds); None for the zero time."""
    if not value or value.startswith("0001-"):
        return None
    head, _, rest = value.partition(".")
    fraction = "0." + "".join(ch for ch in rest if ch.isdigit()) if rest else "0"
    try:
        base = datetime.strptime(head.rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return base.timestamp() + float(fraction)


def container_from_inspect(data: dict[str, Any], host: str = "") -> ContainerInfo:
    """A row from `docker inspect` output, of the engine `host`."""
    state = data.get("State") or {}
    config = data.get("Config") or {}
    health = (state.get("Health") or {}).get("Status", "")
    return ContainerInfo(
        id=str(data.get("Id", "")),
        name=str(data.get("Name", "")).lstrip("/"),
        image=str(config.get("Image") or data.get("Image", "")),
        state=str(state.get("Status", "")),
        health=str(health or ""),
        started_at=parse_time(state.get("StartedAt")),
        restart_count=int(data.get("RestartCount") or 0),
        host=host,
        pid=int(state.get("Pid") or 0),
    )


def container_from_summary(summary: dict[str, Any], host: str = "") -> ContainerInfo:
    """A row from the engine's listing (`docker ps -a`), before its inspect (`detailed`
    False): the health is read from the status text, as `docker ps` shows it."""
    status = str(summary.get("Status") or "")
    health = ""
    for marker, word in (
        ("(healthy)", "healthy"),
        ("(unhealthy)", "unhealthy"),
        ("(health: starting)", "starting"),
    ):
        if marker in status:
            health = word
    names = summary.get("Names") or ["/"]
    return ContainerInfo(
        id=str(summary.get("Id", "")),
        name=str(names[0]).lstrip("/"),
        image=str(summary.get("Image", "")),
        state=str(summary.get("State", "")),
        health=health,
        host=host,
        detailed=False,
    )


FIRST_ROWS = 48
"""On a first listing of more containers than this, the rows show at once from the listing
and this many, first by name (the rows on screen), are inspected before the rest."""


class ContainerMonitor:
    """The container list: a snapshot, then Docker events; resynchronised after an outage."""

    def __init__(self, engine: Engine, *, inspect_threads: int = 8, name_filter: str = "") -> None:
        self.engine = engine
        self.inspect_threads = inspect_threads
        self.name_filter = name_filter
        """Only containers whose name contains this are reported."""
        self.containers: dict[str, ContainerInfo] = {}

    @property
    def host(self) -> str:
        return self.engine.docker_host

    def run(self, emit: Emit) -> None:
        """Follow the engine until `engine.stop()`; blocks (run it on a worker thread)."""
        run_until_stopped(self.engine, lambda: self._loop(emit), "docker-containers")

    def _loop(self, emit: Emit) -> None:
        filters = {"type": "container", "event": list(WATCHED_EVENTS)}
        follow_events(
            self.engine,
            filters,
            lambda c, s: self._session(c, s, emit),
            pool=self.inspect_threads + 1,
        )

    def _session(self, client: docker.APIClient, stream: Any, emit: Emit) -> None:
        self._snapshot(client, emit)
        for event in stream:
            if self.engine.stopped:
                break
            self._apply(client, event, emit)

    def _snapshot(self, client: docker.APIClient, emit: Emit) -> None:
        summaries = [
            summary
            for summary in client.containers(all=True)
            if any(self.name_filter in name for name in summary.get("Names") or ["/"])
        ]
        ids = [str(summary["Id"]) for summary in summaries]
        if self.containers or len(ids) <= FIRST_ROWS:
            # A resynchronisation, or few: one listing, every row inspected.
            found = parallel_map(self._inspector(), ids, self.inspect_threads)
            self.containers = {info.id: info for info in found if info is not None}
            emit(ContainersListed(tuple(self.containers.values()), self.host))
            return
        # Many, the first time: every row at once, then the first by name (those on
        # screen: their stats wait for their process) inspected before the rest.
        rows = {info.id: info for info in (container_from_summary(s, self.host) for s in summaries)}
        self.containers = dict(rows)
        emit(ContainersListed(tuple(rows.values()), self.host))
        order = sorted(rows, key=lambda container_id: rows[container_id].name)
        inspect = self._inspector()
        for part in (order[:FIRST_ROWS], order[FIRST_ROWS:]):
            for container_id, info in zip(
                part, parallel_map(inspect, part, self.inspect_threads), strict=True
            ):
                if info is None:
                    del rows[container_id]  # removed meanwhile
                else:
                    rows[container_id] = info
            self.containers = dict(rows)
            emit(ContainersListed(tuple(rows.values()), self.host))

    def _inspector(self) -> Callable[[str], ContainerInfo | None]:
        local = threading.local()

        def inspect(container_id: str) -> ContainerInfo | None:
            if not hasattr(local, "client"):
                local.client = self.engine.client()
            try:
                return container_from_inspect(
                    local.client.inspect_container(container_id), self.host
                )
            except NotFound:
                return None

        return inspect

    def _apply(self, client: docker.APIClient, event: dict[str, Any], emit: Emit) -> None:
        action = str(event.get("Action") or event.get("status") or "")
        container_id = str(event.get("id") or (event.get("Actor") or {}).get("ID") or "")
        if not container_id:
            return
        name = str(((event.get("Actor") or {}).get("Attributes") or {}).get("name") or "")
        if name and self.name_filter not in name and container_id not in self.containers:
            return  # another container on a shared engine: not even inspected
        if action == "destroy":
            if self.containers.pop(container_id, None) is not None:
                emit(ContainerRemoved(container_id, self.host))
            return
        try:
            info = container_from_inspect(client.inspect_container(container_id), self.host)
        except NotFound:
            if self.containers.pop(container_id, None) is not None:
                emit(ContainerRemoved(container_id, self.host))
            return
        if self.name_filter not in info.name:
            if self.containers.pop(container_id, None) is not None:
                emit(ContainerRemoved(container_id, self.host))
            return
        if self.containers.get(container_id) != info:
            self.containers[container_id] = info
            emit(ContainerChanged(info, action.split(":")[0]))
