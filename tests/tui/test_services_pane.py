"""The services pane in the live panes of a swarm environment, fed by a fake orchestrator."""

from __future__ import annotations

import queue
import time
from pathlib import Path

from textual.app import App, ComposeResult

from console.panes.containers import ContainersPane
from console.panes.dock import LivePanes
from console.panes.logs import LogsPane
from console.panes.messages import ContainerActionRequested, LogLinesArrived
from console.panes.services import ServicesPane
from runbook.document.parser import load
from runbook.sources.docker.engine import EngineChanged, EngineState
from runbook.sources.live import LiveSources
from runbook.sources.logs import LogLine
from runbook.sources.services import (
    NodeInfo,
    ServiceInfo,
    ServicesListed,
    ServicesUnavailable,
    TaskInfo,
)
from runbook.sources.settings import SourceSettings
from tests.tui.idle_fleet import idle_fleet
from tests.waiting import wait_until_async as until

SEED = Path(__file__).parents[1] / "fixtures" / "seed_runbook.md"
MANAGER = "unix:///tmp/rbc-none/manager.sock"


class FakeServices:
    """An orchestrator the test scripts: each queued event is emitted as the monitor would."""

    def __init__(self) -> None:
        self.services: dict[str, ServiceInfo] = {}
        self.events: queue.SimpleQueue[object] = queue.SimpleQueue()

    def run(self, emit: object) -> None:
        while True:
            event = self.events.get()
            if event is None:
                return
            emit(event)  # type: ignore[operator]

    def refresh(self) -> None:
        pass


class Harness(App[None]):
    def __init__(self, orchestrator: str = "swarm") -> None:
        super().__init__()
        self.settings = SourceSettings(
            docker_host=MANAGER, orchestrator=orchestrator, base_url="http://service.test"
        )
        self.runbook = load(str(SEED))
        self.sources = LiveSources.create(self.runbook, self.settings)
        self.sources.fleet = idle_fleet(MANAGER)
        self.fake = FakeServices()
        self.requests: list[ContainerActionRequested] = []
        if orchestrator == "swarm":
            self.sources.services = self.fake

    def compose(self) -> ComposeResult:
        yield LivePanes(self.runbook, self.settings, self.sources)

    def on_container_action_requested(self, message: ContainerActionRequested) -> None:
        self.requests.append(message)

    def on_unmount(self) -> None:
        self.fake.events.put(None)


def task(tid: str, tag: str, state: str, desired: str = "running", error: str = "") -> TaskInfo:
    return TaskInfo(tid, "s1", "web.1", "n1", "box-a", f"web:{tag}", state, desired, error, slot=1)


def web(update: str, image: str, *tasks: TaskInfo, running: int = 1) -> ServiceInfo:
    return ServiceInfo("s1", "web", image, running=running, desired=1, update_state=update,
                       tasks=tasks)  # fmt: skip


NODES = (NodeInfo("n1", "box-a", "ready", "active", True),)


async def test_a_rollback_shows_in_the_row_and_the_failed_task_with_its_error() -> None:
    app = Harness()
    async with app.run_test(size=(120, 40)) as pilot:
        assert not app.query(ContainersPane)
        pane = app.query_one(ServicesPane)
        table, tasks = pane.table, pane.tasks_table
        app.fake.events.put(EngineChanged(EngineState(True, time.time()), MANAGER))
        app.fake.events.put(
            ServicesListed((web("", "web:v1", task("t1", "v1", "running")),), NODES)
        )
        await until(lambda: table.row_count == 1)
        assert [
            str(table.get_cell("s1", key)) for key in ("name", "image", "replicas", "update")
        ] == ["web", "v1", "1/1", "-"]
        status = pane.query_one("#services-status")
        await until(
            lambda: "Swarm manager /tmp/rbc-none/manager.sock · 1 services" in str(status.render())
        )
        await until(lambda: tasks.row_count == 1)

        failed = task("t2", "v2", "failed", "shutdown", "task: non-zero exit (137): unhealthy")
        app.fake.events.put(
            ServicesListed(
                (web("rollback_started", "web:v1", failed, task("t1", "v1", "running")),), NODES
            )
        )
        await until(lambda: str(table.get_cell("s1", "update")) == "ROLLING BACK")
        await until(lambda: tasks.row_count == 2)
        rows = {str(tasks.get_cell("t2", key)) for key in ("tag", "state", "error", "node")}
        assert rows == {
            "v2",
            "failed",
            "task: non-zero exit (137): unhealthy",
            "box-a",
        }
        title = pane.query_one("#service-tasks-title")
        assert "1 with errors" in str(title.render())

        app.fake.events.put(
            ServicesListed(
                (web("rollback_completed", "web:v1", task("t1", "v1", "running")),), NODES
            )
        )
        await until(lambda: str(table.get_cell("s1", "update")) == "rolled back")
        await until(lambda: tasks.row_count == 1)

        # f follows the service's logs; its lines carry a task column.
        table.focus()
        await pilot.press("f")
        logs = app.query_one(LogsPane)
        await until(lambda: logs.following == ("web",))
        stamp = "2026-12-04T11:32:43.625853077Z"
        logs.post_message(LogLinesArrived((LogLine("web", stamp, "tick 22", task="web.1"),)))
        await until(lambda: any("web.1 tick 22" in line for line in logs.view.lines))

        # R is a rolling restart, confirmed and audited by the console's runner like a step.
        await pilot.press("R")
        await until(lambda: bool(app.requests))
        request = app.requests[-1]
        assert request.title == "docker service restart web"
        assert request.plan.resolved_commands == (
            f"docker --host {MANAGER} service update --force --detach s1",
        )
        assert request.plan.needs_confirmation

        since = time.mktime((2026, 1, 17, 3, 4, 5, 0, 0, -1))
        app.fake.events.put(EngineChanged(EngineState(False, since, "ping timed out"), MANAGER))
        await until(lambda: "unreachable since 03:04:05" in str(status.render()))
        assert "last listing" in str(status.render()) and status.has_class("-down")
        assert str(table.get_cell("s1", "replicas")) == "1/1"
        app.fake.events.put(EngineChanged(EngineState(True, time.time()), MANAGER))

        app.fake.events.put(ServicesUnavailable("This node is not a swarm manager."))
        await until(lambda: "not a swarm manager" in str(status.render()))
        assert status.has_class("-down")


async def test_a_plain_docker_environment_keeps_its_containers_pane() -> None:
    app = Harness(orchestrator="docker")
    async with app.run_test(size=(120, 40)):
        assert app.sources.services is None
        assert app.query(ContainersPane) and not app.query(ServicesPane)
