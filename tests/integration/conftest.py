"""Fixtures for tests against the real Docker engine (helpers in deploy_sandbox.py).

Teardown removes every container and image a sandbox made (the cached offline base image
runbook-base:bookworm stays, as scripts/base-image.sh intends).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import live_helpers
import pytest
from deploy_sandbox import Sandbox, require_engine

from runbook.drills.sandboxes import free_ports


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox with images v1 and v2 built offline; removed with its images afterwards."""
    require_engine()
    token = uuid.uuid4().hex[:8]
    proxy_port, blue_port, green_port = free_ports(3)
    root = tmp_path_factory.mktemp(f"sandbox-{token}")
    box = Sandbox(
        prefix=f"rbc-it-{token}",
        proxy_port=proxy_port,
        blue_port=blue_port,
        green_port=green_port,
        web_image=f"rbc-it-{token}-web",
        proxy_image=f"rbc-it-{token}-proxy:test",
        state_dir=root / "state",
        history_dir=root / "history",
    )
    try:
        box.make("build", "VERSION=v1")
        box.make("build", "VERSION=v2")
        yield box
    finally:
        box.remove_everything()


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
