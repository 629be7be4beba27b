"""The stats poller reads only the rows on screen; a local engine's rows from cgroup files."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from runbook.sources.docker.cgroups import CgroupReader
from runbook.sources.docker.stats import StatsPoller, StatsSampled
from tests.waiting import wait_until

CONTAINER = "c" * 64


class FakeEngine:
    """Answers at once; `stop()` ends the poller's loop."""

    docker_host = "unix:///fake.sock"

    def __init__(self) -> None:
        self._stopped = threading.Event()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def wait_reachable(self, timeout_s: float | None = None) -> bool:
        return not self.stopped

    def stop(self) -> None:
        self._stopped.set()

    def client(self, **_: Any) -> Any:
        raise AssertionError("a local row was read from the engine")


class FakeCgroups:
    """A cgroup reader whose CPU counter grows by one core's worth per read."""

    def __init__(self) -> None:
        self.reads: list[str] = []
        self.lock = threading.Lock()

    def read(self, container_id: str, pid: int) -> dict[str, Any] | None:
        with self.lock:
            self.reads.append(container_id)
            count = len(self.reads)
        return {
            "cpu_stats": {
                "cpu_usage": {"total_usage": count * 1_000},
                "system_cpu_usage": count * 2_000,
                "online_cpus": 2,
            },
            "memory_stats": {"usage": 10, "limit": 100},
            "networks": None,
        }

    def read_since(self, start: int) -> set[str]:
        with self.lock:
            return set(self.reads[start:])


@pytest.fixture
def poller() -> Any:
    engine = FakeEngine()
    cgroups = FakeCgroups()
    poller = StatsPoller(engine, interval_s=0.05, local=cgroups, first_figure_s=0.01)  # type: ignore[arg-type]
    samples: list[StatsSampled] = []
    thread = threading.Thread(target=poller._loop, args=(samples.append,), daemon=True)
    thread.start()
    yield poller, cgroups, samples
    engine.stop()
    poller.stop()
    thread.join(5)


def test_only_the_rows_on_screen_are_read_and_a_row_gets_its_first_cpu_figure(
    poller: Any,
) -> None:
    stats, cgroups, samples = poller
    stats.watch(["a", "b"], {"a": 1, "b": 2})
    wait_until(
        lambda: any(
            {s.id for s in sample.stats} == {"a", "b"}
            and all(s.cpu_percent is not None for s in sample.stats)
            for sample in list(samples)
        ),
        5,
        "a CPU figure for both rows on screen",
    )
    assert set(cgroups.reads) == {"a", "b"}

    stats.watch(["c"], {"c": 3})  # scrolled: a and b left the screen
    wait_until(lambda: "c" in cgroups.reads, 5, "the new row read")
    settled = len(cgroups.reads)
    wait_until(lambda: len(cgroups.reads) > settled + 3, 5, "further rounds")
    assert cgroups.read_since(settled) == {"c"}

    stats.watch([], {})  # the pane is hidden
    quiet = len(cgroups.reads)
    stats.watch(["d"], {"d": 4})
    wait_until(lambda: "d" in cgroups.reads, 5, "the row shown again")
    assert cgroups.read_since(quiet) <= {"c", "d"}, "nothing off screen is read"


def test_a_row_back_on_screen_starts_a_fresh_cpu_window(poller: Any) -> None:
    stats, cgroups, samples = poller
    stats.watch(["a"], {"a": 1})
    wait_until(lambda: any(s.cpu_percent is not None for x in samples for s in x.stats), 5, "a")
    stats.watch(["b"], {"b": 2})
    wait_until(lambda: "a" not in stats._previous, 5, "a forgotten once off screen")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v1_files_give_a_document_like_the_engines(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    path = f"/docker/{CONTAINER}"
    write(proc / "42" / "cgroup", f"4:memory:{path}\n2:cpu,cpuacct:{path}\n0::{path}\n")
    write(proc / "stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 1 1 1\n")
    write(proc / "meminfo", "MemTotal:       1000 kB\n")
    write(root / "cpu,cpuacct" / path.lstrip("/") / "cpuacct.usage", "5000\n")
    memory = root / "memory" / path.lstrip("/")
    write(memory / "memory.usage_in_bytes", "4000\n")
    write(memory / "memory.limit_in_bytes", "9223372036854771712\n")
    write(memory / "memory.stat", "cache 0\ntotal_inactive_file 1000\n")
    document = CgroupReader(cgroup_root=root, proc=proc).read(CONTAINER, 42)
    assert document is not None
    cpu = document["cpu_stats"]
    assert cpu["cpu_usage"]["total_usage"] == 5000
    assert cpu["system_cpu_usage"] == 1000 * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    # No limit shows as the host's memory, as dockerd reports it.
    assert document["memory_stats"]["limit"] == 1000 * 1024
    figures = StatsPoller(engine=None).compute(CONTAINER, document)  # type: ignore[arg-type]
    assert figures.memory_used == 3000
    assert figures.net_rx is None  # no namespace of its own to count


def test_cgroup_v2_and_the_containers_id_guard(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    path = f"/system.slice/docker-{CONTAINER}.scope"
    write(proc / "7" / "cgroup", f"0::{path}\n")
    write(proc / "stat", "cpu  1 1 1 1 1 1 1 1\n")
    write(proc / "meminfo", "MemTotal: 2048 kB\n")
    directory = root / path.lstrip("/")
    write(directory / "cpu.stat", "usage_usec 12\nuser_usec 10\n")
    write(directory / "memory.current", "500\n")
    write(directory / "memory.max", "max\n")
    write(directory / "memory.stat", "inactive_file 100\n")
    reader = CgroupReader(cgroup_root=root, proc=proc)
    document = reader.read(CONTAINER, 7)
    assert document is not None
    assert document["cpu_stats"]["cpu_usage"]["total_usage"] == 12_000
    assert document["memory_stats"]["limit"] == 2048 * 1024
    # Another container's id, a process that is gone: left to the engine.
    assert reader.read("d" * 64, 7) is None
    assert reader.read(CONTAINER, 8) is None
    # The paths are read once per process; a pid reused by another container is read again.
    other = "e" * 64
    moved = f"/system.slice/docker-{other}.scope"
    write(proc / "7" / "cgroup", f"0::{moved}\n")
    write(root / moved.lstrip("/") / "cpu.stat", "usage_usec 30\n")
    again = reader.read(other, 7)
    assert again is not None and again["cpu_stats"]["cpu_usage"]["total_usage"] == 30_000
    assert reader.read(CONTAINER, 7) is None
