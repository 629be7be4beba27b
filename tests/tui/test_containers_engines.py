"""The containers pane over several engines: a Host column, rows marked per engine,
actions sent to the container's own engine."""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import App, ComposeResult

from console.panes.containers import ContainersPane
from console.panes.messages import ContainerActionRequested, DockerEventArrived
from runbook.document.parser import load
from runbook.sources.docker.containers import ContainerChanged, ContainerInfo, ContainersListed
from runbook.sources.docker.engine import EngineChanged, EngineState
from runbook.sources.live import LiveSources
from runbook.sources.settings import SourceSettings
from tests.tui.idle_fleet import idle_fleet
from tests.waiting import wait_until_async as until

SEED = Path(__file__).parents[1] / "fixtures" / "seed_runbook.md"
LOCAL = "unix:///tmp/rbc-none/a.sock"
REMOTE = "tcp://127.0.0.1:2376"


class Harness(App[None]):
    def __init__(self) -> None:
        super().__init__()
        settings = SourceSettings(docker_hosts=(LOCAL, REMOTE), base_url="http://service.test")
        self.sources = LiveSources.create(load(str(SEED)), settings)
        self.sources.fleet = idle_fleet(LOCAL, REMOTE)
        self.requests: list[ContainerActionRequested] = []

    def compose(self) -> ComposeResult:
        yield ContainersPane(self.sources, environment="Production")

    def on_container_action_requested(self, message: ContainerActionRequested) -> None:
        self.requests.append(message)


def row(cid: str, name: str, host: str, state: str = "running") -> ContainerInfo:
    return ContainerInfo(cid, name, "img:v1", state, "", time.time() - 60, 0, host=host)


async def test_one_silent_engine_marks_only_its_rows_and_actions_name_the_engine() -> None:
    app = Harness()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(ContainersPane)
        table = pane.table
        assert [column.label.plain for column in table.columns.values()][:2] == ["Name", "Host"]

        def post(event: object) -> None:
            pane.post_message(DockerEventArrived(event))

        for host in (LOCAL, REMOTE):
            post(EngineChanged(EngineState(True, time.time()), host))
        post(ContainersListed((row("a1", "web-a", LOCAL),), LOCAL))
        post(ContainersListed((row("b1", "web-b", REMOTE), row("b2", "db-b", REMOTE)), REMOTE))
        await until(lambda: table.row_count == 3)
        assert table.get_cell("b1", "host") == "127.0.0.1:2376"
        assert table.get_cell("a1", "host") == "/tmp/rbc-none/a.sock"
        status = pane.query_one("#containers-status")
        await until(lambda: "2 of 2 Docker engines connected" in str(status.render()))

        since = time.mktime((2026, 1, 17, 3, 4, 5, 0, 0, -1))
        post(EngineChanged(EngineState(False, since, "ping timed out"), REMOTE))
        await until(lambda: table.get_cell("b1", "state") == "unreachable since 03:04:05")
        assert table.get_cell("b2", "state") == "unreachable since 03:04:05"
        assert table.get_cell("a1", "state") == "running"
        assert "127.0.0.1:2376 unreachable since 03:04:05" in str(status.render())

        # The other engine's rows keep updating, and its listing leaves the silent one's rows.
        post(ContainerChanged(row("a1", "web-a", LOCAL, state="exited"), "die"))
        post(ContainersListed((row("a1", "web-a", LOCAL, state="exited"),), LOCAL))
        await until(lambda: table.get_cell("a1", "state") == "exited")
        assert table.row_count == 3

        table.focus()
        table.move_cursor(row=table.get_row_index("b1"))
        await pilot.press("R")
        await until(lambda: bool(app.requests))
        request = app.requests[-1]
        assert request.title == "docker restart web-b on 127.0.0.1:2376"
        assert request.plan.resolved_commands == (f"docker --host {REMOTE} restart b1",)

        post(EngineChanged(EngineState(True, time.time()), REMOTE))
        await until(lambda: table.get_cell("b1", "state") == "running")
