"""An isolated blue-green sandbox on the real Docker engine, and a bounded load loop.

Each sandbox has its own container prefix, loopback ports, image names, state and history
directories, so it runs beside a developer's own deployment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.required import unavailable

REPO = Path(__file__).resolve().parents[2]


def engine_answers() -> bool:
    """Whether `docker info` answers (the engine scripts/services.sh starts)."""
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=30)
    return result.returncode == 0


def require_engine() -> None:
    """Skip without an engine, or fail when RUNBOOK_REQUIRE_SERVICES=1 demands one."""
    if engine_answers():
        return
    unavailable("Docker engine not reachable (run: bash scripts/services.sh)")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def http_get(url: str, timeout: float = 3.0) -> Reply:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read().decode())


@dataclass
class LoadLoop:
    """Steady GET / against a URL (about `rate` per second) on a thread, for at most
    `max_seconds`; counts answers by status and every connection error as a failure."""

    url: str
    rate: float = 20.0
    max_seconds: float = 120.0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    versions: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> LoadLoop:
        self._thread = threading.Thread(target=self._run, name="load-loop", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=10)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                reply = http_get(self.url, timeout=5)
                self.statuses[reply.status] = self.statuses.get(reply.status, 0) + 1
                self.versions.add(reply.headers.get("X-Version", "?"))
            except OSError as error:
                self.errors.append(str(error))
            self._stop.wait(1 / self.rate)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + len(self.errors)

    @property
    def failed(self) -> int:
        return len(self.errors) + sum(n for code, n in self.statuses.items() if code != 200)


@dataclass
class Sandbox:
    """One isolated blue-green deployment driven through the Makefile."""

    prefix: str
    proxy_port: int
    blue_port: int
    green_port: int
    web_image: str
    proxy_image: str
    state_dir: Path
    history_dir: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MONKEYTOWN_PREFIX": self.prefix,
            "MONKEYTOWN_PORT": str(self.proxy_port),
            "MONKEYTOWN_BLUE_PORT": str(self.blue_port),
            "MONKEYTOWN_GREEN_PORT": str(self.green_port),
            "WEB_IMAGE": self.web_image,
            "PROXY_IMAGE": self.proxy_image,
            "MONKEYTOWN_STATE_DIR": str(self.state_dir),
            "DEPLOY_HISTORY_DIR": str(self.history_dir),
            "SMOKE_TIMEOUT": "30",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def run(
        self, *command: str, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run a command from the repo root in the sandbox's environment."""
        result = subprocess.run(
            list(command),
            cwd=REPO,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def make(
        self, *targets: str, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return self.run("make", "--no-print-directory", *targets, check=check, **env)

    def get(self, path: str = "/") -> Reply:
        return http_get(self.url + path)

    def history(self) -> list[dict[str, Any]]:
        path = self.history_dir / "deployments.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def container(self, colour: str) -> str:
        return f"{self.prefix}-web-{colour}"

    def inspect(self, name: str, template: str) -> str:
        return self.run("docker", "inspect", "-f", template, name).stdout.strip()

    def reset(self) -> None:
        """Back to nothing deployed: containers, state and history gone; images kept."""
        self.make("down")
        shutil.rmtree(self.history_dir, ignore_errors=True)
        for tag in ("current", "previous"):
            self.run("docker", "rmi", f"{self.web_image}:{tag}", check=False)

    def remove_everything(self, keep_proxy_image: bool = False) -> None:
        """Containers, the web image's tags and (unless kept for others) the proxy image."""
        self.make("down", check=False)
        images = self.run(
            "docker", "images", "--format", "{{.Repository}}:{{.Tag}}", self.web_image, check=False
        ).stdout.split()
        if not keep_proxy_image:
            images.append(self.proxy_image)
        if images:
            self.run("docker", "rmi", "--force", *images, check=False)
        leftovers = self.run(
            "docker", "ps", "-aq", "--filter", f"label=monkeytown.prefix={self.prefix}", check=False
        ).stdout.split()
        if leftovers:
            self.run("docker", "rm", "--force", *leftovers, check=False)


PROCD = REPO / "deploy" / "service" / "procd.py"


class LocalSandbox(Sandbox):
    """A sandbox with DEPLOY_RUNTIME=local: the colours and the proxy are local processes
    of an engine (deploy/service/procd.py) kept in `engine_dir`; no Docker."""

    engine_dir: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **super().env,
            "DEPLOY_RUNTIME": "local",
            "LOCAL_ENGINE_DIR": str(self.engine_dir),
            "PYTHON": sys.executable,
        }

    def field(self, name: str, field: str) -> str:
        command = [sys.executable, str(PROCD), "--root", str(self.engine_dir), "inspect", name]
        return self.run(*command, "--format", field).stdout.strip()

    def logs(self, name: str, lines: int = 200) -> list[str]:
        command = [sys.executable, str(PROCD), "--root", str(self.engine_dir), "logs", name]
        return self.run(*command, "--tail", str(lines)).stdout.splitlines()

    def shutdown(self) -> None:
        """Everything down and the engine stopped."""
        self.make("down", check=False)
        command = [sys.executable, str(PROCD), "--root", str(self.engine_dir), "shutdown"]
        self.run(*command, check=False)


def local_sandbox(tmp_path: Path, ports: tuple[int, int, int]) -> LocalSandbox:
    """A local sandbox in `tmp_path` on these (proxy, blue, green) ports; engine not started."""
    proxy, blue, green = ports
    box = LocalSandbox(
        prefix=f"rbc-local-{proxy}",
        proxy_port=proxy,
        blue_port=blue,
        green_port=green,
        web_image="rbc-local-web",
        proxy_image="rbc-local-proxy:latest",
        state_dir=tmp_path / "state",
        history_dir=tmp_path / "history",
    )
    box.engine_dir = tmp_path / "engine"
    return box
