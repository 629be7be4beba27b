"""Docker Swarm services: a listing, redone whenever the engine's events say something changed.

`ServiceMonitor` follows one manager engine. Swarm sends events for services and nodes
(create, update, remove: an update event carries the update state) but none for tasks,
so each event starts a reconcile (services with their status, tasks, nodes), bursts
coalescing into one, and a periodic reconcile catches what no event announces: every
`busy_interval_s` while an update runs or a task is not where it should be, else every
`interval_s`. The start, death and health of task containers on the manager's own node
also start one, so a crash there shows at once. A `ServicesListed` snapshot is emitted
only when it differs from the last; after an outage the first listing is always emitted.

Task stats come from the engines of the environment that are swarm nodes themselves:
each one's node id (`docker info`) maps the node's tasks to the engine that can read
their containers (`ServicesListed.reachable_nodes`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import docker
from docker.errors import APIError

from runbook.sources.docker.containers import parse_time
from runbook.sources.docker.engine import Emit, Engine, follow_events
from runbook.sources.docker.threads import run_until_stopped
from runbook.sources.services import (
    NodeInfo,
    ServiceInfo,
    ServicesListed,
    ServicesUnavailable,
    TaskInfo,
    strip_digest,
)

WATCHED_EVENTS = {
    "service": ("create", "update", "remove"),
    "node": ("create", "update", "remove"),
    "container": ("start", "die", "health_status", "destroy"),
}
"""What starts a reconcile; container events only for task containers (swarm labels)."""
TASK_LABEL = "com.docker.swarm.task.id"
SETTLED_TASK_STATES = ("running", "complete", "shutdown", "failed", "rejected", "orphaned")


def node_from_api(data: Mapping[str, Any]) -> NodeInfo:
    description = data.get("Description") or {}
    return NodeInfo(
        id=str(data.get("ID", "")),
        hostname=str(description.get("Hostname") or data.get("ID", "")),
        state=str((data.get("Status") or {}).get("State", "")),
        availability=str((data.get("Spec") or {}).get("Availability", "")),
        manager=bool(data.get("ManagerStatus")),
    )


def task_from_api(
    data: Mapping[str, Any], service_name: str, nodes: Mapping[str, NodeInfo]
) -> TaskInfo:
    spec = data.get("Spec") or {}
    status = data.get("Status") or {}
    node_id = str(data.get("NodeID") or "")
    slot = int(data.get("Slot") or 0)
    node = nodes.get(node_id)
    node_name = node.hostname if node else node_id[:12]
    return TaskInfo(
        id=str(data.get("ID", "")),
        service_id=str(data.get("ServiceID", "")),
        name=f"{service_name}.{slot}" if slot else f"{service_name}.{node_name}",
        node_id=node_id,
        node=node_name,
        image=strip_digest(str((spec.get("ContainerSpec") or {}).get("Image", ""))),
        state=str(status.get("State", "")),
        desired_state=str(data.get("DesiredState", "")),
        error=str(status.get("Err") or ""),
        message=str(status.get("Message") or ""),
        container_id=str((status.get("ContainerStatus") or {}).get("ContainerID") or ""),
        updated_at=parse_time(status.get("Timestamp") or data.get("UpdatedAt")),
        slot=slot,
    )


def service_from_api(
    data: Mapping[str, Any], tasks: Iterable[Mapping[str, Any]], nodes: Mapping[str, NodeInfo]
) -> ServiceInfo:
    """A row from `GET /services?status=true` and the service's tasks from `GET /tasks`."""
    spec = data.get("Spec") or {}
    name = str(spec.get("Name", ""))
    mode = spec.get("Mode") or {}
    parsed = sorted(
        (task_from_api(task, name, nodes) for task in tasks),
        key=lambda task: (task.slot, task.node, -(task.updated_at or 0.0)),
    )
    running = sum(1 for task in parsed if task.current and task.state == "running")
    if "Replicated" in mode:
        desired = int((mode.get("Replicated") or {}).get("Replicas") or 0)
        kind = "replicated"
    else:
        status = data.get("ServiceStatus") or {}
        desired = int(status.get("DesiredTasks") or sum(1 for task in parsed if task.current))
        kind = "global" if "Global" in mode else next(iter(mode), "replicated").lower()
    update = data.get("UpdateStatus") or {}
    image = strip_digest(
        str(((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image", ""))
    )
    return ServiceInfo(
        id=str(data.get("ID", "")),
        name=name,
        image=image,
        mode=kind,
        running=running,
        desired=desired,
        update_state=str(update.get("State") or ""),
        update_message=str(update.get("Message") or ""),
        tasks=tuple(parsed),
    )


def services_from_api(
    services: Iterable[Mapping[str, Any]],
    tasks: Iterable[Mapping[str, Any]],
    nodes: Iterable[Mapping[str, Any]],
    name_filter: str = "",
) -> tuple[tuple[ServiceInfo, ...], tuple[NodeInfo, ...]]:
    """Services (by name, only those whose name contains `name_filter`) and nodes."""
    node_rows = tuple(sorted((node_from_api(node) for node in nodes), key=lambda n: n.hostname))
    by_id = {node.id: node for node in node_rows}
    tasks_of: dict[str, list[Mapping[str, Any]]] = {}
    for task in tasks:
        tasks_of.setdefault(str(task.get("ServiceID", "")), []).append(task)
    rows = [
        service_from_api(service, tasks_of.get(str(service.get("ID", "")), []), by_id)
        for service in services
    ]
    kept = sorted((row for row in rows if name_filter in row.name), key=lambda row: row.name)
    return tuple(kept), node_rows


def busy(services: Iterable[ServiceInfo]) -> bool:
    """Something is moving: an update runs, or a current task is not (yet) settled."""
    for service in services:
        if service.update_state in ("updating", "rollback_started"):
            return True
        if service.running != service.desired:
            return True
        if any(task.current and task.state not in SETTLED_TASK_STATES for task in service.tasks):
            return True
    return False


class ServiceMonitor:
    """The services of one swarm manager: listed at each event and periodically."""

    def __init__(
        self,
        engine: Engine,
        *,
        node_engines: Sequence[Engine] = (),
        name_filter: str = "",
        interval_s: float = 5.0,
        busy_interval_s: float = 0.5,
    ) -> None:
        self.engine = engine
        self.node_engines = tuple(node_engines) or (engine,)
        """The environment's engines: those that are swarm nodes read their tasks' stats."""
        self.name_filter = name_filter
        self.interval_s = interval_s
        self.busy_interval_s = busy_interval_s
        self.services: dict[str, ServiceInfo] = {}
        self.last: ServicesListed | ServicesUnavailable | None = None
        self._kick = threading.Event()
        self._node_ids: dict[str, str] = {}
        """Engine host -> its swarm node id, once known."""

    @property
    def host(self) -> str:
        return self.engine.docker_host

    def refresh(self) -> None:
        self._kick.set()

    def run(self, emit: Emit) -> None:
        """Follow the swarm until `engine.stop()`; blocks (run it on a worker thread)."""
        run_until_stopped(self.engine, lambda: self._loop(emit), "swarm-services")

    def _loop(self, emit: Emit) -> None:
        filters = {
            "type": list(WATCHED_EVENTS),
            "event": sorted({e for events in WATCHED_EVENTS.values() for e in events}),
        }
        follow_events(self.engine, filters, lambda c, s: self._session(c, s, emit), pool=2)

    def _session(self, client: docker.APIClient, stream: Any, emit: Emit) -> None:
        """Reconcile at each event (read on a thread of its own) and periodically."""
        reader = threading.Thread(
            target=self._read_events, args=(stream,), name="swarm-events", daemon=True
        )
        reader.start()
        self.last = None  # a (re)connection always sends its first listing
        available = self.reconcile(client, emit)
        while not self.engine.stopped and reader.is_alive():
            if available:
                wait_s = self.busy_interval_s if busy(self.services.values()) else self.interval_s
            else:
                wait_s = self.interval_s
            self._kick.wait(wait_s)
            self._kick.clear()
            if self.engine.stopped or not reader.is_alive():
                break
            available = self.reconcile(client, emit)

    def _read_events(self, stream: Any) -> None:
        try:
            for event in stream:
                kind = str(event.get("Type") or "")
                attributes = (event.get("Actor") or {}).get("Attributes") or {}
                if kind == "container" and TASK_LABEL not in attributes:
                    continue
                self._kick.set()
                if self.engine.stopped:
                    return
        except Exception:  # noqa: BLE001 - a broken stream: the loop sees the reader end
            pass
        finally:
            self._kick.set()  # the loop wakes to reconnect rather than at its next reconcile

    def reconcile(self, client: Any, emit: Emit) -> bool:
        """List services, tasks and nodes; emit what changed. False: no swarm to list.

        Raises:
            Exception: the engine failed (not a "no swarm here" answer); the loop reconnects.
        """
        try:
            services = client.services(status=True)
            tasks = client.tasks()
            nodes = client.nodes()
        except APIError as error:
            if error.status_code in (406, 503):  # "not a swarm manager", "not part of a swarm"
                self._announce(ServicesUnavailable(unavailable_reason(error), self.host), emit)
                return False
            raise
        rows, node_rows = services_from_api(services, tasks, nodes, self.name_filter)
        listed = ServicesListed(rows, node_rows, self._reachable_nodes(node_rows), self.host)
        self.services = {row.id: row for row in rows}
        self._announce(listed, emit)
        return True

    def _announce(self, event: ServicesListed | ServicesUnavailable, emit: Emit) -> None:
        if event != self.last:
            self.last = event
            emit(event)

    def _reachable_nodes(self, nodes: Sequence[NodeInfo]) -> dict[str, str]:
        """Node id -> host, for the configured engines that answer and are nodes listed."""
        known = {node.id for node in nodes}
        reachable: dict[str, str] = {}
        for engine in self.node_engines:
            if not engine.state.reachable:
                continue
            node_id = self._node_ids.get(engine.docker_host)
            if node_id is None:
                node_id = self._ask_node_id(engine)
            if node_id and node_id in known:
                reachable[node_id] = engine.docker_host
        return reachable

    def _ask_node_id(self, engine: Engine) -> str | None:
        try:
            client = engine.client(timeout_s=2.0, pool=1)
            try:
                node_id = str(((client.info() or {}).get("Swarm") or {}).get("NodeID") or "")
            finally:
                client.close()
        except Exception:  # noqa: BLE001 - asked again at the next reconcile
            return None
        # "" (an engine that is no swarm node) is kept too: it is not asked at every reconcile.
        self._node_ids[engine.docker_host] = node_id
        return node_id


def unavailable_reason(error: APIError) -> str:
    """One line for a manager-less engine, with what to do about it."""
    text = str(getattr(error, "explanation", "") or error).splitlines()[0]
    detail = text.split(". ")[0].rstrip(".")  # Docker's advice (swarm init/join) is not ours
    return (
        f"{detail[:160]}: run the console against a swarm manager"
        ' (docker_host), or set orchestrator = "docker"'
    )
