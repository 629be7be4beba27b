"""The services pane against a real single-node swarm on a private dockerd (loopback only).

The swarm is initialised on a private engine of tests/integration/engines.py, never on the
shared one, and left (then the engine stopped) at teardown. Images are the shared engine's
test image moved with `docker save | docker load`, tagged v1 (a health check that passes)
and v2 (one that never does), built on the private engine from that image alone (offline).
The routing mesh is removed at once (its ingress network would put a bridge on the host);
services use the host network. A service created with v1 and updated to v2 with
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
from engines import PrivateEngine, require_private_engines
from live_app import LiveHarness, seed_runbook
from live_helpers import live_image, require_engine

from console.panes.logs import LogsPane
from console.panes.services import ServicesPane
from runbook.drills.sandboxes import free_ports
from runbook.sources.settings import SourceSettings
from tests.waiting import wait_until
from tests.waiting import wait_until_async as until

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("swarm-engine")]

TICKER = 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 1; done'
HEALTHCHECK = {
    "v1": 'HEALTHCHECK --interval=1s --timeout=2s --retries=1 CMD ["sh", "-c", "exit 0"]',
    "v2": 'HEALTHCHECK --interval=1s --timeout=2s --retries=1 CMD ["sh", "-c", "exit 1"]',
}


@dataclass
class Swarm:
    engine: PrivateEngine
    repository: str
    """`repository:v1` passes its health check, `repository:v2` never does."""

    def docker(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["docker", "-H", self.engine.url, *args],
            input="y\n",
            capture_output=True,
            text=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def no_routing_mesh(self) -> bool:
        """Removes the ingress network: with it the engine makes a host bridge
        (docker_gwbridge), and without iptables the mesh cannot work anyway."""
        names = self.docker("network", "ls", "--format", "{{.Name}}").split()
        if "ingress" in names:
            self.docker("network", "rm", "ingress", check=False)
            return False
        self.docker("network", "rm", "docker_gwbridge", check=False)
        return True


@pytest.fixture(scope="module")
def swarm() -> Iterator[Swarm]:
    require_private_engines()
    image = live_image(require_engine())
    engine = PrivateEngine("swarm")
    try:
        engine.start()
        engine.load_image(image)
        box = Swarm(engine, f"rbc-swarm-{uuid.uuid4().hex[:6]}")
        port = free_ports(1)[0]
        box.docker(
            "swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", f"127.0.0.1:{port}"
        )
        wait_until(box.no_routing_mesh, 30, "the ingress network is removed")
        for tag, check in HEALTHCHECK.items():
            with tempfile.TemporaryDirectory() as context:
                (Path(context) / "Dockerfile").write_text(f"FROM {image}\n{check}\n")
                box.docker("build", "-q", "-t", f"{box.repository}:{tag}", context)
        yield box
    finally:
        if engine.process is not None:
            for args in (("swarm", "leave", "--force"), ("network", "rm", "docker_gwbridge")):
                subprocess.run(
                    ["docker", "-H", engine.url, *args], capture_output=True, check=False
                )
        engine.stop()


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
        docker_host=swarm.engine.url, orchestrator="swarm", base_url="http://127.0.0.1:9"
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
