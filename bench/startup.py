"""Time to first frame and bytes written to the terminal, console beside a bare Textual app.

Runs each app in a pseudo-terminal of a fixed size and reads everything it writes:

- first byte: when the app wrote its first byte;
- first frame: when the first frame's text reached the terminal (a marker the app
  draws: the bare app's label, the console's navigator title);
- start bytes: everything written from launch until output settles (no byte for
  --quiet-ms after the first frame);
- idle: bytes written over the next --idle seconds, with the largest one-second count
  (the console's clock ticks once a minute, so idle should be about 0 B/s).

A file the console refuses (over 8 MB, or a line over 100,000 bytes) is timed to the exit
and its one-line message. Huge inputs to try: `bench/parse.py --write DIR` writes them.

Usage: .venv/bin/python bench/startup.py [RUNBOOK] [--size 80x24] [--idle 10] [--runs 3]
       .venv/bin/python bench/startup.py --huge [--runs 3]
Prints figures; asserts nothing.

`--huge` on the shared 2-core box, 4 December, load 6-10 (other sessions' tests running),
three runs each, the commit before the fence was read by searching the text against after
(more in docs/schema.md, "Size limits"): the 100,000-line fence's first frame at 2.91-3.97 s
wall, 0.84-0.93 s CPU before; 1.38-1.63 s wall, 0.64 s CPU after, as much CPU as a 9-line
runbook's (0.67-0.68 s) and 0.4 s more than a bare Textual app's (0.21-0.26 s). Those runs
compiled the console's modules at each launch (see `compiled`); with its bytecode, at load
3.6: the fence's first frame at 0.74-1.05 s wall, 0.63-0.69 s CPU before; 0.57-0.69 s wall,
0.50-0.53 s CPU after (a 9-line runbook 0.50-0.55 s CPU, a bare app 0.20-0.23 s).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Header, Label

class Bare(App):
    def compose(self):
        yield Header()
        yield Label("bare textual app")
        yield Footer()

Bare().run()
"""


LAUNCH_ONLY = "import sys; from console.launch import launch; sys.exit(launch(sys.argv[1:]))"


@dataclass
class Measurement:
    first_byte_s: float = 0.0
    first_frame_s: float = 0.0
    start_bytes: int = 0
    idle_bytes: int = 0
    idle_peak_per_s: int = 0
    idle_seconds: dict[int, int] = field(default_factory=dict)
    first_frame_cpu_s: float = 0.0
    """CPU time the app had used when its first frame arrived: steadier than wall time on
    a busy machine (it leaves out the time other processes had the CPU)."""
    refused_s: float = 0.0
    """When the app exited without drawing a frame (a refused file), and what it said."""
    refused_with: str = ""


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process, from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_in_pty(
    argv: list[str],
    marker: bytes,
    size: tuple[int, int],
    idle_s: float,
    quiet_ms: int,
    env: dict[str, str],
) -> Measurement:
    columns, rows = size
    pid, fd = pty.fork()
    if pid == 0:  # child: become the app
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    os.kill(pid, signal.SIGWINCH)
    started = time.monotonic()
    result = Measurement()
    last_byte = None
    phase = "start"
    idle_started = 0.0
    seen = b""
    try:
        while True:
            now = time.monotonic()
            if (
                phase == "start"
                and result.first_frame_s
                and last_byte is not None
                and now - last_byte > quiet_ms / 1000
            ):
                phase, idle_started = "idle", last_byte
            if phase == "idle" and now - idle_started >= idle_s:
                break
            if now - started > 30:
                raise RuntimeError(f"{argv} drew nothing within 30 s")
            ready, _, _ = select.select([fd], [], [], 0.01)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                if not result.first_frame_s:
                    result.refused_s = time.monotonic() - started
                    lines = seen.decode(errors="replace").strip().splitlines()
                    result.refused_with = lines[-1] if lines else ""
                break
            now = time.monotonic()
            if phase == "start":
                if last_byte is None:
                    result.first_byte_s = now - started
                result.start_bytes += len(chunk)
                last_byte = now
                if not result.first_frame_s:
                    seen = (seen + chunk)[-65536:]
                    if marker in seen:
                        result.first_frame_s = now - started
                        result.first_frame_cpu_s = cpu_seconds(pid)
            else:
                result.idle_bytes += len(chunk)
                second = int(now - idle_started)
                result.idle_seconds[second] = result.idle_seconds.get(second, 0) + len(chunk)
    finally:
        os.write(fd, b"\x11")  # ctrl+q
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            select.select([fd], [], [], 0.05)
            with contextlib.suppress(OSError):
                os.read(fd, 65536)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    result.idle_peak_per_s = max(result.idle_seconds.values(), default=0)
    return result


def summarise(name: str, runs: list[Measurement], idle_s: float) -> None:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    if all(m.refused_s for m in runs):
        refused = median([m.refused_s for m in runs])
        print(f"{name:<12} refused in {refused * 1000:7.0f} ms: {runs[-1].refused_with}")
        return
    frame = median([m.first_frame_s for m in runs])
    frame_cpu = median([m.first_frame_cpu_s for m in runs])
    first = median([m.first_byte_s for m in runs])
    start_bytes = median([m.start_bytes for m in runs])
    idle = median([m.idle_bytes for m in runs])
    peak = max(m.idle_peak_per_s for m in runs)
    print(
        f"{name:<12} first byte {first * 1000:7.0f} ms   first frame {frame * 1000:7.0f} ms "
        f"(cpu {frame_cpu * 1000:5.0f} ms)   "
        f"start {start_bytes / 1024:7.1f} KiB   idle {idle / idle_s:8.1f} B/s "
        f"(peak {peak} B in one second)"
    )


