"""Services run by an orchestrator, as the live panes show them: what any backend reports.

An environment with `orchestrator = "swarm"` shows services instead of bare containers.
The monitor of a backend (`runbook.sources.docker.services` for Docker Swarm) follows the
orchestrator and emits a `ServicesListed` snapshot whenever what it shows changed, or
`ServicesUnavailable` while it cannot list them. The shape is the orchestrator's, not
Swarm's: a Kubernetes Deployment is a service (ready/desired replicas, rollout status
as its update state), its pods are the tasks, a pod's node is the task's node
(docs/fleet.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

Emit = Callable[[object], object]
"""As `runbook.sources.docker.engine.Emit`; no Docker import here, a backend may not need it."""

UPDATE_STATES = (
    "updating",
    "paused",
    "completed",
    "rollback_started",
    "rollback_paused",
    "rollback_completed",
)
"""Update (rollout) states as Docker Swarm names them; "" when the service never changed."""


@dataclass(frozen=True)
class TaskInfo:
    """One replica of a service on one node (a swarm task; a Kubernetes pod)."""

    id: str
    service_id: str
    name: str
    """`web.1` for replica 1 of service web; `web.<node>` for a global service."""
    node_id: str
    node: str
    """The node's host name (its id when the node is unknown)."""
    image: str
    """As the service spec names it, without the digest: `repo:tag`."""
    state: str
    """new, pending, assigned, accepted, preparing, starting, running, complete,
    shutdown, failed, rejected, remove, orphaned."""
    desired_state: str
    error: str = ""
    message: str = ""
    container_id: str = ""
    updated_at: float | None = None
    slot: int = 0

    @property
    def current(self) -> bool:
        """Meant to run now (not history kept after an update or a failure)."""
        return self.desired_state in ("running", "ready")

    @property
    def tag(self) -> str:
        """The image tag (`latest` when the image names none)."""
        return image_tag(self.image)


@dataclass(frozen=True)
class ServiceInfo:
    id: str
    name: str
    image: str
    """The image the service spec runs now (during a rollback: the one rolled back to)."""
    mode: str = "replicated"
    """replicated or global."""
    running: int = 0
    desired: int = 0
    update_state: str = ""
    """One of UPDATE_STATES, or "" for a service never updated."""
    update_message: str = ""
    tasks: tuple[TaskInfo, ...] = ()
    """Current tasks and the history the orchestrator keeps, newest first per slot."""

    @property
    def replicas(self) -> str:
        return f"{self.running}/{self.desired}"

    @property
    def tag(self) -> str:
        return image_tag(self.image)

    @property
    def failing_tasks(self) -> tuple[TaskInfo, ...]:
        return tuple(task for task in self.tasks if task.error)


@dataclass(frozen=True)
class NodeInfo:
    id: str
    hostname: str
    state: str = ""
    """ready, down, unknown, disconnected."""
    availability: str = ""
    """active, pause, drain."""
    manager: bool = False


@dataclass(frozen=True)
class ServicesListed:
    """Every service of the orchestrator now: services not listed are gone."""

    services: tuple[ServiceInfo, ...]
    nodes: tuple[NodeInfo, ...] = ()
    reachable_nodes: Mapping[str, str] = field(default_factory=dict)
    """Node id -> the configured engine (host) reaching it, for the tasks' stats."""
    host: str = ""
    """The engine the services were listed from."""


@dataclass(frozen=True)
class ServicesUnavailable:
    """The orchestrator answers but lists no services (not a manager, no swarm)."""

    reason: str
    host: str = ""


class ServiceSource(Protocol):
    """What the services pane needs from an orchestrator backend."""

    services: dict[str, ServiceInfo]
    """The services now, by id."""

    def run(self, emit: Emit) -> None:
        """Follow the orchestrator until stopped, emitting `ServicesListed` and
        `ServicesUnavailable`; blocks (run it on a worker thread)."""
        ...

    def refresh(self) -> None:
        """List again now rather than at the next periodic reconcile."""
        ...


def image_tag(image: str) -> str:
    """`repo/name:v2@sha256:...` -> `v2`; `name` -> `latest`; `name@sha256:abc` -> `@sha256:abc`."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return f"@{digest[:19]}" if digest else "latest"


def strip_digest(image: str) -> str:
    """`repo:tag@sha256:...` -> `repo:tag` (the pinned digest swarm adds is noise on screen)."""
    name, _, digest = image.partition("@")
    return name if name else f"@{digest}"
