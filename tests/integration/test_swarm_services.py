"""The services pane against a real single-node swarm on a private dockerd (loopback only).

The swarm is the session's one (conftest `swarm_engine`, swarm_engine.py: a private engine,
never the shared one, without the routing mesh, left and stopped at the session's end).
Images are the live test image it holds, tagged v1 (a health check that passes) and v2 (one
that never does), built on the swarm's engine from that image alone (offline); services use
the host network. A service created with v1 and updated to v2 with
`--update-failure-action rollback` is rolled back by swarm itself; the pane shows it.
"""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from engines import PrivateEngine
from live_app import LiveHarness, seed_runbook
from live_helpers import live_image, require_engine
from swarm_engine import SwarmEngine

from console.panes.logs import LogsPane
from console.panes.services import ServicesPane
from runbook.drills.sandboxes import free_ports
from runbook.sources.settings import SourceSettings
from tests.waiting import wait_until
from tests.waiting import wait_until_async as until

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("private-engines")]

TICKER = 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 1; done'
HEALTHCHECK = {
    "v1": 'HEALTHCHECK --interval=1s --timeout=2s --retries=1 CMD ["sh", "-c", "exit 0"]',
    "v2": 'HEALTHCHECK --interval=1s --timeout=2s --retries=1 CMD ["sh", "-c", "exit 1"]',
}


@dataclass
class Swarm:
    harness: SwarmEngine
    repository: str
    """`repository:v1` passes its health check, `repository:v2` never does."""

    @property
    def url(self) -> str:
        return self.harness.url

    def docker(self, *args: str, check: bool = True) -> str:
        return self.harness.docker(*args, check=check).stdout


@pytest.fixture(scope="module")
def swarm(swarm_engine: SwarmEngine) -> Iterator[Swarm]:
    """The session's swarm (conftest `swarm_engine`) with two tags of the live image built on
    it from that image alone (offline): v1 healthy, v2 never."""
    box = Swarm(swarm_engine, f"rbc-swarm-{uuid.uuid4().hex[:6]}")
    image = live_image(require_engine())
    for tag, check in HEALTHCHECK.items():
        with tempfile.TemporaryDirectory() as context:
            (Path(context) / "Dockerfile").write_text(f"FROM {image}\n{check}\n")
            box.docker("build", "-q", "-t", f"{box.repository}:{tag}", context)
    yield box
    box.docker("image", "rm", *(f"{box.repository}:{tag}" for tag in HEALTHCHECK), check=False)


def cell(pane: ServicesPane, service_id: str, key: str) -> str:
    return str(pane.table.get_cell(service_id, key))


async def test_a_service_its_logs_by_task_and_a_rollback_swarm_starts_itself(
    swarm: Swarm,
) -> None:
    name = f"rbc-sw-{uuid.uuid4().hex[:6]}"
    service_id = swarm.docker(
        "service", "create", "--detach", "--quiet", "--name", name, "--network", "host",
        "--update-failure-action", "rollback", "--update-monitor", "3s",
        "--update-order", "start-first", f"{swarm.repository}:v1", "sh", "-c", TICKER,
    ).strip()  # fmt: skip
    settings = SourceSettings(
        docker_host=swarm.url, orchestrator="swarm", base_url="http://127.0.0.1:9"
    )
    app = LiveHarness(seed_runbook(), settings)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            pane = app.query_one(ServicesPane)
            await until(lambda: service_id in pane.services, 30)
            await until(lambda: cell(pane, service_id, "replicas") == "1/1", 60)
            assert cell(pane, service_id, "image") == "v1"
            assert cell(pane, service_id, "name") == name
            # The task's container is on the manager, an engine the console reaches.
            await until(lambda: cell(pane, service_id, "memory") != "-", 30)
            status = str(pane.query_one("#services-status").render())
            assert "stats from 1 of 1 nodes" in status

            pane.table.focus()
            await pilot.press("f")
            logs = app.query_one(LogsPane)
            await until(lambda: any(f"{name}.1 tick" in line for line in logs.view.lines), 30)

            swarm.docker("service", "update", "--detach", "--image", f"{swarm.repository}:v2", name)
            await until(lambda: cell(pane, service_id, "update") == "updating", 30)
            await until(
                lambda: cell(pane, service_id, "update") in ("ROLLING BACK", "rolled back"), 90
            )
            failed = [
                task
                for task in pane.services[service_id].tasks
                if task.tag == "v2" and not task.current
            ]
            assert failed, pane.services[service_id].tasks
            await until(lambda: cell(pane, service_id, "update") == "rolled back", 90)
            await until(lambda: cell(pane, service_id, "replicas") == "1/1", 30)
            assert cell(pane, service_id, "image") == "v1"
            tags = {str(pane.tasks_table.get_cell(t.id, "tag")) for t in failed}
            assert tags == {"v2"}
    finally:
        swarm.docker("service", "rm", name)


