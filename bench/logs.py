"""Logs pane following a container that prints 1,000 lines/s for 30 s: console CPU and
bytes/s written to the terminal, and whether the view follows the newest line.

    .venv/bin/python bench/logs.py

Targets (issue 5): under 3 % CPU and 40 KB/s. Printed, not asserted.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_common import app_in_pty, drain, image, measure, remove_containers, start_containers  # noqa: E402

WINDOW_S = float(os.environ.get("BENCH_WINDOW_S", "30"))
PRINTER = (
    "import sys, time\n"
    "n = 0\n"
    "start = time.monotonic()\n"
    "while True:\n"
    "    n += 1\n"
    "    sys.stdout.write(f'GET /api/items/{n} 200 {n % 97} ms request line number {n}\\n')\n"
    "    sys.stdout.flush()\n"
    "    delay = start + n / 1000 - time.monotonic()\n"
    "    if delay > 0:\n"
    "        time.sleep(delay)\n"
)


def main() -> None:
    prefix = f"rbc-bench-logs-{os.getpid()}"
    if image() != "runbook-base:bookworm":
        raise SystemExit("bench/logs.py needs runbook-base:bookworm (python3 inside)")
    try:
        names = start_containers(1, 'exec python3 -c "$PRINTER"', prefix, {"PRINTER": PRINTER})
        report = Path(tempfile.mkdtemp()) / "follow.json"
        config = {"container": names[0], "report": str(report)}
        with app_in_pty("logs", 120, 40, config) as (pid, master):
            drain(master, 3)  # start-up and the first screen are not the steady state
            bytes_per_s, app_cpu, _ = measure(pid, master, WINDOW_S)
            follow = json.loads(report.read_text()) if report.exists() else {}
        print(
            f"1,000 lines/s for {WINDOW_S:.0f} s at 120x40: console {app_cpu:.1f} % of a core, "
            f"terminal {bytes_per_s / 1024:.1f} KB/s (targets: < 3 %, < 40 KB/s); "
            f"view at the newest line: {follow.get('at_end')} "
            f"(last shown: {str(follow.get('last_line', ''))[:60]!r})",
            flush=True,
        )
    finally:
        remove_containers(prefix)


if __name__ == "__main__":
    main()
