"""What the containers and services panes share: a table of an engine fleet's rows, its
stats reader, cells written only when they change, and row actions handed to the runner.

A row's action (restart, inspect, logs) is never run here: it becomes a plan posted as
`ContainerActionRequested`, which the console's step runner (console.runner) confirms,
runs and records like a step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Unpack

from rich.markup import escape
from textual import work
from textual.containers import Vertical

from console.panes.messages import (
    ContainerActionRequested,
    DockerEventArrived,
    FollowLogsRequested,
    StatsArrived,
)
from console.panes.quiet import QuietTable
from console.widgets.options import WidgetOptions
from runbook.execution.container_actions import (
    ActionKind,
    ActionTarget,
    ContainerAction,
    action_plan,
)
from runbook.sources.docker.stats import StatsSampled

if TYPE_CHECKING:
    from runbook.config import Config
    from runbook.sources.docker.engine import Emit, EngineState
    from runbook.sources.live import LiveSources


class LiveTableOptions(WidgetOptions, total=False):
    """What a row's action plan needs besides the row, and the widget's own options."""

    environment: str
    config: Config | None
    runbook_sha256: str
    runbook_path: str | None


class LiveTablePane(Vertical, can_focus=False):
    """A pane whose main table lists an engine fleet's rows (containers or services)."""

    KIND: ClassVar[ActionKind] = "container"
    """What a row is: names the row in messages and picks the action's commands."""
    TABLE_ID: ClassVar[str] = ""

    def __init__(self, sources: LiveSources, **options: Unpack[LiveTableOptions]) -> None:
        self.sources = sources
        self.environment = options.get("environment", "")
        self.config = options.get("config")
        self.runbook_sha256 = options.get("runbook_sha256", "")
        self.runbook_path = options.get("runbook_path")
        super().__init__(
            name=options.get("name"),
            id=options.get("id"),
            classes=options.get("classes"),
            disabled=options.get("disabled", False),
        )
        self.engine_states: dict[str, EngineState] = {}
        """Each engine's reachability, by host as configured."""
        self._cells: dict[tuple[str, str], str] = {}
        """The text of each (row, column) as last written: unchanged cells are not rewritten."""

    @property
    def table(self) -> QuietTable:
        return self.query_one(f"#{self.TABLE_ID}", QuietTable)

    def on_mount(self) -> None:
        fleet = self.sources.fleet
        fleet.subscribe(lambda event: self.post_message(DockerEventArrived(event)))
        fleet.start()
        self.follow()
        self.poll_stats()

    @work(thread=True, group="docker-rows", exit_on_error=False, description="Following Docker")
    def follow(self) -> None:
        self.run_source(lambda event: self.post_message(DockerEventArrived(event)))

    def run_source(self, emit: Emit) -> None:
        """List the rows and follow their changes until the engines stop (blocks)."""
        raise NotImplementedError

    @work(thread=True, group="docker-stats", exit_on_error=False, description="Reading stats")
    def poll_stats(self) -> None:
        self.sources.fleet.run_stats(
            lambda sample: (
                self.post_message(StatsArrived(sample))
                if isinstance(sample, StatsSampled)
                else None
            )
        )

    def _write_cell(self, table: QuietTable, row: str, column: str, text: str) -> bool:
        """Remember `text` for the cell and write it when shown; False when unchanged."""
        if self._cells.get((row, column)) == text:
            return False
        self._cells[(row, column)] = text
        if self._row_shown(row):
            table.set_cell(row, column, escape(text))  # engine text, never markup
        return True

    def _row_shown(self, row: str) -> bool:
        """Whether the row is in the table (a filter may leave some out)."""
        return True

    def _selected_key(self) -> str:
        """The key of the row under the cursor, "" for none."""
        table = self.table
        if table.row_count == 0:
            return ""
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""

    def selected(self) -> ActionTarget | None:
        raise NotImplementedError

    def action_follow_logs(self, add: bool = False) -> None:
        target = self.selected()
        if target is not None:
            services = self.KIND == "service"
            self.post_message(FollowLogsRequested((target.name,), add, services=services))

    def action_act(self, action: ContainerAction) -> None:
        target = self.selected()
        if target is None:
            self.notify(f"No {self.KIND} selected.", timeout=3)
            return
        host = self._engine_of(target)
        plan = action_plan(
            action,
            target,
            kind=self.KIND,
            # Named engines are named in the command too; else the CLI's own default applies.
            docker_host=host if self.sources.settings.explicit_hosts else None,
            environment=self.environment or None,
            config=self.config,
            runbook_sha256=self.runbook_sha256,
            runbook_path=self.runbook_path,
        )
        self.post_message(ContainerActionRequested(plan, self._action_title(action, target, host)))

    def _engine_of(self, target: ActionTarget) -> str:
        """The engine an action on `target` is sent to."""
        return self.sources.fleet.primary.host

    def _action_title(self, action: ContainerAction, target: ActionTarget, host: str) -> str:
        return f"docker {action} {target.name}"
