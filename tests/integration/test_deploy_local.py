"""The same blue-green deploy, rollback and config reload with DEPLOY_RUNTIME=local: no Docker.

The colours and the proxy are local processes owned by an engine (deploy/service/procd.py)
that each test starts in its own directory; the commands are the runbook's, unchanged.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_sandbox import REPO, LoadLoop, LocalSandbox, local_sandbox

from runbook.drills.sandboxes import free_ports
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture
def box(tmp_path: Path) -> Iterator[LocalSandbox]:
    box = local_sandbox(tmp_path, tuple(free_ports(3)))  # type: ignore[arg-type]
    missing = box.make("deploy", "VERSION=v1", check=False)
    assert missing.returncode != 0
    assert "local engine not running" in missing.stderr and "make local-engine" in missing.stderr
    box.make("local-engine")
    box.make("build", "VERSION=v1")
    box.make("build", "VERSION=v2")
    yield box
    box.shutdown()


def test_deploy_then_rollback_drops_no_request(box: LocalSandbox) -> None:
    assert "deployed v1 on blue" in box.make("deploy", "VERSION=v1").stdout
    assert box.get("/health").headers["X-Upstream-Colour"] == "blue"
    with LoadLoop(box.url + "/") as load:
        box.make("deploy", "VERSION=v2")
        assert box.get("/").json()["version"] == "v2"
    assert load.failed == 0 and load.sent >= 10, (load.statuses, load.errors[:3])
    assert load.versions == {"v1", "v2"}
    with LoadLoop(box.url + "/") as load:
        rolled_back = box.make("rollback")
    assert load.failed == 0, (load.statuses, load.errors[:3])
    assert "rolled back v2 -> v1" in rolled_back.stdout
    assert box.get("/health").headers["X-Version"] == "v1"
    assert box.field(box.container("green"), "status") == "exited"

    status = box.make("status").stdout
    blue = next(line for line in status.splitlines() if line.startswith(box.container("blue")))
    assert blue.split()[1:5] == ["blue", "v1", "running", "healthy"]
    assert blue.split()[-1] == "live"
    assert [(r["action"], r["to_version"], r["outcome"]) for r in box.history()] == [
        ("deploy", "v1", "succeeded"),
        ("deploy", "v2", "succeeded"),
        ("rollback", "v1", "succeeded"),
    ]
    logs = box.make("logs-tail", "LOG_LINES=5").stdout
    assert f"==> {box.container('blue')} (live, last 5 lines)" in logs


def test_update_config_reloads_without_restart(box: LocalSandbox, tmp_path: Path) -> None:
    box.make("deploy", "VERSION=v1")
    started = box.field(box.container("blue"), "started_at")
    config = json.loads((REPO / "deploy/config/prod.json").read_text())
    config["message"] = "reloaded locally"
    new_file = tmp_path / "prod.json"
    new_file.write_text(json.dumps(config))
    box.run("./deploy/update-config.sh", "prod", CONFIG_FILE=str(new_file))
    assert box.get("/").json()["message"] == "reloaded locally"
    assert box.field(box.container("blue"), "started_at") == started
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    refused = box.run("./deploy/update-config.sh", "prod", check=False, CONFIG_FILE=str(broken))
    assert refused.returncode == 1 and "refused, nothing changed" in refused.stderr


def test_a_crashing_version_crash_loops_and_rollback_now_fixes_it(box: LocalSandbox) -> None:
    box.make("deploy", "VERSION=v1")
    box.run("bash", "deploy/local-build.sh", "v3", "DRILL_CRASH_AFTER_S=2")
    box.make("deploy", "VERSION=v3")
    green = box.container("green")
    wait_until(lambda: int(box.field(green, "restarts") or 0) >= 2, 30, "green restarted twice")
    assert box.get("/health").status == 502
    status = box.make("status", check=False)
    assert status.returncode != 0 and status.stdout.endswith("/health -> 502\n")
    box.make("rollback-now")
    assert box.get("/health").headers["X-Version"] == "v1"


def test_down_leaves_no_process(box: LocalSandbox) -> None:
    box.make("deploy", "VERSION=v1")
    pids = [int(box.field(name, "pid")) for name in (box.container("blue"), f"{box.prefix}-proxy")]
    assert "is down" in box.make("down").stdout
    for pid in pids:
        done = subprocess.run(["kill", "-0", str(pid)], capture_output=True)
        assert done.returncode != 0, f"process {pid} outlived make down"
