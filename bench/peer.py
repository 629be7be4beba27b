"""The console beside `docker stats`, in one run, on the same engine and the same containers.

    .venv/bin/python bench/peer.py [--counts 20 100] [--window 10] [--rounds 2]

For each count (idle `sleep` containers, host networking, the offline test image,
removed at the end) both programs run in turn, each alone, under a real pseudo-terminal
of 200x60 (tests/integration/pty_terminal.py): `docker stats NAME...` for exactly those
containers, and the console (`python -m console.cli`, the project's runbook, its live
panes listing only those containers). Once a program shows figures, each window measures:

- the bytes per second it writes to the terminal;
- the engine's CPU while it runs: dockerd, its containerd, and the containerd shims of
  the measured containers (the shims read the cgroups for a stats request); dockerd is
  shared with everything else on the engine, so the same figure above an idle window's,
  and the shims' alone (they serve only these containers) are printed too;
- its own CPU (every process of its terminal session).

Rounds alternate the programs so that a machine loaded by others weighs on both alike;
an "engine idle" window with neither running shows the engine's floor. Then:

- fill: seconds from launch until every container row on the console's screen shows a
  CPU figure, beside how long `docker stats --no-stream` takes for all of them (a row a
  notification covers is not on screen: the console's gauges announce the error rate
  that the unanswering base URL gives, and that toast hides the bottom rows for 8 s);
- appear: seconds from `docker run` until a new container's row shows a CPU figure,
  beside `docker stats --no-stream` for that one container;
- first frame at 120x40, the console beside a bare Textual app (bench/startup.py),
  median of 3.

CPU % is of one core. Figures are printed, never asserted; the ratio is console over
`docker stats` (lower is better for every row).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "integration"))

from live_common import LABEL, cpu_seconds, dockerd_pid, image, remove_containers  # noqa: E402
from pty_terminal import PtyTerminal, session_processes  # noqa: E402
from startup import BARE_APP, run_in_pty  # noqa: E402

PYTHON = str(REPO / ".venv" / "bin" / "python")
SIZE = (200, 60)
FIRST_FRAME_SIZE = (120, 40)
FIGURE = re.compile(r"\d+(\.\d+)?%?")
FILL_TIMEOUT_S = 90.0


# --- processes and their CPU -------------------------------------------------------------


def _children_named(parent: int, prefix: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == parent and name.startswith(prefix):
                found.append(int(entry.name))
    return found


def _shims_of(container_ids: set[str]) -> list[int]:
    """The containerd shims of these containers (each names its container's id)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if not (entry / "comm").read_text().startswith("containerd-shim"):
                continue
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
            if "-id" in argv and argv[argv.index("-id") + 1] in container_ids:
                found.append(int(entry.name))
    return found


def engine_processes(container_ids: set[str]) -> tuple[list[int], list[int]]:
    """(dockerd of the default engine and its containerd, the shims of these containers).

    dockerd is shared with whatever else uses the engine; the shims serve only these
    containers, and an idle container's shim works only to answer stats requests.
    """
    dockerd = dockerd_pid()
    if dockerd is None:
        raise SystemExit("no dockerd pid (/var/run/docker.pid): is the engine local?")
    return [dockerd, *_children_named(dockerd, "containerd")], _shims_of(container_ids)


def total_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


# --- containers ---------------------------------------------------------------------------


def start_containers(count: int, prefix: str) -> dict[str, str]:
    """`count` idle host-network containers; name -> id. Started four at a time."""
    import docker

    client = docker.from_env()
    base = image()
    names = [f"{prefix}-{number:03d}" for number in range(count)]
    started: dict[str, str] = {}
    lock = threading.Lock()

    def run(name: str) -> None:
        container = client.containers.run(
            base,
            ["sleep", "3600"],
            name=name,
            labels={LABEL: prefix},
            network_mode="host",
            detach=True,
        )
        with lock:
            started[name] = container.id

    queue = list(names)

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                name = queue.pop()
            run(name)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(started) != count:
        raise SystemExit(f"started {len(started)} of {count} containers")
    return started


# --- the two programs on a pty ------------------------------------------------------------


TOAST_EDGE = "▌"
"""The left edge of a Textual notification: a row it covers up to its CPU cell is hidden."""


def cpu_cells(rows: list[str], name_pattern: re.Pattern[str]) -> list[str] | None:
    """The CPU % cell of each container row on screen (None: no CPU column on screen).

    A row whose CPU cell a notification covers (the console's toasts, bottom right, for
    8 s) is not on screen: nothing can be read there, a figure or not."""
    for number, row in enumerate(rows):
        column = row.find("CPU %")
        if column < 0 or "NAME" not in row.upper():
            continue
        cells = []
        for below in rows[number + 1 :]:
            if name_pattern.search(below) and TOAST_EDGE not in below[: column + 8]:
                cells.append(below[column : column + 8].strip().split(" ")[0])
        return cells
    return None


def all_rows_have_cpu(rows: list[str], name_pattern: re.Pattern[str]) -> bool:
    cells = cpu_cells(rows, name_pattern)
    return bool(cells) and all(FIGURE.fullmatch(cell) for cell in cells)


@dataclass
class Console:
    prefix: str
    home: Path

    def env(self) -> dict[str, str]:
        config = self.home / "config.toml"
        # Nothing answers at the base URL: health and gauges poll and fail, as on a quiet box.
        config.write_text(
            f'[sources]\ncontainers = "{self.prefix}"\n'
            '[environments.Development]\nbase_url = "http://127.0.0.1:9"\n'
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("LINES", "COLUMNS", "TEXTUAL")
        }
        env.update(
            TERM="xterm-256color",
            COLORTERM="truecolor",
            RUNBOOK_CONFIG_FILE=str(config),
            XDG_STATE_HOME=str(self.home / "state"),
            XDG_CONFIG_HOME=str(self.home / "config"),
            RUNBOOK_STATE_DIR=str(self.home / "state" / "runbook-console"),
            PYTHONPATH=str(REPO),
        )
        return env

    def argv(self) -> list[str]:
        return [PYTHON, "-m", "console.cli", "--no-resume"]


def docker_stats_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LINES", "COLUMNS")}
    env["TERM"] = "xterm-256color"
    return env


@contextlib.contextmanager
def on_pty(argv: list[str], env: dict[str, str], size: tuple[int, int]) -> Iterator[PtyTerminal]:
    terminal = PtyTerminal(argv, columns=size[0], lines=size[1], env=env, cwd=REPO)
    try:
        yield terminal
    finally:
        terminal.close()


@dataclass
class Window:
    bytes_per_s: float
    engine_cpu: float
    shims_cpu: float
    own_cpu: float


def measure_window(
    terminal: PtyTerminal, engine: tuple[list[int], list[int]], seconds: float
) -> Window:
    own = session_processes(terminal.process.pid)
    daemons, shims = engine
    bytes_before = terminal.bytes_read
    daemons_before, shims_before = total_cpu(daemons), total_cpu(shims)
    own_before = total_cpu(own)
    started = time.monotonic()
    terminal.pump(seconds)
    elapsed = time.monotonic() - started
    shims_cpu = 100 * (total_cpu(shims) - shims_before) / elapsed
    return Window(
        bytes_per_s=(terminal.bytes_read - bytes_before) / elapsed,
        engine_cpu=100 * (total_cpu(daemons) - daemons_before) / elapsed + shims_cpu,
        shims_cpu=shims_cpu,
        own_cpu=100 * (total_cpu(own) - own_before) / elapsed,
    )


def wait_filled(terminal: PtyTerminal, pattern: re.Pattern[str]) -> tuple[float, float]:
    """Seconds from the program's launch until every container row on screen has CPU,
    and from the first row on screen until then."""
    first_row: list[float] = []

    def filled(rows: list[str]) -> bool:
        if not first_row and cpu_cells(rows, pattern):
            first_row.append(time.monotonic())
        return all_rows_have_cpu(rows, pattern)

    terminal.wait_for(filled, FILL_TIMEOUT_S, "a CPU figure on every row")
    now = time.monotonic()
    return now - terminal.started_at, now - (first_row[0] if first_row else now)


def launch(argv: list[str], env: dict[str, str]) -> contextlib.AbstractContextManager[PtyTerminal]:
    return on_pty(argv, env, SIZE)


def no_stream_seconds(names: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(["docker", "stats", "--no-stream", *names], capture_output=True, check=True)
    return time.monotonic() - started


# --- one count ----------------------------------------------------------------------------


@dataclass
class CountFigures:
    count: int
    stats: list[Window] = field(default_factory=list)
    console: list[Window] = field(default_factory=list)
    idle_engine: list[float] = field(default_factory=list)
    console_fill: list[float] = field(default_factory=list)
    console_fill_rows: list[float] = field(default_factory=list)
    idle_shims: list[float] = field(default_factory=list)
    console_rows: int = 0
    no_stream: list[float] = field(default_factory=list)


def bench_count(count: int, window_s: float, rounds: int, home: Path) -> CountFigures:
    prefix = f"pb{os.getpid() % 10000}n{count}"
    figures = CountFigures(count)
    try:
        started = start_containers(count, prefix)
        names = sorted(started)
        engine = engine_processes(set(started.values()))
        pattern = re.compile(re.escape(prefix) + r"-\d{3}")
        console = Console(prefix, home)
        for _ in range(rounds):
            with launch(["docker", "stats", *names], docker_stats_env()) as terminal:
                wait_filled(terminal, pattern)
                terminal.pump(2.0)
                figures.stats.append(measure_window(terminal, engine, window_s))
            with launch(console.argv(), console.env()) as terminal:
                from_launch, from_rows = wait_filled(terminal, pattern)
                figures.console_fill.append(from_launch)
                figures.console_fill_rows.append(from_rows)
                figures.console_rows = len(cpu_cells(terminal.rows, pattern) or [])
                terminal.pump(2.0)
                figures.console.append(measure_window(terminal, engine, window_s))
            daemons_before, shims_before = total_cpu(engine[0]), total_cpu(engine[1])
            time.sleep(window_s)
            shims_idle = 100 * (total_cpu(engine[1]) - shims_before) / window_s
            figures.idle_engine.append(
                100 * (total_cpu(engine[0]) - daemons_before) / window_s + shims_idle
            )
            figures.idle_shims.append(shims_idle)
            figures.no_stream.append(no_stream_seconds(names))
    finally:
        remove_containers(prefix)
    return figures


def bench_appear(home: Path) -> tuple[float, float]:
    """(console seconds from `docker run` to the new row's CPU, --no-stream for it)."""
    import docker

    prefix = f"pb{os.getpid() % 10000}new"
    pattern = re.compile(re.escape(prefix) + r"-\d{3}")
    console = Console(prefix, home)
    client = docker.from_env()
    try:
        with launch(console.argv(), console.env()) as terminal:
            terminal.wait_for(
                lambda rows: (
                    any("Docker engine" in row and "CPU %" in row for row in rows)
                    or any("CPU %" in row and "Name" in row for row in rows)
                ),
                FILL_TIMEOUT_S,
                "the containers pane",
            )
            terminal.pump(1.0)
            appeared = time.monotonic()
            client.containers.run(
                image(),
                ["sleep", "3600"],
                name=f"{prefix}-000",
                labels={LABEL: prefix},
                network_mode="host",
                detach=True,
            )
            terminal.wait_for(
                lambda rows: all_rows_have_cpu(rows, pattern),
                FILL_TIMEOUT_S,
                "the new container's CPU figure",
            )
            console_s = time.monotonic() - appeared
        client.containers.run(
            image(),
            ["sleep", "3600"],
            name=f"{prefix}-001",
            labels={LABEL: prefix},
            network_mode="host",
            detach=True,
        )
        return console_s, no_stream_seconds([f"{prefix}-001"])
    finally:
        remove_containers(prefix)


def first_frames(home: Path, runs: int) -> tuple[float, float]:
    """Median seconds to the first frame at 120x40: (bare Textual app, console)."""
    console = Console(f"pb{os.getpid() % 10000}frame", home)
    env = console.env()
    bare = [
        run_in_pty([PYTHON, "-c", BARE_APP], b"bare textual app", FIRST_FRAME_SIZE, 0.5, 300, env)
        for _ in range(runs)
    ]
    ours = [
        run_in_pty(console.argv(), b"Procedures", FIRST_FRAME_SIZE, 0.5, 300, env)
        for _ in range(runs)
    ]
    return (
        statistics.median(m.first_frame_s for m in bare),
        statistics.median(m.first_frame_s for m in ours),
    )


# --- the table ----------------------------------------------------------------------------


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs > 0 else "n/a"


def row(
    figure: str, theirs: float, ours: float, fmt: Callable[[float], str], goal: str
) -> list[str]:
    return [figure, fmt(theirs), fmt(ours), ratio(ours, theirs), goal]


def print_table(rows: list[list[str]]) -> None:
    header = ["figure", "docker stats", "console", "ratio", "goal"]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--window", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="windows per program and count")
    parser.add_argument("--frames", type=int, default=3, help="first-frame runs (median)")
    args = parser.parse_args()
    # As installed: pip leaves the project's bytecode beside it, as it does Textual's for the
    # bare app. Without it (PYTHONDONTWRITEBYTECODE, a fresh checkout) every launch would
    # compile the console's modules, and the first frame and the fill would measure that.
    subprocess.run([PYTHON, "-m", "compileall", "-q", "console", "runbook"], cwd=REPO, check=True)
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at start; "
        f"{args.rounds} x {args.window:.0f} s windows per program; pty {SIZE[0]}x{SIZE[1]}",
        flush=True,
    )
    kb = lambda value: f"{value / 1024:.1f} KB/s"  # noqa: E731
    pct = lambda value: f"{value:.2f} %"  # noqa: E731
    sec = lambda value: f"{value:.2f} s"  # noqa: E731
    table: list[list[str]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="rbc-peer-") as home:
        for count in args.counts:
            f = bench_count(count, args.window, args.rounds, Path(home))
            theirs, ours = f.stats, f.console
            table += [
                row(
                    f"{count} idle containers, bytes/s to the pty",
                    mean([w.bytes_per_s for w in theirs]),
                    mean([w.bytes_per_s for w in ours]),
                    kb,
                    "≤ 1x",
                ),
                row(
                    f"{count} idle containers, engine CPU",
                    mean([w.engine_cpu for w in theirs]),
                    mean([w.engine_cpu for w in ours]),
                    pct,
                    "≤ 0.3x",
                ),
                row(
                    f"{count} idle containers, engine CPU above idle (neither running)",
                    max(0.0, mean([w.engine_cpu for w in theirs]) - mean(f.idle_engine)),
                    max(0.0, mean([w.engine_cpu for w in ours]) - mean(f.idle_engine)),
                    pct,
                    "≤ 0.3x",
                ),
                row(
                    f"{count} idle containers, their shims' CPU (engine, theirs alone)",
                    mean([w.shims_cpu for w in theirs]),
                    mean([w.shims_cpu for w in ours]),
                    pct,
                    "≤ 0.3x",
                ),
                row(
                    f"{count} idle containers, the program's own CPU",
                    mean([w.own_cpu for w in theirs]),
                    mean([w.own_cpu for w in ours]),
                    pct,
                    "≤ 1x",
                ),
            ]
            if count == max(args.counts):
                table.append(
                    row(
                        f"{count} containers: every row on screen has a CPU figure "
                        f"(console: {f.console_rows} rows, from launch; docker: --no-stream)",
                        statistics.median(f.no_stream),
                        statistics.median(f.console_fill),
                        sec,
                        "≤ 0.8x",
                    )
                )
                table.append(
                    row(
                        f"{count} containers: the same, the console from its first row on screen",
                        statistics.median(f.no_stream),
                        statistics.median(f.console_fill_rows),
                        sec,
                        "< 1x",
                    )
                )
            idle = mean(f.idle_engine)
            notes.append(
                f"{count} containers: engine idle (neither running) {idle:.2f} % "
                f"(shims {mean(f.idle_shims):.2f} %), above it "
                f"docker stats {mean([w.engine_cpu for w in theirs]) - idle:+.2f} %, "
                f"console {mean([w.engine_cpu for w in ours]) - idle:+.2f} %; "
                f"console fill per round {', '.join(f'{s:.2f}' for s in f.console_fill)} s; "
                f"--no-stream {', '.join(f'{s:.2f}' for s in f.no_stream)} s"
            )
            print(f"... {count} containers measured", flush=True)
        appear_console, appear_cli = bench_appear(Path(home))
        table.append(
            row(
                "a new container: its row's CPU figure from `docker run` (docker: --no-stream)",
                appear_cli,
                appear_console,
                sec,
                "< 1x",
            )
        )
        bare, console = first_frames(Path(home), args.frames)
        table.append(
            [
                f"first frame at 120x40 (median of {args.frames})",
                f"bare Textual app {bare:.2f} s",
                f"{console:.2f} s",
                f"{console - bare:+.2f} s",
                "≤ +0.10 s",
            ]
        )
    print()
    print_table(table)
    print()
    for note in notes:
        print(note)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
