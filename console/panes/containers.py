"""The containers pane: a DataTable that follows Docker events, with stats for visible rows."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Unpack

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from console.panes.format import human_bytes, percent, uptime
from console.panes.messages import (
    ContainerActionRequested,
    ContainerRestarted,
    DockerEventArrived,
    FollowLogsRequested,
    StatsArrived,
)
from console.panes.quiet import QuietTable
from console.widgets.key_hint import KeyHint
from runbook.execution.container_actions import ContainerAction, action_plan
from runbook.sources.docker.containers import (
    ContainerChanged,
    ContainerInfo,
    ContainerRemoved,
    ContainersListed,
)
from runbook.sources.docker.engine import EngineChanged, EngineState
from runbook.sources.docker.stats import ContainerStats, StatsSampled

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions
    from runbook.config import Config
    from runbook.sources.live import LiveSources

FALLBACK_STATS_ROWS = 20
"""Without Prometheus, stats are also read for up to this many running containers."""

COLUMNS = (
    ("name", "Name"),
    ("image", "Image"),
    ("state", "State"),
    ("health", "Health"),
    ("up", "Up"),
    ("restarts", "Rst"),
    ("cpu", "CPU %"),
    ("memory", "Mem used/limit"),
    ("net", "Net rx/tx"),
)


class ContainersPane(Vertical, can_focus=False):
    """Containers of the environment's engine; actions are requests to the console's step
    runner, which confirms, runs and records them like steps."""

    HELP = """
## Containers
Follows Docker events (create, start, die, destroy, health). CPU % is computed as
`docker stats` does: **100 % is one core**. Net I/O shows `-` for containers on the host
network (they have no interface of their own). Stats are read only for rows on screen.

- **f** follow the selected container's logs in the logs pane, **F** add it to those followed
- **R** restart, **I** inspect, **L** `docker logs` (confirmed and audited like a step).
  Capitals: `r` runs the checklist's step wherever the focus is, and `i` opens the incident.
