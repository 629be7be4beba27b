"""The web service's shared-port mode (APP_REUSE_PORT=1, the swarm runtime): two tasks on one
loopback port with SO_REUSEPORT; each listens only once ready, answers its own readiness on
its control socket, and a stopped one drops no request of a load loop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_sandbox import LoadLoop, http_get
from test_service import SERVICE_DIR, config_text, free_port

from tests.waiting import wait_until

pytestmark = pytest.mark.integration


class Task:
    """One shared-port service process with its own control socket."""

    def __init__(self, tmp_path: Path, port: int, version: str, **config: object) -> None:
        self.socket = str(tmp_path / f"{version}.sock")
        config_path = tmp_path / f"{version}.json"
        config_path.write_text(config_text(**config))
        env = {**os.environ, "APP_REUSE_PORT": "1", "APP_CONTROL_SOCKET": self.socket}
        self.process = subprocess.Popen(
            [sys.executable, str(SERVICE_DIR / "app.py"), "--config", str(config_path),
             "--port", str(port), "--version", version],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip

    def probe(self, path: str = "/ready") -> int:
        env = {**os.environ, "APP_CONTROL_SOCKET": self.socket}
        command = [sys.executable, str(SERVICE_DIR / "app.py"), "--probe", path]
        return subprocess.run(command, env=env, capture_output=True, check=False).returncode

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


@pytest.fixture
def tasks(tmp_path: Path) -> Iterator[list[Task]]:
    started: list[Task] = []
    yield started
    for task in started:
        task.stop()


def versions_seen(url: str, count: int = 40) -> set[str]:
    return {http_get(url).headers.get("X-Version", "?") for _ in range(count)}


def test_two_tasks_share_the_port_and_a_stopped_one_drops_nothing(
    tmp_path: Path, tasks: list[Task]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    tasks.append(Task(tmp_path, port, "v1"))
    wait_until(lambda: tasks[0].probe() == 0, 10, "v1 ready on its control socket")
    tasks.append(Task(tmp_path, port, "v2"))
    wait_until(lambda: tasks[1].probe() == 0, 10, "v2 ready on its control socket")
    wait_until(lambda: versions_seen(url) == {"v1", "v2"}, 10, "both tasks answer on the port")
    with LoadLoop(url, rate=50) as load:
        wait_until(lambda: load.sent >= 20, 10, "the load loop runs")
        tasks[0].process.send_signal(signal.SIGTERM)
        assert tasks[0].process.wait(10) == 0
        wait_until(lambda: load.sent >= 60, 10, "the load loop goes on")
    assert load.failed == 0, f"failed requests: {load.statuses} {load.errors[:3]}"
    assert versions_seen(url) == {"v2"}


def test_a_task_that_never_gets_ready_never_takes_the_port(
    tmp_path: Path, tasks: list[Task]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    tasks.append(Task(tmp_path, port, "v1"))
    wait_until(lambda: tasks[0].probe() == 0, 10, "v1 ready")
    tasks.append(Task(tmp_path, port, "v3", drills={"fail_readiness": True}))
    wait_until(lambda: tasks[1].probe("/health") == 0, 10, "v3 answers on its control socket")
    assert tasks[1].probe("/ready") == 1
    assert versions_seen(url) == {"v1"}
