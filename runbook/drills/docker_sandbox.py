"""A blue-green sandbox of the reference service on the real Docker engine, for one drill.

Everything is its own: container names (`MONKEYTOWN_PREFIX=rbc-drill-<id>`),
loopback ports, image repository (`rbc-drill-<id>-web`, so its `current` and
`previous` tags are its own), state directory, deployment history and the
environment name the executor locks (`DRILL-<id>`). The runbook's commands
(`make deploy`, `make rollback`, `./deploy/update-config.sh prod`) run against it
unchanged, with those values in their environment.

Images: one base image `rbc-drill-base:<hash of the service sources>` is built with
`make build` on first use and kept; each drill derives `v1` and `v2` from it with a
two-line Dockerfile (no RUN, so nothing is downloaded and it takes a second).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from runbook.drills.scenarios import Scenario

BASE_REPOSITORY = "rbc-drill-base"
SERVICE_SOURCES = (
    "deploy/service/app.py",
    "deploy/service/service_config.py",
    "deploy/config/prod.json",
    "infrastructure/docker/Dockerfile.web",
)
CRASH_AFTER_S = 10
"""The bad version serves this long (past the deploy's smoke test), then crash-loops."""
_CRASH_CMD = (
    "if [ -e /tmp/.drill-started ]; then echo 'drill: crashing on start' >&2; exit 1; fi; "
    "touch /tmp/.drill-started; python3 /app/app.py & pid=$!; "
    f"sleep {CRASH_AFTER_S}; kill -9 $pid; echo 'drill: crashed' >&2; exit 1"
)


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
class DockerSandbox:
    """One drill's blue-green sandbox; `up`, then `inject`, and always `down`."""

    drill_id: str
    repo_root: Path
    directory: Path
    proxy_port: int = 0
    blue_port: int = 0
    green_port: int = 0
    log: list[str] = field(default_factory=list)
    """Every setup command and its output, for the drill record."""

    def __post_init__(self) -> None:
        if not self.proxy_port:
            self.proxy_port, self.blue_port, self.green_port = free_ports(3)
        self.prefix = f"rbc-drill-{self.drill_id}"
        self.web_image = f"rbc-drill-{self.drill_id}-web"
        self.environment = f"DRILL-{self.drill_id}"

    @property
    def kind(self) -> str:
        return "docker"

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
        import os

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

    def _derive(self, version: str, base: str, extra: list[str]) -> None:
        dockerfile = "\n".join(
            [
                f"FROM {base}",
                f'LABEL org.opencontainers.image.version="{version}" drill.id="{self.drill_id}"',
                f"ENV APP_VERSION={version}",
                *extra,
                "",
            ]
        )
        self._run(
            ["docker", "build", "--quiet", "-t", f"{self.web_image}:{version}", "-"],
            stdin=dockerfile,
            env={"DOCKER_BUILDKIT": "0"},
        )

    def up(self) -> None:
        """Images v1 (good) built, v1 deployed behind the sandbox's own proxy."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.history_dir.mkdir(parents=True, exist_ok=True)
        base = self.base_image()
        self.make("build-proxy")
        self._derive("v1", base, [])
        self.make("deploy", "VERSION=v1")

    def inject(self, scenario: Scenario) -> None:
        """Put the scenario's fault live the way it happens for real: a deploy or a config push."""
        base = self.base_image()
        if scenario.fault == "bad-deploy":
            self._derive("v2", base, [f"ENV {k}={v}" for k, v in scenario.image_env.items()])
            self.make("deploy", "VERSION=v2")
        elif scenario.fault == "crash-deploy":
            self._derive("v2", base, [f"CMD {json.dumps(['sh', '-c', _CRASH_CMD])}"])
            self.make("deploy", "VERSION=v2")
        else:
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
        """Remove the sandbox's containers, its image tags and its state."""
        self.make("down", check=False)
        for name in self.names():
            self._run(["docker", "rm", "-f", name], check=False)
        listed = self._run(
            ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", self.web_image],
            check=False,
        )
        tags = [line for line in listed.stdout.split() if line.startswith(self.web_image + ":")]
        if tags:
            self._run(["docker", "rmi", "--no-prune", *tags], check=False)


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


def remove_leftovers() -> tuple[list[str], list[str]]:
    """Remove what `leftover_sandboxes` finds (after an engine outage cut a teardown short).

    Only sandbox names are touched; run it when no drill is running.
    """
    containers, images = leftover_sandboxes()
    if containers:
        subprocess.run(["docker", "rm", "-f", *containers], capture_output=True, timeout=120)
    if images:
        subprocess.run(["docker", "rmi", "--no-prune", *images], capture_output=True, timeout=120)
    return containers, images