@pytest.fixture
def worker(swarm: Swarm) -> Iterator[PrivateEngine]:
    """A second private dockerd joined to the session's swarm as a worker, on 127.0.0.1 with
    a listen port of its own, the live image loaded; at the end it leaves (or is removed from
    the node list when it died), and is stopped by PID."""
    engine = PrivateEngine("swarm-worker")
    node_id = ""
    try:
        engine.start()
        engine.load_image(live_image(require_engine()))
        token = swarm.docker("swarm", "join-token", "-q", "worker").strip()
        port = free_ports(1)[0]
        manager = f"127.0.0.1:{swarm.harness.listen_port}"
        address = f"127.0.0.1:{port}"
        joined = subprocess.run(
            ["docker", "-H", engine.url, "swarm", "join", "--token", token,
             "--advertise-addr", address, "--listen-addr", address, manager],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert joined.returncode == 0, joined.stderr
        node_id = engine.client().info()["Swarm"]["NodeID"]
        wait_until(lambda: node_state(swarm, node_id) == "ready", 60, "the worker is ready")
        yield engine
    finally:
        if engine.process is not None and engine.process.poll() is None:
            subprocess.run(
                ["docker", "-H", engine.url, "swarm", "leave", "--force"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
        if node_id:
            swarm.docker("node", "rm", "--force", node_id, check=False)
        engine.stop()


def node_state(swarm: Swarm, node_id: str) -> str:
    return swarm.docker("node", "inspect", "-f", "{{.Status.State}}", node_id, check=False).strip()


async def test_task_stats_come_from_every_node_an_engine_reaches(
    swarm: Swarm, worker: PrivateEngine
) -> None:
    """Two nodes (the manager and a worker, each a private engine), one task on each: with
    both engines configured the pane reads stats from both nodes' tasks; the worker's
    engine dying leaves the manager's task figures, and the status line says 1 of 2."""
    name = f"rbc-sw2-{uuid.uuid4().hex[:6]}"
    image = live_image(require_engine())
    service_id = swarm.docker(
        "service", "create", "--detach", "--quiet", "--name", name, "--network", "host",
        "--replicas", "2", "--replicas-max-per-node", "1", image, "sh", "-c", TICKER,
    ).strip()  # fmt: skip
    settings = SourceSettings(
        docker_hosts=(swarm.url, worker.url), orchestrator="swarm", base_url="http://127.0.0.1:9"
    )
    app = LiveHarness(seed_runbook(), settings)
    try:
        async with app.run_test(size=(120, 40)):
            pane = app.query_one(ServicesPane)
            status = pane.query_one("#services-status")
            await until(lambda: service_id in pane.services, 30)
            await until(lambda: cell(pane, service_id, "replicas") == "2/2", 90)
            running = [t for t in pane.services[service_id].tasks if t.state == "running"]
            assert len({task.node_id for task in running}) == 2, running
            await until(lambda: "stats from 2 of 2 nodes" in str(status.render()), 30)
            # Each node's task is read from its own engine: a figure for both containers.
            containers = {task.container_id for task in running}
            await until(lambda: containers <= set(pane.stats), 30)
            host_of = {cid: pane.watched[cid].host for cid in containers}
            assert set(host_of.values()) == {swarm.url, worker.url}
            assert cell(pane, service_id, "memory") != "-"

            worker.kill()
            await until(lambda: "stats from 1 of 2 nodes" in str(status.render()), 60)
            on_manager = {cid for cid, host in host_of.items() if host == swarm.url}
            await until(lambda: set(pane.stats) == on_manager, 30)  # the worker's blanked
            assert cell(pane, service_id, "memory") != "-"  # the manager's task still counts
    finally:
        swarm.docker("service", "rm", name, check=False)


async def test_an_engine_that_is_no_swarm_manager_says_so_and_what_to_do() -> None:
    require_engine()  # the shared engine, only read: it is never a swarm
    settings = SourceSettings(
        docker_host="unix:///var/run/docker.sock",
        orchestrator="swarm",
        base_url="http://127.0.0.1:9",
    )
    app = LiveHarness(seed_runbook(), settings)
    async with app.run_test(size=(120, 40)):
        pane = app.query_one(ServicesPane)
        status = pane.query_one("#services-status")
        await until(lambda: "not a swarm manager" in str(status.render()), 20)
        text = str(status.render())
        assert text == (
            "Swarm: This node is not a swarm manager: run the console against a swarm"
            ' manager (docker_host), or set orchestrator = "docker"'
        )
        assert status.has_class("-down") and pane.table.row_count == 0
