"""A blue-green sandbox of the reference service for one drill: on Docker, or local processes.

Everything is its own: container names (`MONKEYTOWN_PREFIX=rbc-drill-<id>`), loopback
ports, image repository (`rbc-drill-<id>-web`, so its `current` and `previous` tags are
its own), state directory, deployment history and the environment name the executor
locks (`DRILL-<id>`). The runbook's commands (`make deploy`, `make rollback`,
`make update-config`) run against it unchanged, with those values in their
environment.

- `DockerSandbox`: containers on the real engine. One base image
  `rbc-drill-base:<hash of the service sources>` is built with `make build` on first use
  and kept; each drill derives `v1` and `v2` from it with a two-line Dockerfile (no RUN,
  so nothing is downloaded and it takes a second).
- `ProcessSandbox`: no engine needed. The drill starts its own local engine
  (`deploy/service/procd.py`, ended with the drill and with the console) and the same
  commands run with `DEPLOY_RUNTIME=local`: colours and proxy are local processes, the
  code is this checkout's.

`open_sandbox(..., runtime="auto")` picks Docker when an engine answers, else processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from runbook.drills.scenarios import Scenario

Runtime = Literal["auto", "docker", "local"]
BASE_REPOSITORY = "rbc-drill-base"
SERVICE_SOURCES = (
    "deploy/service/app.py",
    "deploy/service/service_config.py",
    "deploy/config/prod.json",
    "infrastructure/docker/Dockerfile.web",
)
ENGINE = Path("deploy") / "service" / "procd.py"


class SandboxError(RuntimeError):
    """The sandbox could not be set up; the message says which command failed."""


def engine_reachable(timeout_s: float = 5.0) -> bool:
    """Whether `docker info` answers."""
    if shutil.which("docker") is None:
        return False
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=timeout_s,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (bound and released; good enough for a sandbox)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def sources_hash(repo_root: Path) -> str:
    digest = hashlib.sha256()
    for relative in SERVICE_SOURCES:
        with contextlib.suppress(OSError):
            digest.update((repo_root / relative).read_bytes())
    return digest.hexdigest()[:12]


@dataclass
class BlueGreenSandbox:
    """One drill's blue-green sandbox; `up`, then `inject`, and always `down`.

    Subclasses say how an image is made (`_build`) and what else the runtime needs.
    """

    drill_id: str
    repo_root: Path
    directory: Path
    proxy_port: int = 0
    blue_port: int = 0
    green_port: int = 0
    log: list[str] = field(default_factory=list)
    """Every setup command and its output, for the drill record."""

    kind = "?"

    def __post_init__(self) -> None:
        if not self.proxy_port:
            self.proxy_port, self.blue_port, self.green_port = free_ports(3)
        self.prefix = f"rbc-drill-{self.drill_id}"
        self.web_image = f"rbc-drill-{self.drill_id}-web"
        self.environment = f"DRILL-{self.drill_id}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def state_dir(self) -> Path:
        return self.directory / "state"

    @property
    def history_dir(self) -> Path:
        return self.directory / "history"

    def env(self) -> dict[str, str]:
        """What every command run against the sandbox gets (make and the deploy scripts)."""
        return {
            "MONKEYTOWN_PREFIX": self.prefix,
            "PORT": str(self.proxy_port),
            "BLUE_PORT": str(self.blue_port),
            "GREEN_PORT": str(self.green_port),
            "MONKEYTOWN_PORT": str(self.proxy_port),
            "MONKEYTOWN_BLUE_PORT": str(self.blue_port),
            "MONKEYTOWN_GREEN_PORT": str(self.green_port),
            "MONKEYTOWN_STATE_DIR": str(self.state_dir),
            "DEPLOY_HISTORY_DIR": str(self.history_dir),
            "WEB_IMAGE": self.web_image,
            "SMOKE_TIMEOUT": "20",
            "RUNBOOK_DRILL": self.drill_id,
            "DEPLOY_ENV": "prod",  # the sandbox runs deploy/config/prod.json
        }

    def names(self) -> list[str]:
        return [f"{self.prefix}-proxy", f"{self.prefix}-web-blue", f"{self.prefix}-web-green"]

    # -- commands ---------------------------------------------------------------------------

    def _run(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        check: bool = True,
        timeout_s: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **self.env(), **(env or {})}
        try:
            done = subprocess.run(
                argv,
                cwd=self.repo_root,
                env=full_env,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as error:
            raise SandboxError(f"{' '.join(argv)} timed out after {timeout_s:g}s") from error
        self.log.append(f"$ {' '.join(argv)} -> {done.returncode}")
        self.log.extend((done.stdout + done.stderr).splitlines()[-20:])
        if check and done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise SandboxError(f"{' '.join(argv)} failed ({done.returncode}): {' / '.join(tail)}")
        return done

    def make(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run(["make", "--no-print-directory", *args], check=check)

    def _build(self, version: str, env: dict[str, str]) -> None:
        """Make the image `<web_image>:<version>` with `env` baked in."""
        raise NotImplementedError

    def _prepare(self) -> None:
        """Whatever the runtime needs before the first deploy."""

    def restart_counts(self) -> dict[str, int]:
        """Restarts so far of each sandbox container that exists."""
        raise NotImplementedError

    def up(self) -> None:
        """Image v1 (good) built, v1 deployed behind the sandbox's own proxy."""
        for directory in (self.directory, self.state_dir, self.history_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._prepare()
        self._build("v1", {})
        self.make("deploy", "VERSION=v1")

    def inject(self, scenario: Scenario) -> None:
        """Put the scenario's fault live the way it happens for real: a deploy or a config push."""
        if scenario.fault == "bad-deploy":
            self._build("v2", scenario.image_env)
            self.make("deploy", "VERSION=v2")
            return
        prod = json.loads((self.repo_root / "deploy" / "config" / "prod.json").read_text())
        prod["drills"] = {**prod.get("drills", {}), **scenario.config_drills}
        pushed = self.directory / "pushed-config.json"
        pushed.write_text(json.dumps(prod, indent=2) + "\n")
        # The script's own health check fails for a readiness fault; the push still applies.
        self._run(
            ["bash", "deploy/update-config.sh", "prod"],
            env={"CONFIG_FILE": str(pushed)},
            check=scenario.symptom != "ready",
        )

    def down(self) -> None:
        """Remove the sandbox's containers and its state (subclasses: images, engine)."""
        self.make("down", check=False)


@dataclass
class DockerSandbox(BlueGreenSandbox):
    """The sandbox as containers on the real Docker engine."""

    kind = "docker"

    def _image_exists(self, image: str) -> bool:
        return self._run(["docker", "image", "inspect", image], check=False).returncode == 0

    def base_image(self) -> str:
        """The drill base image for the current service sources, built once."""
        tag = f"{BASE_REPOSITORY}:{sources_hash(self.repo_root)}"
        if not self._image_exists(tag):
            self._run(
                ["make", "--no-print-directory", "build", f"VERSION={tag.split(':')[1]}"],
                env={"WEB_IMAGE": BASE_REPOSITORY},
                timeout_s=900,
            )
        return tag

    def _prepare(self) -> None:
        self.base_image()
        self.make("build-proxy")

    def _build(self, version: str, env: dict[str, str]) -> None:
        dockerfile = "\n".join(
            [
                f"FROM {self.base_image()}",
                f'LABEL org.opencontainers.image.version="{version}" drill.id="{self.drill_id}"',
                f"ENV APP_VERSION={version}",
                *(f"ENV {key}={value}" for key, value in env.items()),
                "",
            ]
        )
        self._run(
            ["docker", "build", "--quiet", "-t", f"{self.web_image}:{version}", "-"],
            stdin=dockerfile,
            env={"DOCKER_BUILDKIT": "0"},
        )

    def restart_counts(self) -> dict[str, int]:
        # One `docker inspect` for the three (the drill polls every second): it prints the
        # containers that exist and fails only for the others.
        done = self._run(
            ["docker", "inspect", "-f", "{{.Name}} {{.RestartCount}}", *self.names()],
            check=False,
            timeout_s=5,
        )
        counts = {}
        for line in done.stdout.splitlines():
            name, _, count = line.strip().lstrip("/").partition(" ")
            if name in self.names() and count.isdigit():
                counts[name] = int(count)
        return counts

    def down(self) -> None:
        """Remove the sandbox's containers, its image tags and its state."""
        super().down()
        for name in self.names():
            self._run(["docker", "rm", "-f", name], check=False)
        listed = self._run(
            ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", self.web_image],
            check=False,
        )
        tags = [line for line in listed.stdout.split() if line.startswith(self.web_image + ":")]
        if tags:
            self._run(["docker", "rmi", "--no-prune", *tags], check=False)


@dataclass
class ProcessSandbox(BlueGreenSandbox):
    """The sandbox as local processes, owned by the drill's own engine (no Docker needed)."""

    python: str = sys.executable
    """Runs the engine, the proxy and the service (it needs prometheus_client)."""

    kind = "local"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._engine: subprocess.Popen[bytes] | None = None

    @property
    def engine_dir(self) -> Path:
        return self.directory / "engine"

    def env(self) -> dict[str, str]:
        return {
            **super().env(),
            "DEPLOY_RUNTIME": "local",
            "LOCAL_ENGINE_DIR": str(self.engine_dir),
            "PYTHON": self.python,
        }

    def _procd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [self.python, str(self.repo_root / ENGINE), "--root", str(self.engine_dir)]
        return self._run([*argv, *args], check=check, timeout_s=60)

    def _prepare(self) -> None:
        """Start the drill's engine; it ends with the console (parent-death signal) or `down`."""
        from runbook.drills.embedded import _spawn

        self.engine_dir.mkdir(parents=True, exist_ok=True)
        with (self.engine_dir / "engine.log").open("ab") as log:
            self._engine = _spawn(
                [
                    self.python,
                    str(self.repo_root / ENGINE),
                    "--root",
                    str(self.engine_dir),
                    "serve",
                    "--foreground",
                ],
                cwd=self.repo_root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        for _ in range(200):
            if self._procd("ping", check=False).returncode == 0:
                break
            if self._engine.poll() is not None:
                break
            time.sleep(0.05)
        else:
            raise SandboxError(f"the local engine did not answer; see {self.engine_dir}")
        if self._engine.poll() is not None:
            raise SandboxError(f"the local engine exited; see {self.engine_dir / 'engine.log'}")
        self.make("build-proxy")

    def _build(self, version: str, env: dict[str, str]) -> None:
        pairs = [f"{key}={value}" for key, value in env.items()]
        self._run(["bash", "deploy/local-build.sh", version, *pairs])

    def restart_counts(self) -> dict[str, int]:
        # The engine's own record of each container (`procd.py inspect NAME --format restarts`
        # prints the same field), read here: the drill polls every second, and a CLI process
        # per container and poll was most of a local drill's CPU.
        counts = {}
        for name in self.names():
            try:
                state = json.loads(
                    (self.engine_dir / "containers" / name / "state.json").read_text()
                )
            except (OSError, ValueError):
                continue
            restarts = state.get("restarts") if isinstance(state, dict) else None
            if isinstance(restarts, int):
                counts[name] = restarts
        return counts

    def down(self) -> None:
        """Remove the processes and state, then stop the engine (it stops what is left)."""
        engine, self._engine = self._engine, None
        if engine is None:
            return
        super().down()
        self._procd("shutdown", check=False)
        try:
            engine.wait(timeout=30)
        except subprocess.TimeoutExpired:
            engine.kill()
            engine.wait(timeout=5)


def open_sandbox(
    drill_id: str, repo_root: Path, directory: Path, runtime: Runtime = "auto"
) -> BlueGreenSandbox:
    """The sandbox for a drill: Docker when asked or when an engine answers, else processes.

    Raises:
        SandboxError: Docker was asked for and no engine answers (a drill never starts one).
    """
    if runtime == "local":
        return ProcessSandbox(drill_id, repo_root, directory)
    if engine_reachable():
        return DockerSandbox(drill_id, repo_root, directory)
    if runtime == "docker":
        host = os.environ.get("DOCKER_HOST") or "the local socket"
        raise SandboxError(
            f"no Docker engine answers at {host}; start one (make services) "
            "or drill as local processes (--runtime local)"
        )
    return ProcessSandbox(drill_id, repo_root, directory)


def leftover_sandboxes() -> tuple[list[str], list[str]]:
    """Containers and image tags of drill sandboxes still on the engine (names rbc-drill-*)."""
    containers = subprocess.run(
        ["docker", "ps", "-a", "--filter", "name=^rbc-drill-", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout.split()
    images = subprocess.run(
        ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout.split()
    drill_images = [
        i for i in images if i.startswith("rbc-drill-") and not i.startswith(BASE_REPOSITORY + ":")
    ]
    return [c for c in containers if c.startswith("rbc-drill-")], drill_images


def remove_leftovers(drills: Path, repo_root: Path) -> tuple[list[str], list[str]]:
    """Remove sandboxes a teardown did not finish (an engine outage, a killed console).

    Docker containers and image tags named rbc-drill-*, and local drill engines still
    running under `drills` (they stop their processes). Run it when no drill is running.
    """
    engines = []
    for engine_dir in sorted(drills.glob("*/engine")):
        argv = [sys.executable, str(repo_root / ENGINE), "--root", str(engine_dir)]
        if subprocess.run([*argv, "ping"], capture_output=True, timeout=10).returncode == 0:
            subprocess.run([*argv, "shutdown"], capture_output=True, timeout=60)
            engines.append(f"local engine {engine_dir}")
    if not engine_reachable():
        return engines, []
    containers, images = leftover_sandboxes()
    if containers:
        subprocess.run(["docker", "rm", "-f", *containers], capture_output=True, timeout=120)
    if images:
        subprocess.run(["docker", "rmi", "--no-prune", *images], capture_output=True, timeout=120)
    return engines + containers, images
