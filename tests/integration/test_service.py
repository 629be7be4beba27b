"""The reference web service (deploy/service/app.py) run as a local process on a free loopback
port: endpoints, metrics, drills, SIGHUP, SIGTERM. Its config parsing is in
tests/unit/test_service_config.py."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.waiting import wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SERVICE_DIR = REPO / "deploy" / "service"

QUIET_DRILLS = {
    "latency_ms": 0,
    "error_ratio": 0.0,
    "crash_on_start": False,
    "crash_after_s": 0,
    "memory_growth_mb_per_minute": 0,
    "fail_readiness": False,
}


def config_text(**overrides: Any) -> str:
    drills = {**QUIET_DRILLS, **overrides.pop("drills", {})}
    settings = {
        "environment": "test",
        "message": "hello from the test",
        "warmup_seconds": 0.3,
        "drain_seconds": 0.5,
        "drills": drills,
        **overrides,
    }
    return json.dumps(settings)


# --- the running service --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


def get(url: str, timeout: float = 5.0) -> Response:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return Response(reply.status, dict(reply.headers), reply.read().decode())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read().decode())


@dataclass
class RunningService:
    process: subprocess.Popen[str]
    port: int
    config_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> Response:
        return get(self.url + path)

    def wait_for(self, path: str, status: int, timeout: float = 10.0) -> Response:
        def answer() -> Response | None:
            try:
                response = self.get(path)
            except OSError:
                return None
            return response if response.status == status else None

        return wait_until(answer, timeout, f"{path} answers {status}")

    def metric(self, name: str) -> float:
        total = 0.0
        for line in self.get("/metrics").body.splitlines():
            if line.startswith(name) and not line.startswith("#"):
                total += float(line.rsplit(" ", 1)[1])
        return total


def start_service(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> RunningService:
    config_path = tmp_path / "app.json"
    config_path.write_text(text)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(SERVICE_DIR / "app.py"),
            "--config",
            str(config_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--version",
            "t-1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return RunningService(process, port, config_path)


def stop(service: RunningService) -> None:
    if service.process.poll() is None:
        service.process.kill()
    service.process.communicate(timeout=10)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    running = start_service(tmp_path, config_text())
    running.wait_for("/health", 200)
    yield running
    stop(running)


def test_health_ready_and_version(service: RunningService) -> None:
    health = service.get("/health")
    assert health.status == 200
    assert json.loads(health.body) == {"status": "healthy"}
    assert health.headers["X-Version"] == "t-1"
    service.wait_for("/ready", 200)
    home = json.loads(service.get("/").body)
    assert home == {
        "service": "monkeytown-web",
        "version": "t-1",
        "environment": "test",
        "message": "hello from the test",
    }
    assert service.get("/nowhere").status == 404


def test_ready_is_503_until_warmed_up(tmp_path: Path) -> None:
    running = start_service(tmp_path, config_text(warmup_seconds=2.0))
    try:
        running.wait_for("/health", 200)
        assert running.get("/ready").status == 503
        running.wait_for("/ready", 200, timeout=5)
    finally:
        stop(running)


def test_metrics_count_requests_by_code_and_carry_the_version(service: RunningService) -> None:
    service.get("/")
    service.get("/nowhere")
    body = service.get("/metrics").body
    assert 'app_build_info{environment="test",service="monkeytown-web",version="t-1"} 1.0' in body
    assert 'http_requests_total{code="200",method="GET",path="/"} 1.0' in body
    assert 'http_requests_total{code="404",method="GET",path="other"} 1.0' in body
    assert 'http_request_duration_seconds_bucket{le="0.005",path="/"}' in body


def test_drills_are_off_by_default(service: RunningService) -> None:
    began = time.monotonic()
    codes = {service.get("/").status for _ in range(30)}
    assert codes == {200}
    assert time.monotonic() - began < 3


def test_latency_drill_slows_application_requests_only(tmp_path: Path) -> None:
    running = start_service(tmp_path, config_text(drills={"latency_ms": 300}))
    try:
        running.wait_for("/health", 200)
        began = time.monotonic()
        running.get("/health")
        assert time.monotonic() - began < 0.25
        began = time.monotonic()
        assert running.get("/").status == 200
        assert time.monotonic() - began >= 0.3
        assert running.metric('http_request_duration_seconds_bucket{le="0.25",path="/"}') == 0
    finally:
        stop(running)


def test_error_ratio_drill_answers_500_and_is_counted(tmp_path: Path) -> None:
    running = start_service(tmp_path, config_text(), env={"DRILL_ERROR_RATIO": "1.0"})
    try:
        running.wait_for("/health", 200)
        assert {running.get("/").status for _ in range(5)} == {500}
        assert running.metric('http_requests_total{code="500"') == 5
    finally:
        stop(running)


def test_failing_readiness_drill(tmp_path: Path) -> None:
    # No warm-up: from the first answer on, only the drill can make /ready fail.
    config = config_text(warmup_seconds=0, drills={"fail_readiness": True})
    running = start_service(tmp_path, config)
    try:
        running.wait_for("/health", 200)
        assert running.get("/ready").status == 503
        assert running.get("/health").status == 200
    finally:
        stop(running)


def test_crash_on_start_drill_exits_non_zero(tmp_path: Path) -> None:
    running = start_service(tmp_path, config_text(), env={"DRILL_CRASH_ON_START": "1"})
    output, _ = running.process.communicate(timeout=10)
    assert running.process.returncode == 1
    assert "crash_on_start" in output


def test_crash_after_drill_serves_then_crash_loops(tmp_path: Path) -> None:
    """Like a bad version: it passes a smoke test, dies, and every restart dies at once."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"DRILL_CRASH_AFTER_S": "1", "TMPDIR": str(tmp)}
    running = start_service(tmp_path, config_text(), env=env)
    running.wait_for("/health", 200)
    output, _ = running.process.communicate(timeout=10)
    assert running.process.returncode == 1
    assert "crashed after 1s" in output
    assert (tmp / ".drill-crashed").exists()
    again = start_service(tmp_path, config_text(), env=env)
    output, _ = again.process.communicate(timeout=10)
    assert again.process.returncode == 1
    assert "crashing on start" in output


