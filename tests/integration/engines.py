"""Private Docker engines for the tests: extra `dockerd`s on loopback, stopped by PID.

Each engine has its own `--data-root`, `--exec-root`, `--pidfile` and unix socket under a
directory of its own in /tmp (one may also listen on `tcp://127.0.0.1:PORT`), and runs
with `--bridge=none --iptables=false --ip-masq=false`: no bridge, no firewall rules, host
networking only. The shared engine (/var/run/docker.sock) is only read from, to `docker
save` the test image that a private engine then `docker load`s.

Faults are signals to the engine's own PID: `stall()` (SIGSTOP) and `resume()` (SIGCONT)
for a daemon that hangs, `kill()` (SIGKILL) for one that dies; `start()` again after a
kill brings it back on the same roots.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

from runbook.drills.sandboxes import free_ports
from tests.required import unavailable
from tests.waiting import wait_until

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
LABEL = "rbc-engines-test"


@dataclass
class PrivateEngine:
    """One extra dockerd; `url` is its unix socket, `tcp_url` its loopback port if any."""

    name: str
    with_tcp: bool = False
    root: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="rbc-eng-", dir="/tmp"))
    )
    tcp_port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.root}/docker.sock"

    @property
    def tcp_url(self) -> str:
        if self.tcp_port is None:
            raise ValueError(f"engine {self.name} has no tcp listener")
        return f"tcp://127.0.0.1:{self.tcp_port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"engine {self.name} is not running")
        return self.process.pid

    def start(self, timeout_s: float = 90.0) -> None:
        """Start dockerd and wait until it answers."""
        if self.with_tcp and self.tcp_port is None:
            self.tcp_port = free_ports(1)[0]
        hosts = ["-H", self.url]
        if self.tcp_port is not None:
            hosts += ["-H", self.tcp_url]
        log = (self.root / "dockerd.log").open("ab")
        self.process = subprocess.Popen(
            [
                DOCKERD,
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.root / "docker.pid"),
                *hosts,
                "--bridge=none",
                "--iptables=false",
                "--ip-masq=false",
                "--shutdown-timeout=2",
            ],  # fmt: skip
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_until(self._answers, timeout_s, f"private engine {self.name} answers at {self.url}")

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            tail = (self.root / "dockerd.log").read_text(errors="replace")[-2000:]
            raise AssertionError(f"dockerd {self.name} exited: {tail}")
        try:
            return bool(self.client(timeout=2).ping())
        except Exception:  # noqa: BLE001 - not listening yet
            return False

    def client(self, timeout: int = 30) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, timeout=timeout)

    def load_image(self, image: str) -> None:
        """`docker save IMAGE | docker -H URL load`: the shared engine is only read."""
        saver = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        loaded = subprocess.run(
            ["docker", "-H", self.url, "load", "-q"],
            stdin=saver.stdout,
            capture_output=True,
            check=False,
        )
        if saver.stdout is not None:
            saver.stdout.close()
        if saver.wait() != 0 or loaded.returncode != 0:
            raise AssertionError(f"loading {image} into {self.name}: {loaded.stderr.decode()}")

    def run(self, image: str, name: str, script: str = "") -> Any:
        """A labelled host-network container; by default one that stops at once on TERM."""
        return self.client().containers.run(
            image,
            ["sh", "-c", script or 'trap "exit 0" TERM; sleep 3600 & wait'],
            name=name,
            labels={LABEL: self.name},
            network_mode="host",
            detach=True,
        )

    def revive(self) -> None:
        """Start again an engine that a test killed (its leftovers gone, its roots and
        loaded images kept); a running one is left as it is."""
        if self.process is not None and self.process.poll() is None:
            return
        self.process = None
        self._kill_leftovers()
        # The killed daemon's containerd may linger as an unreaped zombie whose PID still
        # "exists": dockerd would then wait on it instead of starting its own.
        (self.root / "exec" / "containerd" / "containerd.pid").unlink(missing_ok=True)
        self.start()

    def stall(self) -> None:
        """The daemon hangs: it keeps its sockets and answers nothing."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """The daemon dies at once (its containers keep running under their shims)."""
        process = self.process
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
        self.process = None

    def stop(self) -> None:
        """Remove its containers, stop it by PID, and delete its roots; never raises."""
        process = self.process
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)  # a stalled one must hear SIGTERM
            with contextlib.suppress(Exception):
                client = self.client(timeout=10)
                for container in client.containers.list(all=True):
                    container.remove(force=True)
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            self.process = None
        self._kill_leftovers()
        self._unmount()
        shutil.rmtree(self.root, ignore_errors=True)

    def _kill_leftovers(self) -> None:
        # After a SIGKILL the daemon's containers outlive it under their shims, which name
        # this engine's root; they and what runs under them are this engine's alone.
        owned = [pid for pid in _parents() if str(self.root) in _cmdline(pid)]
        for pid in reversed(family(owned)):  # what runs under a shim first, then the shim
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _unmount(self) -> None:
        mounts = Path("/proc/mounts").read_text().splitlines()
        inside = [line.split()[1] for line in mounts if line.split()[1].startswith(str(self.root))]
        for mount_point in sorted(inside, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount_point], capture_output=True, check=False)


def _parents() -> dict[int, int]:
    """Every process's parent, by PID."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(stat[1])
    return parents


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return ""


def family(pids: list[int]) -> list[int]:
    """These processes and all their descendants, parents before children."""
    parents = _parents()
    found: list[int] = []
    frontier = pids
    while frontier:
        found.extend(frontier)
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
    return found


def require_private_engines() -> None:
    """Skip (or fail where everything is required) without dockerd or root."""
    if not Path(DOCKERD).exists():
        unavailable("dockerd is not installed (bash scripts/services.sh installs it)")
    if os.geteuid() != 0:
        unavailable("private Docker engines need root (dockerd, mounts)")


@dataclass(frozen=True)
class PrivateEngines:
    """The session's extra engines and the image each has loaded."""

    image: str
    engines: tuple[PrivateEngine, ...]

    def revive(self) -> None:
        """Every engine up again: a test that killed one leaves it dead for the next."""
        for engine in self.engines:
            engine.revive()


def start_engines(image: str, names: list[str], tcp: set[str]) -> list[PrivateEngine]:
    """Start these engines and load `image` into each; stops the started ones on failure."""
    engines: list[PrivateEngine] = []
    try:
        for name in names:
            engine = PrivateEngine(name, with_tcp=name in tcp)
            engines.append(engine)
            engine.start()
            engine.load_image(image)
    except BaseException:
        for engine in engines:
            engine.stop()
        raise
    return engines