"""
    BINDINGS = [
        Binding(
            "f",
            "follow_logs",
            "Follow logs",
            show=False,
            id="containers-follow",
            tooltip="Follow the selected container's logs",
        ),
        Binding(
            "F",
            "follow_logs(True)",
            "Also follow",
            show=False,
            id="containers-follow-add",
            tooltip="Add the selected container to the followed logs",
        ),
        Binding(
            "R",
            "act('restart')",
            "Restart",
            show=False,
            id="containers-restart",
            tooltip="Restart the selected container (asks for confirmation)",
        ),
        Binding(
            "I",
            "act('inspect')",
            "Inspect",
            show=False,
            id="containers-inspect",
            tooltip="docker inspect the selected container",
        ),
        Binding(
            "L",
            "act('logs')",
            "docker logs",
            show=False,
            id="containers-logs",
            tooltip="Run docker logs --tail 200 for the selected container",
        ),
    ]
    DEFAULT_CSS = """
    ContainersPane { height: 1fr; }
    ContainersPane > #containers-status { height: auto; color: $text-muted; }
    ContainersPane > #containers-status.-down { color: $error; text-style: bold; }
    ContainersPane > QuietTable { height: 1fr; }
    """

    def __init__(
        self,
        sources: LiveSources,
        *,
        environment: str = "",
        config: Config | None = None,
        runbook_sha256: str = "",
        runbook_path: str | None = None,
        **kwargs: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**kwargs)
        self.sources = sources
        self.environment = environment
        self.config = config
        self.runbook_sha256 = runbook_sha256
        self.runbook_path = runbook_path
        self.containers: dict[str, ContainerInfo] = {}
        self.stats: dict[str, ContainerStats] = {}
        self._cells: dict[tuple[str, str], str] = {}
        self._visible: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("Connecting to the Docker engine…", id="containers-status", markup=False)
        yield KeyHint(type(self))
        table = QuietTable(cursor_type="row", zebra_stripes=False, id="containers")
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table

    @property
    def table(self) -> QuietTable:
        return self.query_one("#containers", QuietTable)

    def on_mount(self) -> None:
        engine = self.sources.engine
        engine.subscribe(lambda event: self.post_message(DockerEventArrived(event)))
        engine.start()
        self.follow_containers()
        self.poll_stats()
        self.watch(self.table, "scroll_y", lambda _: self._update_visible(), init=False)
        self.set_interval(30, self._refresh_uptimes)

    def on_resize(self) -> None:
        self._update_visible()

    def on_show(self) -> None:
        self._update_visible()

    def on_hide(self) -> None:
        self._update_visible()

    @work(
        thread=True,
        group="docker-containers",
        exit_on_error=False,
        description="Following Docker events",
    )
    def follow_containers(self) -> None:
        self.sources.monitor.run(lambda event: self.post_message(DockerEventArrived(event)))

    @work(
        thread=True,
        group="docker-stats",
        exit_on_error=False,
        description="Reading Docker stats for visible rows",
    )
    def poll_stats(self) -> None:
        self.sources.stats.run(
            lambda sample: (
                self.post_message(StatsArrived(sample))
                if isinstance(sample, StatsSampled)
                else None
            )
        )

    @on(DockerEventArrived)
    def _docker_event(self, message: DockerEventArrived) -> None:
        event = message.event
        if isinstance(event, EngineChanged):
            self._show_engine(event.state)
        elif isinstance(event, ContainersListed):
            listed = {info.id: info for info in event.containers}
            for gone in set(self.containers) - set(listed):
                self._remove(gone)
            for info in sorted(listed.values(), key=lambda c: c.name):
                self._put(info)
        elif isinstance(event, ContainerChanged):
            before = self.containers.get(event.container.id)
            self._put(event.container)
            # `docker restart` is die then start; a restart policy also bumps the count.
            if before is not None and (
                event.container.restart_count > before.restart_count
                or (event.action == "start" and before.state in ("exited", "dead"))
            ):
                self.post_message(
                    ContainerRestarted(event.container.name, event.container.restart_count)
                )
        elif isinstance(event, ContainerRemoved):
            self._remove(event.id)
        self._update_visible()

    @on(StatsArrived)
    def _stats(self, message: StatsArrived) -> None:
        for sample in message.sample.stats:
            if sample.id in self.containers:
                self.stats[sample.id] = sample
                self._set_stats_cells(sample)

    def _show_engine(self, state: EngineState) -> None:
        status = self.query_one("#containers-status", Static)
        status.set_class(not state.reachable, "-down")
        if state.reachable:
            status.update(f"Docker engine {self.sources.engine.docker_host} · CPU % 100 = one core")
        else:
            status.update(Content(state.describe()))

    def _put(self, info: ContainerInfo) -> None:
        table = self.table
        row = {
            "name": info.name,
            "image": info.image,
            "state": info.state,
            "health": info.health or "-",
            "up": uptime(info.uptime_s()),
            "restarts": str(info.restart_count),
        }
        if info.id not in self.containers:
            table.add_row(*(escape(row.get(key, "-")) for key, _ in COLUMNS), key=info.id)
            for key, _ in COLUMNS:
                self._cells[(info.id, key)] = row.get(key, "-")
        else:
            for key, text in row.items():
                self._set_cell(info.id, key, text)
            if info.state != "running":
                for key in ("cpu", "memory", "net"):
                    self._set_cell(info.id, key, "-")
        self.containers[info.id] = info

    def _remove(self, container_id: str) -> None:
        if self.containers.pop(container_id, None) is not None:
            self.table.remove_row(container_id)
        self.stats.pop(container_id, None)
        for key, _ in COLUMNS:
            self._cells.pop((container_id, key), None)

    def _set_stats_cells(self, sample: ContainerStats) -> None:
        memory = (
            f"{human_bytes(sample.memory_used)}/{human_bytes(sample.memory_limit)}"
            if sample.memory_used is not None
            else "-"
        )
        net = (
            f"{human_bytes(sample.net_rx)}/{human_bytes(sample.net_tx)}"
            if sample.net_rx is not None
            else "-"
        )
        self._set_cell(sample.id, "cpu", percent(sample.cpu_percent))
        self._set_cell(sample.id, "memory", memory)
        self._set_cell(sample.id, "net", net)

    def _set_cell(self, row: str, column: str, text: str) -> None:
        """Only changed cells are written, so an idle table sends nothing to the terminal."""
        if self._cells.get((row, column)) == text:
            return
        self._cells[(row, column)] = text
        self.table.set_cell(row, column, escape(text))  # engine text, never markup

    def _refresh_uptimes(self) -> None:
        now = time.time()
        for info in self.containers.values():
            self._set_cell(info.id, "up", uptime(info.uptime_s(now)))

    def _update_visible(self) -> None:
        """Tell the stats poller which rows are on screen (and only those)."""
        table = self.table
        if table.region.area == 0 or table.row_count == 0:  # hidden (another tab) or empty
            visible: tuple[str, ...] = ()
        else:
            first = int(table.scroll_y)
            height = max(1, table.size.height - 1)  # minus the header
            keys = list(table.rows)[first : first + height]
            visible = tuple(
                key.value
                for key in keys
                if key.value is not None
                and key.value in self.containers
                and self.containers[key.value].state == "running"
            )
        if self.sources.prometheus is None:
            # The fallback gauges take CPU and memory from Docker stats: keep reading
            # the first running containers even when their rows are not on screen.
            running = sorted(
                (info for info in self.containers.values() if info.state == "running"),
                key=lambda info: info.name,
            )
            extra = [info.id for info in running[:FALLBACK_STATS_ROWS] if info.id not in visible]
            visible = visible + tuple(extra)
        if visible != self._visible:
            self._visible = visible
            self.sources.stats.watch(visible)

    def selected(self) -> ContainerInfo | None:
        table = self.table
        if table.row_count == 0:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.containers.get(row_key.value or "")

    def action_follow_logs(self, add: bool = False) -> None:
        container = self.selected()
        if container is not None:
            self.post_message(FollowLogsRequested((container.name,), add))

    def action_act(self, action: ContainerAction) -> None:
        container = self.selected()
        if container is None:
            self.notify("No container selected.", timeout=3)
            return
        plan = action_plan(
            action,
            container,
            docker_host=self.sources.settings.docker_host,
            environment=self.environment or None,
            config=self.config,
            runbook_sha256=self.runbook_sha256,
            runbook_path=self.runbook_path,
        )
        self.post_message(ContainerActionRequested(plan, f"docker {action} {container.name}"))
