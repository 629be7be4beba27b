"""Container stats: one-shot reads, in parallel, for the containers on screen.

CPU % is computed as `docker stats` does: the container's CPU time delta over
the host's CPU time delta, times the number of online CPUs, times 100, so
100 % is one core and a busy 4-core container shows up to 400 %.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import docker
from docker.errors import NotFound

from runbook.sources.docker.engine import Emit, Engine
from runbook.sources.docker.threads import run_until_stopped


@dataclass(frozen=True)
class ContainerStats:
    id: str
    cpu_percent: float | None
    """100 = one core; None until two samples exist."""
    memory_used: int | None
    memory_limit: int | None
    net_rx: int | None
    """None with host networking (the container has no interface of its own)."""
    net_tx: int | None
    at: float


@dataclass(frozen=True)
class StatsSampled:
    stats: tuple[ContainerStats, ...]
    host: str = ""


@dataclass
class _Sample:
    cpu_total: int
    system_total: int


def memory_used(memory: dict[str, Any]) -> int | None:
    """Usage minus inactive file cache, as the docker CLI shows it (cgroup v1 and v2)."""
    usage = memory.get("usage")
    if usage is None:
        return None
    stats = memory.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in stats and stats[key] < usage:
            return int(usage - stats[key])
    return int(usage)


def cpu_percent(
    cpu_total: int, system_total: int, online_cpus: int, previous: _Sample | None
) -> float | None:
    """`docker stats` CPU %: 100 = one core."""
    if previous is None:
        return None
    cpu_delta = cpu_total - previous.cpu_total
    system_delta = system_total - previous.system_total
    if system_delta <= 0 or cpu_delta < 0:
        return None
    return cpu_delta / system_delta * online_cpus * 100.0


@dataclass
class StatsPoller:
    """One-shot stats reads, in parallel, for the containers currently on screen."""

    engine: Engine
    interval_s: float = 2.0
    threads: int = 128
    """At most this many reads at once (one per visible row)."""
    read_timeout_s: float = 2.5
    _visible: tuple[str, ...] = ()
    _previous: dict[str, _Sample] = field(default_factory=dict)
    _wake: threading.Event = field(default_factory=threading.Event)
    _work: queue.SimpleQueue[tuple[str, queue.SimpleQueue[Any]]] = field(
        default_factory=queue.SimpleQueue
    )
    _readers: int = 0

    def watch(self, container_ids: Iterable[str]) -> None:
        """Read stats for exactly these containers from now on (the rows on screen)."""
        ids = tuple(container_ids)
        if ids != self._visible:
            new = set(ids) - set(self._visible)
            self._visible = ids
            if new:
                self._wake.set()

    def run(self, emit: Emit) -> None:
        """Poll until `engine.stop()`; blocks."""
        run_until_stopped(self.engine, lambda: self._loop(emit), "docker-stats")

    def _loop(self, emit: Emit) -> None:
        while not self.engine.stopped:
            if not self.engine.wait_reachable():
                break
            self._wake.clear()
            visible = self._visible
            self._ensure_readers(len(visible))
            samples = self._read_all(visible) if visible else []
            if samples:
                emit(StatsSampled(tuple(samples), self.engine.docker_host))
            # New rows get their second read (their first CPU figure) at once: the read
            # itself waits for the engine's next one-second collection.
            if not any(sample.cpu_percent is None for sample in samples):
                self._wake.wait(self.interval_s)

    def stop(self) -> None:
        self._wake.set()

    def _ensure_readers(self, wanted: int) -> None:
        # dockerd answers every one-shot read at its next collection tick, so reads
        # only overlap (one tick per round) when there is a reader per row.
        while self._readers < min(max(wanted, 1), self.threads):
            self._readers += 1
            threading.Thread(
                target=self._reader, name=f"docker-stats-{self._readers}", daemon=True
            ).start()

    def _reader(self) -> None:
        client: docker.APIClient | None = None
        while not self.engine.stopped:
            try:
                container_id, answer = self._work.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                if client is None:
                    client = self.engine.client(timeout_s=self.read_timeout_s, pool=1)
                answer.put((container_id, client.stats(container_id, stream=False, one_shot=True)))
            except NotFound:
                answer.put((container_id, None))
            except Exception:  # noqa: BLE001 - a failed read leaves the row as it was
                answer.put((container_id, None))
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.close()
                client = None

    def _read_all(self, ids: tuple[str, ...]) -> list[ContainerStats]:
        answers: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for container_id in ids:
            self._work.put((container_id, answers))
        deadline = time.monotonic() + self.read_timeout_s + 0.5
        results: list[ContainerStats] = []
        for _ in ids:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.engine.stopped:
                break
            try:
                container_id, raw = answers.get(timeout=remaining)
            except queue.Empty:
                break
            if raw is not None:
                results.append(self.compute(container_id, raw))
        return results

    def compute(self, container_id: str, raw: dict[str, Any]) -> ContainerStats:
        """Turn one stats document into figures, remembering it for the next CPU delta."""
        cpu = raw.get("cpu_stats") or {}
        usage = cpu.get("cpu_usage") or {}
        total = int(usage.get("total_usage") or 0)
        system = int(cpu.get("system_cpu_usage") or 0)
        online = int(cpu.get("online_cpus") or len(usage.get("percpu_usage") or []) or 1)
        percent = cpu_percent(total, system, online, self._previous.get(container_id))
        if system:
            self._previous[container_id] = _Sample(total, system)
        memory = raw.get("memory_stats") or {}
        networks = raw.get("networks")
        rx = tx = None
        if networks:
            rx = sum(int(n.get("rx_bytes", 0)) for n in networks.values())
            tx = sum(int(n.get("tx_bytes", 0)) for n in networks.values())
        limit = memory.get("limit")
        return ContainerStats(
            id=container_id,
            cpu_percent=percent,
            memory_used=memory_used(memory),
            memory_limit=int(limit) if limit else None,
            net_rx=rx,
            net_tx=tx,
            at=time.time(),
        )
