"""The containers pane: a DataTable that follows Docker events, with stats for visible rows."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal, Unpack

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Input, Static

from console.panes.format import human_bytes, percent, uptime
from console.panes.live_table import LiveTableOptions, LiveTablePane
from console.panes.messages import ContainerRestarted, DockerEventArrived, StatsArrived
from console.panes.quiet import QuietTable
from console.widgets.key_hint import KeyHint
from runbook.sources.docker.containers import (
    ContainerChanged,
    ContainerInfo,
    ContainerRemoved,
    ContainersListed,
)
from runbook.sources.docker.engine import Emit, EngineChanged
from runbook.sources.docker.fleet import fleet_summary, host_label, row_state
from runbook.sources.docker.stats import ContainerStats

if TYPE_CHECKING:
    from runbook.execution.container_actions import ActionTarget, ContainerAction
    from runbook.sources.live import LiveSources

FALLBACK_STATS_ROWS = 20
"""Without Prometheus, stats are also read for up to this many running containers."""

COLUMNS = (
    ("name", "Name"),
    ("state", "State"),
    ("cpu", "CPU %"),
    ("memory", "Mem used/limit"),
    ("health", "Health"),
    ("up", "Up"),
    ("restarts", "Rst"),
    ("net", "Net rx/tx"),
    ("image", "Image"),
)
"""What an operator reads first comes first: beside the checklist the column is 40 wide,
and the name, state and figures must show there without scrolling sideways."""
SortKey = Literal["cpu", "memory", "name", "state"]
RESORT_S = 2.0
"""Sorted by CPU or memory, the rows are reordered at most this often as figures change."""
HOST_COLUMN = ("host", "Host")
"""After the name, when the environment has several engines."""


def name_of(info: ContainerInfo) -> str:
    return info.name


class ContainersPane(LiveTablePane):
    """Containers of the environment's engines; actions are requests to the console's step
    runner, which confirms, runs and records them like steps."""

    HELP = """
## Containers
Follows Docker events (create, start, die, destroy, health). CPU % is computed as
`docker stats` does: **100 % is one core**. Net I/O shows `-` for containers on the host
network (they have no interface of their own). Stats are read only for rows on screen.
With several engines, a Host column says where each runs; the rows of an engine that
stops answering read "unreachable since HH:MM:SS" while the others keep updating.

