"""A one-node Docker Swarm on a private dockerd, for the tests (never on the shared engine).

`start_swarm(images)` starts a `PrivateEngine` (engines.py: its own `--data-root`,
`--exec-root`, `--pidfile` and unix socket, `--bridge=none --iptables=false
--ip-masq=false`), `docker save | docker load`s the given images from the shared engine into
it, and runs `docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:PORT`.

Services on it use the host network only (`--network host`, or the external network "host"
in a stack file), so the routing mesh is removed at once: its ingress network would make
the engine create the `docker_gwbridge` bridge on the host. `stop()` removes the services
and stacks, leaves the swarm (`--force`), removes what the swarm left behind and stops the
engine by PID.

    swarm = start_swarm(["monkeytown-web:v1"])
    swarm.docker("service", "ls")          # `docker -H <its socket> service ls`
    swarm.env                              # os.environ with DOCKER_HOST set, for make & scripts
    swarm.stop()
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from engines import PrivateEngine

from runbook.drills.sandboxes import free_ports
from tests.waiting import wait_until


@dataclass
class SwarmEngine:
    """A private engine that is the manager (and only node) of its own swarm."""

    engine: PrivateEngine
    listen_port: int
    images: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The engine's unix socket, as DOCKER_HOST wants it."""
        return self.engine.url

    @property
    def env(self) -> dict[str, str]:
        """The process environment with DOCKER_HOST pointing at this swarm's engine."""
        return {**os.environ, "DOCKER_HOST": self.url}

    def docker(
        self, *args: str, check: bool = True, timeout: float = 120, answer: str = ""
    ) -> subprocess.CompletedProcess[str]:
        """`docker -H <this engine> ARGS` (`answer` is its stdin, for a prompt); raises with
        its stderr when `check` and it fails."""
        result = subprocess.run(
            ["docker", "-H", self.url, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            input=answer,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}"
            )
        return result

    def node_state(self) -> str:
        """The engine's swarm state: "active", "inactive", "pending"..."""
        info = self.docker("info", "--format", "{{.Swarm.LocalNodeState}}", check=False)
        return info.stdout.strip()

    def init(self) -> None:
        self.docker(
            "swarm", "init", "--advertise-addr", "127.0.0.1",
            "--listen-addr", f"127.0.0.1:{self.listen_port}",
        )  # fmt: skip
        wait_until(lambda: self.node_state() == "active", 30, "the swarm node is active")
        # No routing mesh: without iptables it cannot work, and its ingress network would
        # have the engine create a bridge (docker_gwbridge) on the host.
        wait_until(self._ingress_removed, 30, "the ingress network is removed")
        self._remove_gateway_bridge()

    def _ingress_removed(self) -> bool:
        names = self.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
        if "ingress" not in names:
            return True
        self.docker("network", "rm", "ingress", check=False, answer="y\n")
        return False

    def _remove_gateway_bridge(self) -> None:
        self.docker("network", "rm", "docker_gwbridge", check=False)

    def load_image(self, image: str) -> None:
        """`docker save IMAGE | docker load` from the shared engine into this one."""
        self.engine.load_image(image)
        self.images = (*self.images, image)

    def remove_services(self) -> None:
        """Every stack, service and config on this swarm, and the tasks' containers."""
        stacks = self.docker("stack", "ls", "--format", "{{.Name}}", check=False).stdout.split()
        if stacks:
            self.docker("stack", "rm", *stacks, check=False)
        services = self.docker("service", "ls", "-q", check=False).stdout.split()
        if services:
            self.docker("service", "rm", *services, check=False)
        wait_until(self._no_task_containers, 60, "the services' containers are gone")
        configs = self.docker("config", "ls", "-q", check=False).stdout.split()
        if configs:
            self.docker("config", "rm", *configs, check=False)

    def _no_task_containers(self) -> bool:
        listed = self.docker(
            "ps", "-aq", "--filter", "label=com.docker.swarm.service.id", check=False
        )
        return listed.returncode == 0 and not listed.stdout.split()

    def stop(self) -> None:
        """Remove the services, leave the swarm, stop the engine by PID; never raises."""
        if self.engine.process is not None:
            with contextlib.suppress(Exception):
                self.engine.resume()  # a stalled engine answers nothing
                self.remove_services()
            with contextlib.suppress(Exception):
                self.docker("swarm", "leave", "--force", check=False, timeout=60)
            with contextlib.suppress(Exception):
                self._remove_gateway_bridge()
        self.engine.stop()


def start_swarm(images: Sequence[str] = (), name: str = "swarm") -> SwarmEngine:
    """A private engine with `images` loaded and a one-node swarm initialised on it.

    Stops the engine again when any step fails."""
    swarm = SwarmEngine(PrivateEngine(name), listen_port=free_ports(1)[0])
    try:
        swarm.engine.start()
        for image in images:
            swarm.load_image(image)
        swarm.init()
    except BaseException:
        swarm.stop()
        raise
    return swarm
