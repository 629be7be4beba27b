"""The swarm harness (swarm_engine.py): one-node swarm on a private engine, not the shared one."""

from __future__ import annotations

import subprocess

import pytest
from swarm_engine import SwarmEngine

from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("private-engines")]


def test_the_swarm_is_on_the_private_engine_without_routing_mesh(swarm_engine: SwarmEngine) -> None:
    assert swarm_engine.node_state() == "active"
    shared = subprocess.run(
        ["docker", "-H", "unix:///var/run/docker.sock", "info", "--format",
         "{{.Swarm.LocalNodeState}}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert shared.stdout.strip() == "inactive"
    networks = swarm_engine.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert "ingress" not in networks
    assert "docker_gwbridge" not in networks
    present = swarm_engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    for image in swarm_engine.images:
        assert image in present.split()


def test_a_host_network_service_runs_and_updates_start_first(swarm_engine: SwarmEngine) -> None:
    image = swarm_engine.images[-1]
    name = "rbc-swarm-harness"
    swarm_engine.docker(
        "service", "create", "--detach", "--name", name, "--network", "host",
        "--update-order", "start-first", image, "sh", "-c", 'trap "exit 0" TERM; sleep 600 & wait',
    )  # fmt: skip
    try:
        wait_until(lambda: replicas(swarm_engine, name) == "1/1", 60, f"{name} runs 1/1")
        swarm_engine.docker("service", "update", "--detach", "--env-add", "STEP=2", name)
        wait_until(lambda: update_state(swarm_engine, name) == "completed", 60, f"{name} updated")
        assert replicas(swarm_engine, name) == "1/1"
        networks = swarm_engine.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
        assert "docker_gwbridge" not in networks
    finally:
        swarm_engine.docker("service", "rm", name, check=False)


def replicas(swarm: SwarmEngine, service: str) -> str:
    listed = swarm.docker(
        "service", "ls", "--filter", f"name={service}", "--format", "{{.Replicas}}"
    )
    return listed.stdout.strip()


def update_state(swarm: SwarmEngine, service: str) -> str:
    template = "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}"
    return swarm.docker("service", "inspect", "-f", template, service).stdout.strip()
