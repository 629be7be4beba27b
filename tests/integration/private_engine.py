"""A private `dockerd` for tests that freeze or flood an engine: never the shared one.

It has its own `--data-root`, `--exec-root`, `--pidfile` and unix socket in a directory of
its own under /tmp, runs with `--bridge=none --iptables=false --ip-masq=false` (host
networking only) and is stopped by its PID. The shared engine is only read from, to
`docker save` the test image that the private engine then `docker load`s.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker

from tests.required import unavailable
from tests.waiting import wait_until

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"


class PrivateEngine:
    """One extra dockerd on a unix socket; `freeze()`/`thaw()` are SIGSTOP/SIGCONT to it."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="rbc-typing-eng-", dir="/tmp"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.root}/docker.sock"

    def start(self, timeout_s: float = 90.0) -> None:
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
                "-H",
                self.url,
                "--bridge=none",
                "--iptables=false",
                "--ip-masq=false",
                "--shutdown-timeout=2",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_until(self._answers, timeout_s, f"the private engine answers at {self.url}")

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            tail = (self.root / "dockerd.log").read_text(errors="replace")[-2000:]
            raise AssertionError(f"the private dockerd exited: {tail}")
        try:
            return bool(self.client(timeout=2).ping())
        except Exception:  # noqa: BLE001 - not listening yet
            return False

    def client(self, timeout: int = 30) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, timeout=timeout)

    def load_image(self, image: str) -> None:
        """`docker save IMAGE | docker -H URL load`."""
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
            raise AssertionError(f"loading {image}: {loaded.stderr.decode(errors='replace')}")

    def freeze(self) -> None:
        """The daemon hangs: it keeps its sockets and answers nothing."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Remove its containers, stop it by PID and delete its roots; never raises."""
        process, self.process = self.process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)  # a frozen daemon must hear SIGTERM
            with contextlib.suppress(Exception):
                for container in self.client(timeout=10).containers.list(all=True):
                    container.remove(force=True)
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        mounts = Path("/proc/mounts").read_text().splitlines()
        inside = [line.split()[1] for line in mounts if line.split()[1].startswith(str(self.root))]
        for mount_point in sorted(inside, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount_point], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_engine(image: str) -> Iterator[PrivateEngine]:
    """A started private engine holding `image`, stopped afterwards (skips without root)."""
    if not Path(DOCKERD).exists():
        unavailable("dockerd is not installed (bash scripts/services.sh installs it)")
    if os.geteuid() != 0:
        unavailable("a private Docker engine needs root (dockerd, mounts)")
    engine = PrivateEngine()
    try:
        engine.start()
        engine.load_image(image)
        yield engine
    finally:
        engine.stop()
