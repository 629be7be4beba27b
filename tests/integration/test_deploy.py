"""Blue-green deploy, rollback and config reload against the real Docker engine.

Each test starts from an empty sandbox (tests/integration/conftest.py): its own containers,
loopback ports, images, state and history, all removed afterwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from deploy_sandbox import REPO, LoadLoop, Sandbox, http_get, require_engine

from runbook.drills.sandboxes import free_ports
from tests.required import unavailable
from tests.waiting import wait_until

# Image builds in the session fixture count towards the first test's time on a busy box.
pytestmark = [pytest.mark.integration, pytest.mark.serial, pytest.mark.timeout(600)]


@pytest.fixture
def box(sandbox: Sandbox) -> Sandbox:
    sandbox.reset()
    return sandbox


def assert_serving(box: Sandbox, version: str) -> None:
    health = box.get("/health")
    assert health.status == 200, health.body
    assert health.json() == {"status": "healthy"}
    assert health.headers["X-Version"] == version
    assert box.get("/ready").status == 200
    assert box.get("/").json()["version"] == version
    assert f'version="{version}"' in box.get("/metrics").body


def assert_no_failures(load: LoadLoop) -> None:
    assert load.sent >= 10, f"load loop sent only {load.sent} requests"
    assert load.failed == 0, f"failed requests: {load.statuses} {load.errors[:3]}"


def test_deploy_v1_then_v2_then_rollback_drops_no_request(box: Sandbox) -> None:
    deployed = box.make("deploy", "VERSION=v1")
    assert "deployed v1 on blue" in deployed.stdout
    assert_serving(box, "v1")

    with LoadLoop(box.url + "/") as load:
        deployed = box.make("deploy", "VERSION=v2")
        assert_serving(box, "v2")
    assert_no_failures(load)
    assert load.versions == {"v1", "v2"}
    assert "deployed v2 on green; blue keeps v1 for rollback" in deployed.stdout
    assert box.inspect(box.container("blue"), "{{.State.Running}}") == "true"

    with LoadLoop(box.url + "/") as load:
        rolled_back = box.make("rollback")
        assert_serving(box, "v1")
    assert_no_failures(load)
    assert "rolled back v2 -> v1" in rolled_back.stdout
    for step in range(1, 6):
        assert f"{step}/5" in rolled_back.stdout
    assert box.inspect(box.container("green"), "{{.State.Running}}") == "false"

    status = box.make("status").stdout
    assert "live colour: blue" in status
    blue = next(line for line in status.splitlines() if line.startswith(box.container("blue")))
    name, colour, version, state, health, uptime, traffic = blue.split()
    assert (colour, version, state, traffic) == ("blue", "v1", "running", "live")
    assert health in ("healthy", "starting")
    assert uptime.endswith("s")
    assert "-> 200 (X-Version v1)" in status

    history = box.history()
    assert [
        (r["action"], r["from_version"], r["to_version"], r["colour"], r["outcome"])
        for r in history
    ] == [
        ("deploy", None, "v1", "blue", "succeeded"),
        ("deploy", "v1", "v2", "green", "succeeded"),
        ("rollback", "v2", "v1", "blue", "succeeded"),
    ]
    for record in history:
        assert set(record) == {
            "time",
            "action",
            "environment",
            "from_version",
            "to_version",
            "colour",
            "user",
            "host",
            "outcome",
            "run_id",
        }
        assert record["environment"] == "prod"
        assert record["time"].endswith("Z")
        assert record["run_id"] is None


def test_rollback_now_switches_at_once_and_records_the_run_id(box: Sandbox) -> None:
    box.make("deploy", "VERSION=v1")
    box.make("deploy", "VERSION=v2")
    with LoadLoop(box.url + "/") as load:
        result = box.make("rollback-now", RUNBOOK_RUN_ID="run-42")
        assert_serving(box, "v1")
    assert_no_failures(load)
    assert "rolled back v2 -> v1 on blue" in result.stdout
    last = box.history()[-1]
    assert (last["action"], last["to_version"], last["outcome"], last["run_id"]) == (
        "rollback-now",
        "v1",
        "succeeded",
        "run-42",
    )
    # The stopped colour is gone from traffic, so a second immediate rollback is refused.
    again = box.make("rollback-now", check=False)
    assert again.returncode != 0
    assert "is not running; use: make rollback" in again.stderr
    assert box.history()[-1]["outcome"] == "failed"


def test_failed_smoke_test_leaves_traffic_on_the_live_colour(box: Sandbox) -> None:
    box.make("deploy", "VERSION=v1")
    nothing_before = box.make("rollback", check=False)
    assert nothing_before.returncode != 0
    assert "nothing to roll back to" in nothing_before.stderr
    assert box.history()[-1]["outcome"] == "failed"

    crashed = box.make(
        "deploy", "VERSION=v2", check=False, SMOKE_TIMEOUT="3", DRILL_CRASH_ON_START="1"
    )
    assert crashed.returncode != 0
    assert "smoke test failed on green" in crashed.stderr
    assert "crash_on_start" in box.run("docker", "logs", box.container("green")).stderr
    assert box.get("/health").headers["X-Version"] == "v1"

    config = json.loads((REPO / "deploy/config/prod.json").read_text())
    config["drills"]["fail_readiness"] = True
    (box.state_dir / "config" / "app.json").write_text(json.dumps(config))
    with LoadLoop(box.url + "/") as load:
        result = box.make("deploy", "VERSION=v2", check=False, SMOKE_TIMEOUT="3")
    assert result.returncode != 0
    assert "smoke test failed on green" in result.stderr
    assert_no_failures(load)
    assert load.versions == {"v1"}
    assert box.get("/health").headers["X-Version"] == "v1"
    assert box.history()[-1]["outcome"] == "failed"


def test_update_config_reloads_without_restart_and_refuses_a_broken_file(
    box: Sandbox, tmp_path: Path
) -> None:
    box.make("deploy", "VERSION=v1")
    container = box.container("blue")
    started = box.inspect(container, "{{.State.StartedAt}}")
    assert box.get("/").json()["message"] == "Welcome to Monkeytown"

    config = json.loads((REPO / "deploy/config/prod.json").read_text())
    config["message"] = "Reloaded by the integration test"
    new_file = tmp_path / "prod.json"
    new_file.write_text(json.dumps(config))
    with LoadLoop(box.url + "/") as load:
        box.run("./deploy/update-config.sh", "prod", CONFIG_FILE=str(new_file))
    assert_no_failures(load)
    assert box.get("/").json()["message"] == "Reloaded by the integration test"
    assert box.inspect(container, "{{.State.StartedAt}}") == started

    installed = (box.state_dir / "config" / "app.json").read_text()
    broken = tmp_path / "broken.json"
    broken.write_text('{"message": "half a file",')
    refused = box.run("./deploy/update-config.sh", "prod", check=False, CONFIG_FILE=str(broken))
    assert refused.returncode == 1
    assert refused.stderr.startswith("update-config: refused, nothing changed: ")
    assert refused.stderr.count("\n") == 1
    assert (box.state_dir / "config" / "app.json").read_text() == installed
    assert box.get("/").json()["message"] == "Reloaded by the integration test"
    assert box.inspect(container, "{{.State.StartedAt}}") == started

    # The Makefile's form applies the checked-in file for the environment.
    box.make("update-config", "ENV=prod")
    assert box.get("/").json()["message"] == "Welcome to Monkeytown"


def test_status_fails_when_the_proxy_is_down(box: Sandbox) -> None:
    assert "no deployment yet" in box.make("status").stdout
    box.make("deploy", "VERSION=v1")
    box.run("docker", "stop", f"{box.prefix}-proxy")
    status = box.make("status", check=False)
    assert status.returncode != 0
    assert "-> no answer" in status.stdout


def test_services_script_is_idempotent() -> None:
    require_engine()
    for _ in range(2):
        result = subprocess.run(
            ["bash", "scripts/services.sh"], cwd=REPO, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert all(line.startswith("services: ") for line in lines)
        assert lines[-1] == "services: docker engine already answering"
    # The first call may build the base image on a fresh machine; the second must not.
    for _ in range(2):
        base = subprocess.run(
            ["bash", "scripts/base-image.sh"], cwd=REPO, capture_output=True, text=True, check=False
        )
        assert base.returncode == 0, base.stderr
    assert base.stdout == "base-image: runbook-base:bookworm present\n"


def test_logs_tail_shows_the_live_container(box: Sandbox) -> None:
    box.make("deploy", "VERSION=v1")
    box.get("/")
    logs = box.make("logs-tail", "LINES=20").stdout
    assert f"==> {box.container('blue')} (live, last 20 lines)" in logs
    assert "version v1 listening on 127.0.0.1" in logs or '"GET / HTTP/1.0" 200' in logs


def test_compose_prod_runs_on_host_network_with_limits(box: Sandbox) -> None:
    if shutil.which("docker-compose") is None:
        unavailable("docker-compose not installed (bash scripts/services.sh installs it)")
    box.run("docker", "tag", f"{box.web_image}:v1", f"{box.web_image}:current")
    networks_before = box.run("docker", "network", "ls", "-q").stdout.split()
    compose = ["docker-compose", "-p", box.prefix, "-f", "deploy/docker-compose.prod.yml"]
    try:
        box.run(*compose, "up", "-d")
        name = f"{box.prefix}-web"
        wait_until_healthy(box)
        assert box.get("/health").headers["X-Version"] == "v1"
        assert box.inspect(name, "{{.HostConfig.NetworkMode}}") == "host"
        assert box.inspect(name, "{{.HostConfig.RestartPolicy.Name}}") == "unless-stopped"
        assert box.inspect(name, "{{.HostConfig.Memory}}") == str(256 * 1024 * 1024)
        assert (
            box.inspect(name, "{{.HostConfig.LogConfig.Config}}") == "map[max-file:3 max-size:10m]"
        )
        assert box.inspect(name, "{{.Config.Healthcheck.Test}}").count("/health") >= 1
    finally:
        box.run(*compose, "down", check=False)
    assert box.run("docker", "network", "ls", "-q").stdout.split() == networks_before


def test_prometheus_scrapes_the_sandbox_and_loads_the_runbook_rules(box: Sandbox) -> None:
    if shutil.which("prometheus") is None:
        unavailable("prometheus not installed (bash scripts/services.sh installs it)")
    box.make("deploy", "VERSION=v1")
    (port,) = free_ports(1)
    prometheus = subprocess.Popen(
        ["bash", "deploy/prometheus.sh"],
        cwd=REPO,
        env={**box.env, "PROMETHEUS_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    query = urllib.parse.quote('app_build_info{via="proxy"}')

    def scraped() -> list[dict[str, Any]]:
        try:
            return list(http_get(f"{api}/query?query={query}").json()["data"]["result"])
        except (OSError, ValueError):  # not listening yet, or not ready (a plain-text 503)
            return []

    try:
        result = wait_until(scraped, 45, "prometheus scraped the proxy", interval=0.5)
        assert result[0]["metric"]["version"] == "v1"
        groups = http_get(f"{api}/rules").json()["data"]["groups"]
        assert len(groups[0]["rules"]) == 10
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=20)


def wait_until_healthy(box: Sandbox, timeout: float = 20.0) -> None:
    def healthy() -> bool:
        try:
            return box.get("/health").status == 200
        except OSError:
            return False

    wait_until(healthy, timeout, f"{box.url}/health answers 200")
