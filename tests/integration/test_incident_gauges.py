"""`incident start` from the CLI records the gauges the console shows: CPU and memory from the
environment's containers on the real engine, not "no data" beside a pane that has figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from live_helpers import free_port, run_container, start_service, stop_process

from tests.unit.test_incident_cli import REPO, cli

pytestmark = pytest.mark.integration


def test_gauges_at_open_read_cpu_and_memory_of_the_environment_s_containers(
    docker_client: Any, token: str, tmp_path: Path
) -> None:
    # A fifth of a core, busy: a CPU figure well above 0 that costs the test run little.
    busy = run_container(docker_client, token, "while :; do :; done", nano_cpus=200_000_000)
    port = free_port()
    service = start_service(port)
    config = tmp_path / "config.toml"
    config.write_text(
        "[environments.Development]\n"
        'docker_host = "unix:///var/run/docker.sock"\n'
        f'base_url = "http://127.0.0.1:{port}"\n'
        "[sources]\n"
        f'containers = "rbc-live-{token}"\n'
    )
    (tmp_path / ".git").mkdir()
    runbook = tmp_path / "runbook.md"
    runbook.write_text((REPO / ".monkeytown" / "devops" / "runbook.md").read_text())
    try:
        started = cli("--config", str(config), "start", "--severity", "P1", str(runbook))
    finally:
        stop_process(service)
    assert started.returncode == 0, started.stderr
    events = [json.loads(line) for line in cli("timeline", "--json").stdout.splitlines()]
    (readings,) = [event["data"]["readings"] for event in events if event["kind"] == "readings"]
    by_metric = {reading["metric"]: reading for reading in readings}
    cpu, memory = by_metric["CPU Usage"], by_metric["Memory Usage"]
    busy.reload()
    assert cpu["source"] == f"docker stats ({busy.name})"
    assert 5 < cpu["value"] < 40  # its fifth of a core, as `docker stats` shows it
    assert memory["source"] == f"docker stats ({busy.name})" and memory["value"] > 0
