"""Fixtures for tests against the real Docker engine (helpers in deploy_sandbox.py).

The deploy sandbox's images are built once per run, whatever the number of xdist workers;
teardown removes every container and image the sandboxes made (the cached offline base image
runbook-base:bookworm stays, as scripts/base-image.sh intends).
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import live_helpers
import pytest
from deploy_sandbox import Sandbox, require_engine
from engines import PrivateEngines, require_private_engines, start_engines
from swarm_engine import SwarmEngine, start_swarm

from runbook.drills.sandboxes import free_ports


@dataclass(frozen=True)
class SandboxImages:
    """The web image (tags v1 and v2) and the proxy image, built once per test run."""

    web_image: str
    proxy_image: str


def shared_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every xdist worker of this run sees (the run's own when not distributed)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (between the workers of one run)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def sandbox_images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxImages]:
    """Builds the sandbox images once for all workers; the last worker done removes them.

    State in a shared JSON file under a lock: the run's image names, whether they are built
    and how many workers use them now.
    """
    require_engine()
    shared = shared_tmp(tmp_path_factory)
    lock, state_file = shared / "sandbox-images.lock", shared / "sandbox-images.json"
    with locked(lock):
        if state_file.exists():
            state = json.loads(state_file.read_text())
        else:
            state = {"token": uuid.uuid4().hex[:8], "built": False, "users": 0}
        images = SandboxImages(
            web_image=f"rbc-it-{state['token']}-web",
            proxy_image=f"rbc-it-{state['token']}-proxy:test",
        )
        if not state["built"]:
            builder = make_sandbox(images, images.web_image, shared / "sandbox-images")
            builder.make("build", "VERSION=v1")
            builder.make("build", "VERSION=v2")
            state["built"] = True
        state["users"] += 1
        state_file.write_text(json.dumps(state))
    try:
        yield images
    finally:
        with locked(lock):
            state = json.loads(state_file.read_text())
            state["users"] -= 1
            if state["users"] == 0:
                builder = make_sandbox(images, images.web_image, shared / "sandbox-images")
                builder.remove_everything()
                state["built"] = False
            state_file.write_text(json.dumps(state))


def make_sandbox(images: SandboxImages, web_image: str, root: Path) -> Sandbox:
    token = uuid.uuid4().hex[:8]
    proxy_port, blue_port, green_port = free_ports(3)
    return Sandbox(
        prefix=f"rbc-it-{token}",
        proxy_port=proxy_port,
        blue_port=blue_port,
        green_port=green_port,
        web_image=web_image,
        proxy_image=images.proxy_image,
        state_dir=root / "state",
        history_dir=root / "history",
    )


@pytest.fixture(scope="session")
def sandbox(
    sandbox_images: SandboxImages, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sandbox]:
    """This worker's sandbox: its own containers, ports, state, and its own image repository
    (its `current` and `previous` tags are its own) holding the shared v1 and v2."""
    root = tmp_path_factory.mktemp("sandbox")
    own_image = f"{sandbox_images.web_image}-{uuid.uuid4().hex[:6]}"
    box = make_sandbox(sandbox_images, own_image, root)
    for version in ("v1", "v2"):
        box.run("docker", "tag", f"{sandbox_images.web_image}:{version}", f"{own_image}:{version}")
    try:
        yield box
    finally:
        box.remove_everything(keep_proxy_image=True)


@pytest.fixture
def docker_client() -> Any:
    """The real engine's client (fails or skips as require_engine says when there is none)."""
    return live_helpers.require_engine()


@pytest.fixture
def token(docker_client: Any) -> Iterator[str]:
    """A label value for this test's containers; they are all removed afterwards."""
    value = uuid.uuid4().hex[:8]
    yield value
    live_helpers.remove_labelled(docker_client, value)


@pytest.fixture
def proxy() -> Iterator[live_helpers.SocketProxy]:
    """A unix-socket proxy in front of dockerd that tests stop, kill or hang."""
    socket_proxy = live_helpers.SocketProxy()
    socket_proxy.start()
    yield socket_proxy
    socket_proxy.close()


@pytest.fixture(scope="session")
def private_engines() -> Iterator[PrivateEngines]:
    """Three extra dockerds for this worker (b also on tcp://127.0.0.1:PORT; c is the one a
    test kills), the test image loaded into each; stopped by PID and their roots removed at
    the end, failures included."""
    require_private_engines()
    image = live_helpers.live_image(live_helpers.require_engine())
    engines = start_engines(image, ["a", "b", "c"], tcp={"b"})
    try:
        yield PrivateEngines(image, tuple(engines))
    finally:
        for engine in engines:
            engine.stop()


@pytest.fixture(scope="session")
def swarm_engine(sandbox_images: SandboxImages) -> Iterator[SwarmEngine]:
    """A one-node swarm on its own private dockerd (swarm_engine.py), never the shared engine:
    the deploy sandbox's web image (v1 and v2) and the live tests' image are loaded into it.
    At the end the services go, the node leaves the swarm and the engine is stopped by PID.
    Tests that use it are in the xdist group "private-engines" (one worker starts it)."""
    require_private_engines()
    images = [f"{sandbox_images.web_image}:{version}" for version in ("v1", "v2")]
    images.append(live_helpers.live_image(live_helpers.require_engine()))
    swarm = start_swarm(images)
    try:
        yield swarm
    finally:
        swarm.stop()
