"""Helpers for the live-pane tests: engine check, a socket proxy we can break, test images,
the reference service as a local process and a throwaway Prometheus.

Every container uses host networking; nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker

from tests.required import unavailable
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
DOCKER_SOCKET = "/var/run/docker.sock"
LABEL = "rbc-live-test"
BUSYBOX_IMAGE = "rbc-live-busybox:test"


def require_engine() -> docker.DockerClient:
    """The real engine, or skip (fail when RUNBOOK_REQUIRE_SERVICES=1)."""
    try:
        client = docker.DockerClient(base_url=f"unix://{DOCKER_SOCKET}", timeout=10)
        client.ping()
        return client
    except Exception as error:  # noqa: BLE001
        unavailable(f"Docker engine not reachable at {DOCKER_SOCKET}: {error}")


def require_prometheus() -> str:
    path = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(path).exists():
        unavailable("prometheus is not installed (bash scripts/services.sh installs it)")
    return path


def live_image(client: docker.DockerClient) -> str:
    """runbook-base:bookworm when present, else a FROM scratch image with static busybox."""
    try:
        client.images.get("runbook-base:bookworm")
        return "runbook-base:bookworm"
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.get(BUSYBOX_IMAGE)
        return BUSYBOX_IMAGE
    except docker.errors.ImageNotFound:
        pass
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        unavailable("no runbook-base image and no /bin/busybox (apt-get install busybox-static)")
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "bin").mkdir()
        shutil.copy2(busybox, Path(context) / "bin" / "busybox")
        for tool in ("sh", "sleep", "echo", "true", "seq", "yes", "cat"):
            (Path(context) / "bin" / tool).symlink_to("busybox")
        (Path(context) / "Dockerfile").write_text('FROM scratch\nCOPY bin /bin\nCMD ["sh"]\n')
        client.images.build(path=context, tag=BUSYBOX_IMAGE, network_mode="host", rm=True)
    return BUSYBOX_IMAGE


def run_container(client: docker.DockerClient, token: str, script: str, **kwargs: Any) -> Any:
    """A labelled container on the host network running `sh -c script`."""
    return client.containers.run(
        live_image(client),
        ["sh", "-c", script],
        name=f"rbc-live-{token}-{os.urandom(3).hex()}",
        labels={LABEL: token},
        network_mode="host",
        detach=True,
        **kwargs,
    )


def remove_labelled(client: docker.DockerClient, token: str) -> None:
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}={token}"}):
        with contextlib.suppress(Exception):
            container.remove(force=True)


class SocketProxy:
    """A unix-socket proxy in front of dockerd that tests can stop, kill or hang.

    - `stop()`: the socket disappears and every connection is cut (engine stopped/killed).
    - `start()`: listening again (engine back).
    - `cut()`: cut every open connection but keep listening (daemon restarted quickly).
    - `hang()`: connections stay open but nothing is forwarded any more (daemon hung);
      `start()` after `hang()` drops the hung connections and forwards again.
    - `stall_open()`: the connections open now stop forwarding, new ones work (one stream
      stalls while the daemon still answers).
    """

    def __init__(self, target: str = DOCKER_SOCKET) -> None:
        self.target = target
        self.directory = tempfile.mkdtemp(prefix="rbc-proxy-", dir="/tmp")
        self.path = os.path.join(self.directory, "docker.sock")
        self.url = f"unix://{self.path}"
        self.hung = False
        self.swallowed = 0
        """Chunks from either side dropped while hung or stalled."""
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._stalled: set[int] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        self.hung = False
        self.cut()
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        listener.bind(self.path)
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self, keep_socket_file: bool = False) -> None:
        """Engine stopped (socket gone) or, with `keep_socket_file`, killed (connections
        refused on a socket file nobody listens on any more)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if not keep_socket_file:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        self.cut()

    def hang(self) -> None:
        self.hung = True

    def stall_open(self) -> None:
        with self._lock:
            self._stalled = {id(connection) for connection in self._connections}

    def cut(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.append(client)
            if self.hung:
                continue  # accepted, never answered
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self.hung or id(source) in self._stalled:
                    self.swallowed += 1  # a hung daemon answers nothing
                while self.hung or id(source) in self._stalled:
                    time.sleep(0.05)
                    data = b""
                if data:
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(port: int, **env: str) -> subprocess.Popen[bytes]:
    """The reference service as a local process on 127.0.0.1:port, ready when /health answers."""
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "deploy" / "service" / "app.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/health"), 10, "the service answers")
    return process


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.contextmanager
def prometheus(targets: list[str], workdir: Path) -> Iterator[str]:
    """A real Prometheus on 127.0.0.1:<free port> scraping `targets` every second."""
    binary = require_prometheus()
    port = free_port()
    config = workdir / "prometheus.yml"
    quoted = ", ".join(f'"{target}"' for target in targets)
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"scrape_configs:\n  - job_name: web\n    static_configs:\n      - targets: [{quoted}]\n"
    )
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/-/ready"), 30, "prometheus is ready", interval=0.1)
        yield url
    finally:
        process.kill()
        process.wait(10)


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers (a hung server)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.port = int(self.socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()
