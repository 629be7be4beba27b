"""The whole live dock at 120x40: 20 idle containers, health of a local reference service,
and gauges (fallback: docker stats, the service's /metrics, disk): bytes/s written to the
terminal and CPU over 30 s.

    .venv/bin/python bench/dashboard.py

Target (issue 5): under 8 KB/s to the terminal. Printed, not asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_common import (  # noqa: E402
    REPO,
    app_in_pty,
    drain,
    measure,
    remove_containers,
    start_containers,
)

WINDOW_S = float(os.environ.get("BENCH_WINDOW_S", "30"))


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    prefix = f"rbc-bench-dash-{os.getpid()}"
    port = free_port()
    service = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "deploy" / "service" / "app.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        start_containers(20, "sleep 3600", prefix)
        report = Path(tempfile.mkdtemp()) / "report.json"
        config = {
            "prefix": prefix,
            "count": 20,
            "report": str(report),
            "base_url": f"http://127.0.0.1:{port}",
        }
        with app_in_pty("dashboard", 120, 40, config) as (pid, master):
            drain(master, 5)  # start-up, first fill
            bytes_per_s, app_cpu, dockerd_cpu = measure(pid, master, WINDOW_S)
        dockerd = f"{dockerd_cpu:.1f} %" if dockerd_cpu is not None else "n/a"
        print(
            f"dashboard 120x40, 20 containers + health + gauges over {WINDOW_S:.0f} s: "
            f"terminal {bytes_per_s / 1024:.2f} KB/s (target < 8 KB/s), "
            f"console {app_cpu:.1f} % of a core, dockerd {dockerd}",
            flush=True,
        )
    finally:
        remove_containers(prefix)
        service.terminate()
        service.wait(5)


if __name__ == "__main__":
    main()
