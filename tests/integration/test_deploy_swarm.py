"""DEPLOY_RUNTIME=swarm: make deploy, rollback, rollback-now, status and update-config against
a one-node swarm on a private engine (swarm_engine.py), under a bounded load loop on 127.0.0.1.

One stack for the module, driven through the Makefile as an operator would; each step's
load loop records zero failed requests."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SandboxImages
from deploy_sandbox import REPO, LoadLoop, Reply, http_get
from swarm_engine import SwarmEngine

from runbook.drills.sandboxes import free_ports
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("private-engines")]


class SwarmStack:
    """The sandbox's stack on the private swarm, driven with make."""

    def __init__(self, swarm: SwarmEngine, web_image: str, root: Path) -> None:
        self.swarm = swarm
        self.prefix = f"rbc-sw-{uuid.uuid4().hex[:6]}"
        self.port = free_ports(1)[0]
        self.root = root
        self.env = {
            **swarm.env,
            "DEPLOY_RUNTIME": "swarm",
            "MONKEYTOWN_PREFIX": self.prefix,
            "MONKEYTOWN_PORT": str(self.port),
            "WEB_IMAGE": web_image,
            "MONKEYTOWN_STATE_DIR": str(root / "state"),
            "DEPLOY_HISTORY_DIR": str(root / "history"),
        }

    @property
    def service(self) -> str:
        return f"{self.prefix}_web"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def run(
        self, *command: str, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            list(command), cwd=REPO, env={**self.env, **env}, capture_output=True, text=True,
            check=False, timeout=400,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def make(
        self, *targets: str, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return self.run("make", "--no-print-directory", *targets, check=check, **env)

    def field(self, template: str) -> str:
        return self.swarm.docker("service", "inspect", "-f", template, self.service).stdout.strip()

    def image(self) -> str:
        return self.field("{{.Spec.TaskTemplate.ContainerSpec.Image}}")

    def update_state(self) -> str:
        return self.field("{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}")

    def get(self) -> Reply:
        return http_get(self.url)

    def history(self) -> list[dict[str, object]]:
        path = self.root / "history" / "deployments.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def stack(
    swarm_engine: SwarmEngine,
    sandbox_images: SandboxImages,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SwarmStack]:
    box = SwarmStack(swarm_engine, sandbox_images.web_image, tmp_path_factory.mktemp("swarm"))
    box.make("deploy", "VERSION=v1")
    try:
        yield box
    finally:
        box.make("down", check=False)


def assert_no_failures(load: LoadLoop) -> None:
    assert load.sent >= 10, f"load loop sent only {load.sent} requests"
    assert load.failed == 0, f"failed requests: {load.statuses} {load.errors[:3]}"


def test_deploy_v1_to_v2_drops_no_request(stack: SwarmStack) -> None:
    assert stack.get().headers["X-Version"] == "v1"
    with LoadLoop(stack.url) as load:
        out = stack.make("deploy", "VERSION=v2").stdout
    assert_no_failures(load)
    assert "rolling start-first update" in out
    assert stack.image().endswith(":v2")
    assert stack.update_state() == "completed"
    wait_until(lambda: stack.get().headers["X-Version"] == "v2", 10, "v2 answers alone")
    assert stack.history()[-1]["outcome"] == "succeeded"


def test_make_rollback_drops_no_request_and_status_shows_it(stack: SwarmStack) -> None:
    with LoadLoop(stack.url) as load:
        out = stack.make("rollback").stdout
    assert_no_failures(load)
    assert "rolled back" in out
    assert stack.image().endswith(":v1")
    assert stack.update_state() == "rollback_completed"
    status = stack.make("status").stdout
    assert "update state: rollback_completed" in status
    assert "-> 200" in status


def test_a_v3_that_never_gets_ready_is_rolled_back_by_swarm(stack: SwarmStack) -> None:
    stack.make("deploy", "VERSION=v2")
    v2 = stack.image()
    stack.swarm.docker("tag", v2, v2.rsplit(":", 1)[0] + ":v3")
    with LoadLoop(stack.url, max_seconds=180) as load:
        failed = stack.make("deploy", "VERSION=v3", check=False, DRILL_FAIL_READINESS="true")
    assert_no_failures(load)
    assert failed.returncode != 0
    assert "rollback_completed" in failed.stderr
    assert stack.update_state() == "rollback_completed"
    assert stack.image() == v2
    assert load.versions == {"v2"}
    assert stack.history()[-1]["outcome"] == "failed"


def test_make_rollback_now_after_swarm_rolled_back_by_itself(stack: SwarmStack) -> None:
    assert stack.image().endswith(":v2")  # and no previous spec: swarm rolled back by itself
    with LoadLoop(stack.url) as load:
        out = stack.make("rollback-now").stdout
    assert_no_failures(load)
    assert "no previous spec" in out
    assert stack.image().endswith(":v1")
    assert stack.history()[-1]["action"] == "rollback-now"
    logs = stack.make("logs-tail", "LINES=5").stdout
    assert f"==> {stack.service}" in logs


def test_update_config_rotates_the_swarm_config(stack: SwarmStack, tmp_path: Path) -> None:
    before = stack.field("{{range .Spec.TaskTemplate.ContainerSpec.Configs}}{{.ConfigName}}{{end}}")
    config = json.loads((REPO / "deploy/config/prod.json").read_text())
    config["message"] = "Rotated by the swarm test"
    changed = tmp_path / "prod.json"
    changed.write_text(json.dumps(config))
    with LoadLoop(stack.url) as load:
        stack.run("./deploy/update-config.sh", "prod", CONFIG_FILE=str(changed))
    assert_no_failures(load)
    after = stack.field("{{range .Spec.TaskTemplate.ContainerSpec.Configs}}{{.ConfigName}}{{end}}")
    assert after != before and after.startswith(f"{stack.prefix}-app-")
    assert stack.get().json()["message"] == "Rotated by the swarm test"
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    refused = stack.run("./deploy/update-config.sh", "prod", check=False, CONFIG_FILE=str(broken))
    assert refused.returncode != 0 and "refused" in refused.stderr