def python_path() -> str:
    python = str(REPO / ".venv" / "bin" / "python")
    return python if Path(python).exists() else sys.executable


def app_environment(home: str) -> dict[str, str]:
    """The environment an app runs in: a fresh state and config home, no TEXTUAL flags, and
    the console's modules compiled once, as an installed console's are (see `compiled`)."""
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "XDG_STATE_HOME": f"{home}/state",
        "XDG_CONFIG_HOME": f"{home}/config",
        "RUNBOOK_STATE_DIR": f"{home}/state/runbook-console",
        "PYTHONPATH": str(REPO),
    }
    env.pop("TEXTUAL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    compiled(env)
    return env


def compiled(env: dict[str, str]) -> None:
    """Compile the console's modules to bytecode (`__pycache__`, ignored by git), as an
    installed console's are.

    Textual and the other installed packages come with their bytecode; the console's own
    modules, run from this checkout, are compiled on import unless `__pycache__` holds
    them, and a shell with PYTHONDONTWRITEBYTECODE set (as some sandboxes have) compiled
    every one at every launch: about 0.1 s of CPU before the first frame that no installed
    console pays (4 December: a 9-line runbook's first frame 0.49-0.55 s CPU with the
    bytecode, 0.57-0.66 s without).
    """
    command = [
        python_path(),
        "-m",
        "compileall",
        "-q",
        str(REPO / "console"),
        str(REPO / "runbook"),
    ]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


def huge_inputs(args: argparse.Namespace, size: tuple[int, int]) -> int:
    """First frame (or refusal) of each huge input `bench/parse.py --write` makes."""
    python = python_path()
    with tempfile.TemporaryDirectory() as home:
        env = app_environment(home)
        subprocess.run([python, str(REPO / "bench" / "parse.py"), "--write", home], check=True)
        print(f"terminal {size[0]}x{size[1]}, {args.runs} run(s) each, no live panes")
        cases = [("bare", [python, "-c", BARE_APP], b"bare textual app")]
        for name in ("huge-fence", "longest-line", "five-mb-line"):
            argv = [python, "-m", "console.cli", f"{home}/{name}.md", "--no-resume", "--no-live"]
            cases.append((name, argv, b"Procedures"))
        for name, argv, marker in cases:
            runs = [
                run_in_pty(argv, marker, size, 0.5, args.quiet_ms, env) for _ in range(args.runs)
            ]
            summarise(name, runs, 0.5)
    print("target: the first frame of each within 1 s (wall), or a one-line refusal")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runbook", nargs="?", default=str(REPO / "tests/fixtures/seed_runbook.md"))
    parser.add_argument("--size", default="80x24")
    parser.add_argument("--idle", type=float, default=10.0, help="idle seconds to watch")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--quiet-ms", type=int, default=500, help="silence after the first frame that ends start-up"
    )
    parser.add_argument(
        "--huge",
        action="store_true",
        help="time the huge inputs of bench/parse.py (100,000-line fence, longest line, "
        "5 MB line) beside the bare app, without live panes; target: first frame within 1 s",
    )
    args = parser.parse_args()
    columns, rows = (int(part) for part in args.size.split("x"))
    if args.huge:
        return huge_inputs(args, (columns, rows))
    python = python_path()
    with tempfile.TemporaryDirectory() as home:
        env = app_environment(home)
        apps = {
            "bare": ([python, "-c", BARE_APP], b"bare textual app"),
            "console": ([python, "-m", "console.cli", args.runbook, "--no-resume"], b"Procedures"),
            # Without the live panes (Docker, Prometheus, health polls write as they update).
            "no-live": (
                [python, "-m", "console.cli", args.runbook, "--no-resume", "--no-live"],
                b"Procedures",
            ),
            # Without the CLI's subcommand dispatch either, to show what that costs.
            "launch": (
                [python, "-c", LAUNCH_ONLY, args.runbook, "--no-resume", "--no-live"],
                b"Procedures",
            ),
        }
        print(f"terminal {columns}x{rows}, {args.runs} run(s) each, idle {args.idle:.0f} s")
        results: dict[str, list[Measurement]] = {}
        for name, (argv, marker) in apps.items():
            results[name] = [
                run_in_pty(argv, marker, (columns, rows), args.idle, args.quiet_ms, env)
                for _ in range(args.runs)
            ]
            summarise(name, results[name], args.idle)
        floor = statistics.median([m.first_frame_s for m in results["bare"]])
        for name in ("console", "no-live", "launch"):
            if any(m.refused_s for m in results[name]):
                continue
            gap = statistics.median([m.first_frame_s for m in results[name]]) - floor
            print(
                f"{name} first frame is {gap * 1000:+.0f} ms from the bare floor (target ≤ +150 ms)"
            )
        for name, runs in results.items():
            seconds = runs[-1].idle_seconds
            if seconds:
                shown = ", ".join(f"s{second}:{count}" for second, count in sorted(seconds.items()))
                print(f"{name} idle bytes per second (last run): {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
