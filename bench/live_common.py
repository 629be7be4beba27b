"""Shared pieces of the live-pane benches: containers, CPU readings, an app in a real pty.

The app under measurement runs in a child process on a pseudo-terminal with Textual's
real driver, so "bytes to the terminal" are the bytes it actually writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from fcntl import ioctl
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LABEL = "rbc-bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def image() -> str:
    import docker

    client = docker.from_env()
    for candidate in ("runbook-base:bookworm", "rbc-live-busybox:test"):
        try:
            client.images.get(candidate)
            return candidate
        except docker.errors.ImageNotFound:
            continue
    raise SystemExit("no test image: run scripts/base-image.sh or the integration tests first")


def start_containers(
    count: int, script: str, prefix: str, environment: dict[str, str] | None = None
) -> list[str]:
    """`count` host-network containers running `sh -c script`; returns their names."""
    import docker

    client = docker.from_env()
    names = []
    for number in range(count):
        name = f"{prefix}-{number:03d}"
        client.containers.run(
            image(),
            ["sh", "-c", script],
            name=name,
            labels={LABEL: prefix},
            network_mode="host",
            detach=True,
            environment=environment or {},
        )
        names.append(name)
    return names


def remove_containers(prefix: str) -> None:
    import docker

    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}={prefix}"}):
        with contextlib.suppress(Exception):
            container.remove(force=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (children not included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def dockerd_pid() -> int | None:
    for candidate in ("/var/run/docker.pid", "/run/docker.pid"):
        with contextlib.suppress(OSError, ValueError):
            return int(Path(candidate).read_text().strip())
    found = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


@contextlib.contextmanager
def app_in_pty(
    mode: str, columns: int, rows: int, config: dict[str, object]
) -> Iterator[tuple[int, int]]:
    """Run `bench/live_app.py mode` in a pty of this size; yields (pid, master fd)."""
    pid, master = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLORTERM"] = "truecolor"
        os.execv(
            sys.executable,
            [sys.executable, str(REPO / "bench" / "live_app.py"), mode, json.dumps(config)],
        )
    ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    try:
        yield pid, master
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            drain(master, 0.05)
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished:
                break
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(master)


def drain(master: int, seconds: float) -> int:
    """Read whatever the app writes for `seconds`; returns the byte count."""
    total = 0
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([master], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        total += len(chunk)
    return total


def measure(pid: int, master: int, seconds: float) -> tuple[float, float, float | None]:
    """(terminal bytes/s, app CPU % of a core, dockerd CPU % of a core) over `seconds`."""
    docker_pid = dockerd_pid()
    app_before = cpu_seconds(pid)
    dockerd_before = cpu_seconds(docker_pid) if docker_pid else 0.0
    started = time.monotonic()
    written = drain(master, seconds)
    elapsed = time.monotonic() - started
    app_cpu = 100 * (cpu_seconds(pid) - app_before) / elapsed
    dockerd_cpu = 100 * (cpu_seconds(docker_pid) - dockerd_before) / elapsed if docker_pid else None
    return written / elapsed, app_cpu, dockerd_cpu
