"""The services pane: an orchestrator's services (`orchestrator = "swarm"`), with the tasks
of the selected one below, in place of the containers pane."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Static

from console.panes.format import human_bytes, percent
from console.panes.live_table import LiveTableOptions, LiveTablePane
from console.panes.messages import DockerEventArrived, StatsArrived
from console.panes.quiet import QuietTable
from console.widgets.key_hint import KeyHint
from runbook.sources.docker.containers import ContainerInfo
from runbook.sources.docker.engine import Emit, EngineChanged
from runbook.sources.docker.fleet import host_label, unreachable_since
from runbook.sources.docker.stats import ContainerStats
from runbook.sources.services import ServiceInfo, ServicesListed, ServicesUnavailable, TaskInfo

if TYPE_CHECKING:
    from runbook.execution.container_actions import ActionTarget, ContainerAction
    from runbook.sources.live import LiveSources
    from runbook.sources.services import ServiceSource

COLUMNS = (
    ("name", "Service"),
    ("image", "Image"),
    ("replicas", "Replicas"),
    ("update", "Update"),
    ("cpu", "CPU %"),
    ("memory", "Mem used"),
)
TASK_COLUMNS = (
    ("task", "Task"),
    ("node", "Node"),
    ("tag", "Image"),
    ("state", "State"),
    ("error", "Error"),
)
UPDATE_LABELS = {
    "updating": "updating",
    "paused": "PAUSED",
    "completed": "completed",
    "rollback_started": "ROLLING BACK",
    "rollback_paused": "ROLLBACK PAUSED",
    "rollback_completed": "rolled back",
}


def update_cell(service: ServiceInfo) -> str:
    return UPDATE_LABELS.get(service.update_state, service.update_state or "-")


def task_state(task: TaskInfo) -> str:
    """`running`; `running (→ shutdown)` for a task being stopped, `failed` for history."""
    if task.current or task.state == task.desired_state or not task.desired_state:
        return task.state
    if task.state in ("failed", "rejected", "complete", "orphaned"):
        return task.state  # over: where it was meant to go no longer matters
    return f"{task.state} (→ {task.desired_state})"


class ServicesPane(LiveTablePane):
    """Services of the environment's swarm: replicas, update state, tasks per node."""

    HELP = """
## Services (orchestrator = "swarm")
One row per service: its image tag, replicas running/desired, and its update state
(updating, PAUSED, ROLLING BACK, rolled back, completed). Below, the tasks of the selected
service, per node, with the image tag each runs and its error. Listed at each swarm event
and every few seconds (every half second while anything moves). CPU % and memory add up
the service's running tasks on the nodes the console reaches (100 % is one core).

- **f** follow the selected service's logs (a task column names each line's task),
  **F** add it to those followed
- **R** rolling restart (`docker service update --force`), **I** inspect, **L**
  `docker service logs` (confirmed and audited like a step, as the containers pane's)
"""
    BINDINGS = [
        Binding(
            "f",
            "follow_logs",
            "Follow logs",
            show=False,
            id="services-follow",
            tooltip="Follow the selected service's logs",
        ),
        Binding(
            "F",
            "follow_logs(True)",
            "Also follow",
            show=False,
            id="services-follow-add",
            tooltip="Add the selected service to the followed logs",
        ),
        Binding(
            "R",
            "act('restart')",
            "Restart",
            show=False,
            id="services-restart",
            tooltip="Rolling restart of the selected service (asks for confirmation)",
        ),
        Binding(
            "I",
            "act('inspect')",
            "Inspect",
            show=False,
            id="services-inspect",
            tooltip="docker service inspect the selected service",
        ),
        Binding(
            "L",
            "act('logs')",
            "service logs",
            show=False,
            id="services-logs",
            tooltip="Run docker service logs --tail 200 for the selected service",
        ),
    ]
    DEFAULT_CSS = """
    ServicesPane { height: 1fr; }
    ServicesPane > #services-status { height: auto; color: $text-muted; }
    ServicesPane > #services-status.-down { color: $error; text-style: bold; }
    ServicesPane > #services { height: 1fr; min-height: 4; }
    ServicesPane > #service-tasks-title { height: 1; color: $text-muted; }
    ServicesPane > #service-tasks { height: 1fr; min-height: 3; }
    """

    KIND = "service"
    TABLE_ID = "services"

    def __init__(self, sources: LiveSources, **options: Unpack[LiveTableOptions]) -> None:
        super().__init__(sources, **options)
        if sources.services is None:
            raise ValueError('a services pane needs an orchestrator (orchestrator = "swarm")')
        self.source: ServiceSource = sources.services
        self.services: dict[str, ServiceInfo] = {}
        self.stats: dict[str, ContainerStats] = {}
        """By container id, for the tasks whose node an engine of the environment reaches."""
        self.watched: dict[str, ContainerInfo] = {}
        """The task containers whose stats are read, by container id."""
        self.listing: ServicesListed | None = None
        self.unavailable = ""
        self._shown_service = ""

    def compose(self) -> ComposeResult:
        yield Static("Connecting to the swarm manager…", id="services-status", markup=False)
        yield KeyHint(type(self))
        table = QuietTable(cursor_type="row", zebra_stripes=False, id="services")
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("Tasks", id="service-tasks-title", markup=False)
        tasks = QuietTable(cursor_type="row", zebra_stripes=False, id="service-tasks")
        for key, label in TASK_COLUMNS:
            tasks.add_column(label, key=key)
        yield tasks

    @property
    def tasks_table(self) -> QuietTable:
        return self.query_one("#service-tasks", QuietTable)

    def run_source(self, emit: Emit) -> None:
        self.source.run(emit)

    @on(DockerEventArrived)
    def _event(self, message: DockerEventArrived) -> None:
        event = message.event
        if isinstance(event, EngineChanged):
            self.engine_states[event.host or self.sources.fleet.primary.host] = event.state
            if not event.state.reachable:
                # Figures of an engine that went away are not current: blank them.
                self.stats = {
                    cid: stats
                    for cid, stats in self.stats.items()
                    if self.watched[cid].host != event.host
                }
                for service in self.services.values():
                    self._set_stats_cells(service)
        elif isinstance(event, ServicesUnavailable):
            self.unavailable = event.reason
        elif isinstance(event, ServicesListed):
            self.unavailable = ""
            self._list(event)
        self._show_status()

    @on(StatsArrived)
    def _stats(self, message: StatsArrived) -> None:
        for sample in message.sample.stats:
            if sample.id in self.watched:
                self.stats[sample.id] = sample
        for service in self.services.values():
            self._set_stats_cells(service)

    @on(DataTable.RowHighlighted, "#services")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_tasks()

    def _list(self, listing: ServicesListed) -> None:
        self.listing = listing
        table = self.table
        for gone in set(self.services) - {service.id for service in listing.services}:
            del self.services[gone]
            table.remove_row(gone)
            for key, _ in COLUMNS:
                self._cells.pop((gone, key), None)
        for service in listing.services:
            row = {
                "name": service.name,
                "image": service.tag,
                "replicas": service.replicas,
                "update": update_cell(service),
            }
            if service.id not in self.services:
                table.add_row(*(escape(row.get(key, "-")) for key, _ in COLUMNS), key=service.id)
                for key, _ in COLUMNS:
                    self._cells[(service.id, key)] = row.get(key, "-")
            else:
                for key, text in row.items():
                    self._write_cell(table, service.id, key, text)
            self.services[service.id] = service
        self._watch_tasks(listing)
        for service in listing.services:
            self._set_stats_cells(service)
        self._show_tasks(force=True)

    def _watch_tasks(self, listing: ServicesListed) -> None:
        """Read stats of the running tasks whose node an engine of the environment reaches."""
        watched: dict[str, ContainerInfo] = {}
        for service in listing.services:
            for task in service.tasks:
                host = listing.reachable_nodes.get(task.node_id)
                if task.current and task.state == "running" and task.container_id and host:
                    watched[task.container_id] = ContainerInfo(
                        task.container_id, task.name, task.image, "running", host=host
                    )
        if set(watched) != set(self.watched):
            self.watched = watched
            self.stats = {cid: stats for cid, stats in self.stats.items() if cid in watched}
            self.sources.fleet.watch(watched.values())

    def _set_stats_cells(self, service: ServiceInfo) -> None:
        samples = [
            self.stats[task.container_id]
            for task in service.tasks
            if task.current and task.container_id in self.stats
        ]
        cpu = [s.cpu_percent for s in samples if s.cpu_percent is not None]
        memory = [s.memory_used for s in samples if s.memory_used is not None]
        self._write_cell(self.table, service.id, "cpu", percent(sum(cpu)) if cpu else "-")
        self._write_cell(
            self.table, service.id, "memory", human_bytes(sum(memory)) if memory else "-"
        )

    def selected(self) -> ServiceInfo | None:
        return self.services.get(self._selected_key())

    def _show_tasks(self, force: bool = False) -> None:
        """The selected service's tasks, per node; rebuilt when the selection or they change."""
        service = self.selected()
        title = self.query_one("#service-tasks-title", Static)
        tasks = self.tasks_table
        if service is None:
            tasks.clear()
            title.update("Tasks")
            self._shown_service = ""
            return
        if not force and service.id == self._shown_service:
            return
        self._shown_service = service.id
        failing = len([task for task in service.tasks if task.error])
        note = f" · {failing} with errors" if failing else ""
        message = f" · {service.update_message}" if service.update_message else ""
        title.update(Content(f"Tasks of {service.name}{note}{message}"))
        tasks.clear()
        for task in sorted(service.tasks, key=lambda t: (t.node, t.slot, not t.current)):
            tasks.add_row(
                escape(task.name),
                escape(task.node),
                escape(task.tag),
                escape(task_state(task)),
                escape(task.error or "-"),
                key=task.id,
            )

    def _show_status(self) -> None:
        status = self.query_one("#services-status", Static)
        manager = self.sources.fleet.primary.host
        state = self.engine_states.get(manager)
        down = state is not None and not state.reachable
        status.set_class(down or bool(self.unavailable), "-down")
        if down and state is not None:
            status.update(
                Content(
                    f"Swarm manager {host_label(manager)} {unreachable_since(state)}"
                    " · the rows are its last listing, retrying"
                )
            )
            return
        if self.unavailable:
            status.update(Content(f"Swarm: {self.unavailable}"))
            return
        listing = self.listing
        if listing is None:
            return
        nodes = len(listing.nodes)
        text = (
            f"Swarm manager {host_label(manager)} · {len(listing.services)} services"
            f" · stats from {len(listing.reachable_nodes)} of {nodes} nodes · CPU % 100 = one core"
        )
        status.update(Content(text))

    def _action_title(self, action: ContainerAction, target: ActionTarget, host: str) -> str:
        return f"docker service {action} {target.name}"