def test_memory_growth_drill_grows_resident_memory(tmp_path: Path) -> None:
    running = start_service(tmp_path, config_text(drills={"memory_growth_mb_per_minute": 900}))
    try:
        running.wait_for("/health", 200)
        before = running.metric("process_resident_memory_bytes")
        wait_until(  # 900 MB a minute: 20 MB within about 1.3 s
            lambda: running.metric("process_resident_memory_bytes") - before >= 20 * 1024 * 1024,
            10,
            "resident memory grew by 20 MB",
        )
    finally:
        stop(running)


def test_sighup_reloads_config_without_restart(service: RunningService) -> None:
    service.config_path.write_text(config_text(message="reloaded", drills={"error_ratio": 1.0}))
    service.process.send_signal(signal.SIGHUP)
    wait_until(lambda: service.get("/").status == 500, 5, "the reload applied")
    service.config_path.write_text(config_text(message="reloaded"))
    service.process.send_signal(signal.SIGHUP)
    wait_until(
        lambda: json.loads(service.get("/").body).get("message") == "reloaded",
        5,
        "the second reload applied",
    )
    assert service.process.poll() is None
    assert service.metric('app_config_reloads_total{outcome="applied"}') == 2


def test_broken_config_on_sighup_keeps_the_previous_one(service: RunningService) -> None:
    service.config_path.write_text('{"message": ')
    service.process.send_signal(signal.SIGHUP)
    wait_until(
        lambda: service.metric('app_config_reloads_total{outcome="refused"}') >= 1,
        5,
        "the refused reload is counted",
    )
    assert json.loads(service.get("/").body)["message"] == "hello from the test"


def test_sigterm_drains_then_stops(service: RunningService) -> None:
    service.wait_for("/ready", 200)
    service.process.send_signal(signal.SIGTERM)
    service.wait_for("/ready", 503, timeout=2)
    assert json.loads(service.get("/ready").body) == {"status": "draining"}
    assert service.get("/health").status == 200
    output, _ = service.process.communicate(timeout=10)
    assert service.process.returncode == 0
    assert "draining" in output and "stopped" in output
