"""Containers pane with N idle containers: time until every row has a CPU figure, console
and dockerd CPU over 30 s, beside `docker stats --no-stream` for the same N.

    .venv/bin/python bench/stats.py 10 50 100      (default: 10 50 100)

Targets (issue 5): 100 containers filled within 2.5 s; console and dockerd each under
5 % of a core. Figures are printed, not asserted. CPU % is of one core.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_common import (  # noqa: E402
    app_in_pty,
    cpu_seconds,
    dockerd_pid,
    drain,
    measure,
    remove_containers,
    start_containers,
)

WINDOW_S = float(os.environ.get("BENCH_WINDOW_S", "30"))


def docker_stats_no_stream(prefix: str) -> tuple[float, float | None]:
    """Seconds `docker stats --no-stream` takes for these containers, and dockerd CPU %."""
    pid = dockerd_pid()
    before = cpu_seconds(pid) if pid else 0.0
    started = time.monotonic()
    names = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=rbc-bench={prefix}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    subprocess.run(["docker", "stats", "--no-stream", *names], capture_output=True, check=False)
    elapsed = time.monotonic() - started
    return elapsed, (100 * (cpu_seconds(pid) - before) / elapsed if pid else None)


def bench(count: int) -> None:
    prefix = f"rbc-bench-stats-{os.getpid()}-{count}"
    try:
        start_containers(count, "sleep 3600", prefix)
        report = Path(tempfile.mkdtemp()) / "report.json"
        config = {"prefix": prefix, "count": count, "report": str(report)}
        with app_in_pty("stats", 160, count + 10, config) as (pid, master):
            deadline = time.monotonic() + 30
            while not report.exists() and time.monotonic() < deadline:
                drain(master, 0.05)
            figures = json.loads(report.read_text()) if report.exists() else {}
            filled = figures.get("filled_s")
            listed = figures.get("listed_s")
            bytes_per_s, app_cpu, dockerd_cpu = measure(pid, master, WINDOW_S)
        cli_s, cli_dockerd = docker_stats_no_stream(prefix)
        filled_text = (
            f"{filled:.2f} s (rows listed at {listed:.2f} s)"
            if filled is not None and listed is not None
            else "not within 30 s"
        )
        dockerd_text = f"{dockerd_cpu:.1f} %" if dockerd_cpu is not None else "n/a"
        cli_dockerd_text = f"{cli_dockerd:.1f} %" if cli_dockerd is not None else "n/a"
        print(
            f"N={count:>3}  every row has CPU after {filled_text}  "
            f"console {app_cpu:.1f} %  dockerd {dockerd_text} (over {WINDOW_S:.0f} s)  "
            f"terminal {bytes_per_s / 1024:.1f} KB/s  |  docker stats --no-stream: "
            f"{cli_s:.2f} s, dockerd {cli_dockerd_text} meanwhile",
            flush=True,
        )
    finally:
        remove_containers(prefix)


if __name__ == "__main__":
    for argument in sys.argv[1:] or ["10", "50", "100"]:
        bench(int(argument))