- **C** sort by CPU, **M** by memory, **N** by name, **S** by state (again: the other way)
- **/** filter rows by name, image or state (a plain substring, never markup)
- **f** follow the selected container's logs in the logs pane, **F** add it to those followed
- **R** restart, **I** inspect, **L** `docker logs` (confirmed and audited like a step).
  Capitals: `r` runs the checklist's step wherever the focus is, and `i` opens the incident.
"""
    BINDINGS = [
        Binding(
            "C",
            "sort('cpu')",
            "CPU",
            show=False,
            id="containers-sort-cpu",
            tooltip="Sort by CPU, busiest first (again: the other way)",
        ),
        Binding(
            "M",
            "sort('memory')",
            "Mem",
            show=False,
            id="containers-sort-memory",
            tooltip="Sort by memory used, largest first (again: the other way)",
        ),
        Binding(
            "N",
            "sort('name')",
            "Name",
            show=False,
            id="containers-sort-name",
            tooltip="Sort by name (again: the other way)",
        ),
        Binding(
            "S",
            "sort('state')",
            "State",
            show=False,
            id="containers-sort-state",
            tooltip="Sort by state (again: the other way)",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            show=False,
            id="containers-filter",
            tooltip="Show only rows whose name, image or state contain the text",
        ),
        Binding(
            "escape",
            "close_filter",
            "Close",
            show=False,
            id="containers-close-filter",
            tooltip="Close the filter box (the filter stays)",
        ),
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
    ContainersPane > Input { display: none; height: 3; }
    ContainersPane > Input.-open { display: block; }
    """

    KIND = "container"
    TABLE_ID = "containers"

    def __init__(self, sources: LiveSources, **options: Unpack[LiveTableOptions]) -> None:
        super().__init__(sources, **options)
        self.containers: dict[str, ContainerInfo] = {}
        self.stats: dict[str, ContainerStats] = {}
        self._visible: tuple[tuple[str, int], ...] = ()
        """(id, pid) of the rows whose stats are read."""
        self.sort_key: SortKey | None = None
        """None: rows in the order the engine listed them, new ones last."""
        self.sort_reverse = False
        self.filter_text = ""
        self._shown: set[str] = set()
        """Ids of the rows in the table (a filter leaves some out)."""
        self._sorted_at = 0.0
        self.columns: tuple[tuple[str, str], ...] = COLUMNS
        if len(sources.fleet) > 1:
            self.columns = (COLUMNS[0], HOST_COLUMN, *COLUMNS[1:])

    def compose(self) -> ComposeResult:
        yield Static("Connecting to the Docker engine…", id="containers-status", markup=False)
        yield KeyHint(type(self))
        yield Input(placeholder="filter: name, image or state", id="containers-filter")
        table = QuietTable(cursor_type="row", zebra_stripes=False, id="containers")
        for key, label in self.columns:
            table.add_column(label, key=key)
        yield table

    def on_mount(self) -> None:  # after LiveTablePane.on_mount (Textual calls both)
        self.watch(self.table, "scroll_y", lambda _: self._update_visible(), init=False)
        self.set_interval(30, self._refresh_uptimes)

    def on_resize(self) -> None:
        self._update_visible()

    @on(QuietTable.Resized)
    def _table_resized(self, event: QuietTable.Resized) -> None:
        # More rows on screen when a pane beside it shrinks: their stats are read at once.
        event.stop()
        self._update_visible()

    def on_show(self) -> None:
        self._update_visible()

    def on_hide(self) -> None:
        self._update_visible()

    def run_source(self, emit: Emit) -> None:
        self.sources.fleet.run_monitors(emit)

    @on(DockerEventArrived)
    def _docker_event(self, message: DockerEventArrived) -> None:
        event = message.event
        if isinstance(event, EngineChanged):
            self._engine_changed(event)
        elif isinstance(event, ContainersListed):
            # A listing is one engine's: the other engines' rows stay as they are.
            listed = {info.id: info for info in event.containers}
            shown = {cid for cid, info in self.containers.items() if info.host == event.host}
            for gone in shown - set(listed):
                self._remove(gone)
            placed = [self._put(info, defer=True) for info in sorted(listed.values(), key=name_of)]
            if not all(placed):
                self._rebuild_rows()  # once for the listing, not once per row
        elif isinstance(event, ContainerChanged):
            before = self.containers.get(event.container.id)
            self._put(event.container)
            # `docker restart` is die then start; a restart policy also bumps the count.
            if (
                before is not None
                and before.detailed
                and (
                    event.container.restart_count > before.restart_count
                    or (event.action == "start" and before.state in ("exited", "dead"))
                )
            ):
                self.post_message(
                    ContainerRestarted(event.container.name, event.container.restart_count)
                )
        elif isinstance(event, ContainerRemoved):
            self._remove(event.id)
        self._update_visible()

    @on(StatsArrived)
    def _stats(self, message: StatsArrived) -> None:
        engine = self.engine_states.get(message.sample.host)
        if engine is not None and not engine.reachable:
            return  # a read that finished as its engine went away: the row says so instead
        for sample in message.sample.stats:
            if sample.id in self.containers:
                self.stats[sample.id] = sample
                self._set_stats_cells(sample)
        if self.sort_key in ("cpu", "memory"):
            now = time.monotonic()
            if now - self._sorted_at >= RESORT_S:
                self._sorted_at = now
                if [info.id for info in self._ordered()] != list(self.table.rows):
                    self._rebuild_rows()

    def _engine_changed(self, event: EngineChanged) -> None:
        host = event.host or self.sources.fleet.primary.host
        before = self.engine_states.get(host)
        self.engine_states[host] = event.state
        self._show_engines()
        if before is not None and before.reachable == event.state.reachable:
            return
        for info in self.containers.values():
            if info.host == host:
                self._set_cell(info.id, "state", row_state(info, event.state))
                if not event.state.reachable:
                    for key in ("cpu", "memory", "net"):
                        self._set_cell(info.id, key, "-")

    def _show_engines(self) -> None:
        status = self.query_one("#containers-status", Static)
        states = self.engine_states
        down = any(not state.reachable for state in states.values())
        status.set_class(down, "-down")
        # Content, not markup: a filter like "[red" is the operator's text, shown as typed.
        shown = (
            Content(f" · filter {self.filter_text!r}: {len(self._shown)} of {len(self.containers)}")
            if self.filter_text
            else Content("")
        )
        if len(self.sources.fleet) > 1:
            status.update(Content(f"{fleet_summary(states)} · CPU % 100 = one core") + shown)
            return
        state = next(iter(states.values()))
        if state.reachable:
            text = f"Docker engine {self.sources.engine.docker_host} · CPU % 100 = one core"
            status.update(Content(text) + shown)
        else:
            status.update(Content(state.describe()) + shown)

    def _put(self, info: ContainerInfo, defer: bool = False) -> bool:
        """Show `info`'s row, new or changed. A new row keeps the table's order (by name
        when no sort key is chosen): it is appended when it goes last, else the rows are
        put back in order, unless `defer` (False is then returned: the caller rebuilds)."""
        if self.containers.get(info.id) == info:
            return True  # a listing again (details of other rows came): nothing to write
        table = self.table
        row = {
            "name": info.name,
            "host": host_label(info.host),
            "image": info.image,
            "state": row_state(info, self.engine_states.get(info.host)),
            "health": info.health or "-",
            "up": uptime(info.uptime_s()),
            "restarts": str(info.restart_count) if info.detailed else "-",
        }
        new = info.id not in self.containers
        self.containers[info.id] = info
        if new:
            for key, _ in self.columns:
                self._cells[(info.id, key)] = row.get(key, "-")
            if self.sort_key is None and not self.filter_text and self._goes_last(info):
                table.add_row(*(escape(row.get(key, "-")) for key, _ in self.columns), key=info.id)
                self._shown.add(info.id)
            elif defer:
                return False
            else:
                self._rebuild_rows()
        else:
            for key, _ in self.columns:
                if key in row:
                    self._set_cell(info.id, key, row[key])
            if info.state != "running":
                for key in ("cpu", "memory", "net"):
                    self._set_cell(info.id, key, "-")
        return True

    def _goes_last(self, info: ContainerInfo) -> bool:
        rows = self.table.rows
        last = next(reversed(rows), None) if rows else None
        shown = self.containers.get(last.value) if last is not None and last.value else None
        return shown is None or shown.name <= info.name

    def _remove(self, container_id: str) -> None:
        self.containers.pop(container_id, None)
        if container_id in self._shown:
            self._shown.discard(container_id)
            self.table.remove_row(container_id)
        self.stats.pop(container_id, None)
        for key, _ in self.columns:
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
        self._write_cell(self.table, row, column, text)

    def _row_shown(self, row: str) -> bool:
        return row in self._shown  # a row the filter leaves out gets its text when shown

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
                and self.containers[key.value].detailed  # its process is known
            )
        if self.sources.prometheus is None:
            # The fallback gauges take CPU and memory from Docker stats: keep reading
            # the first running containers even when their rows are not on screen.
            running = sorted(
                (
                    info
                    for info in self.containers.values()
                    if info.state == "running" and info.detailed
                ),
                key=lambda info: info.name,
            )
            extra = [info.id for info in running[:FALLBACK_STATS_ROWS] if info.id not in visible]
            visible = visible + tuple(extra)
        # A restarted container has a new process: its stats are read from the new one.
        watched = tuple((cid, self.containers[cid].pid) for cid in visible)
        if watched != self._visible:
            self._visible = watched
            self.sources.fleet.watch(self.containers[cid] for cid in visible)

    def selected(self) -> ContainerInfo | None:
        return self.containers.get(self._selected_key())

    def _engine_of(self, target: ActionTarget) -> str:
        container = self.containers.get(target.id)
        return (container.host if container else "") or self.sources.fleet.primary.host

    def _action_title(self, action: ContainerAction, target: ActionTarget, host: str) -> str:
        title = f"docker {action} {target.name}"
        if len(self.sources.fleet) > 1:
            title += f" on {host_label(host)}"
        return title

    # Sorting and filtering ------------------------------------------------------------

    def _sort_value(self, info: ContainerInfo) -> tuple[float | str, str]:
        stats = self.stats.get(info.id)
        if self.sort_key == "cpu":
            cpu = stats.cpu_percent if stats is not None else None
            return (cpu if cpu is not None and info.state == "running" else -1.0, info.name)
        if self.sort_key == "memory":
            used = stats.memory_used if stats is not None else None
            return (
                float(used) if used is not None and info.state == "running" else -1.0,
                info.name,
            )
        if self.sort_key == "state":
            return (row_state(info, self.engine_states.get(info.host)), info.name)
        return (info.name, info.id)

    def _matches(self, info: ContainerInfo) -> bool:
        wanted = self.filter_text.casefold()
        return not wanted or any(
            wanted in text.casefold()
            for text in (info.name, info.image, row_state(info, self.engine_states.get(info.host)))
        )

    def _ordered(self) -> list[ContainerInfo]:
        """The rows to show, filtered and in the chosen order."""
        rows = sorted(
            (info for info in self.containers.values() if self._matches(info)), key=name_of
        )
        if self.sort_key is not None:
            # Busiest and largest first; names and states from A.
            descending = self.sort_key in ("cpu", "memory")
            rows.sort(key=self._sort_value, reverse=descending != self.sort_reverse)
        return rows

    def _rebuild_rows(self) -> None:
        """Put the rows back in the chosen order and filter, the cursor on the same container."""
        table = self.table
        selected = self.selected()
        table.clear(columns=True)
        for key, label in self.columns:
            table.add_column(escape(self._column_label(key, label)), key=key)
        self._shown.clear()
        for info in self._ordered():
            table.add_row(
                *(escape(self._cells.get((info.id, key), "-")) for key, _ in self.columns),
                key=info.id,
            )
            self._shown.add(info.id)
        if selected is not None and selected.id in self._shown:
            table.move_cursor(row=table.get_row_index(selected.id))
        self._update_visible()

    def _column_label(self, key: str, label: str) -> str:
        """The sorted column's label carries an arrow pointing the way it is sorted."""
        if key != self.sort_key:
            return label
        descending = (self.sort_key in ("cpu", "memory")) != self.sort_reverse
        return label + (" ▼" if descending else " ▲")

    def action_sort(self, key: SortKey) -> None:
        if self.sort_key == key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        self._sorted_at = time.monotonic()
        self._rebuild_rows()

    def action_filter(self) -> None:
        box = self.query_one("#containers-filter", Input)
        box.value = self.filter_text
        box.add_class("-open")
        box.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_filter":  # with no box open, Escape goes on to the screen
            return self.query_one("#containers-filter", Input).has_class("-open")
        return True

    def action_close_filter(self) -> None:
        self.query_one("#containers-filter", Input).remove_class("-open")
        self.table.focus()

    @on(Input.Changed, "#containers-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value  # a plain substring: never markup, never a pattern
        self._rebuild_rows()
        if self.engine_states:
            self._show_engines()

    @on(Input.Submitted, "#containers-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_close_filter()
