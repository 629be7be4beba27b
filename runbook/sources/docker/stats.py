"""Container stats for the containers on screen: from their cgroup files when the engine is
on this machine (no cost to the engine, a first CPU figure within a fraction of a second),
else one-shot reads from the engine, in parallel.

CPU % is computed as `docker stats` does: the container's CPU time delta over
the host's CPU time delta, times the number of online CPUs, times 100, so
100 % is one core and a busy 4-core container shows up to 400 %.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import docker
from docker.errors import NotFound

from runbook.sources.docker.cgroups import CgroupReader
from runbook.sources.docker.containers import ContainerInfo
from runbook.sources.docker.endpoint import resolve_host
from runbook.sources.docker.engine import Emit, Engine
from runbook.sources.docker.threads import parallel_map, run_until_stopped


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


class LocalStats(Protocol):
    def read(self, container_id: str, pid: int) -> dict[str, Any] | None:
        """A stats document like the engine's, or None when this container is not local."""
        ...


def engine_is_local(engine: Engine) -> bool:
    """A unix socket: the engine's containers run on this machine."""
    try:
        return resolve_host(engine.docker_host).startswith(("unix://", "/"))
    except Exception:  # noqa: BLE001 - an unknown context is not local
        return False


@dataclass
class StatsPoller:
    """Stats for the containers currently on screen, and for no other."""

    engine: Engine
    interval_s: float = 2.0
    threads: int = 128
    """At most this many engine reads at once (one per visible row)."""
    read_timeout_s: float = 2.5
    local: LocalStats | None = None
    """Reads cgroup files; by default a `CgroupReader` when the engine is local."""
    first_figure_s: float = 0.25
    """A new row's second local read comes this soon after its first: its first CPU %."""
    _visible: tuple[str, ...] = ()
    _pids: dict[str, int] = field(default_factory=dict)
    _previous: dict[str, _Sample] = field(default_factory=dict)
    _wake: threading.Event = field(default_factory=threading.Event)
    _work: queue.SimpleQueue[tuple[str, queue.SimpleQueue[Any]]] = field(
        default_factory=queue.SimpleQueue
    )
    _readers: int = 0

    def watch(self, container_ids: Iterable[str], pids: Mapping[str, int] | None = None) -> None:
        """Read stats for exactly these containers from now on (the rows on screen).

        Args:
            container_ids: the containers to read, and only those.
            pids: each one's main process, for reading a local engine's cgroup files.
        """
        ids = tuple(container_ids)
        self._pids = dict(pids or {})
        if ids != self._visible:
            new = set(ids) - set(self._visible)
            self._visible = ids
            if new:
                self._wake.set()

    def run(self, emit: Emit) -> None:
        """Poll until `engine.stop()`; blocks."""
        if self.local is None and engine_is_local(self.engine):
            self.local = CgroupReader()
        run_until_stopped(self.engine, lambda: self._loop(emit), "docker-stats")

    def _loop(self, emit: Emit) -> None:
        while not self.engine.stopped:
            if not self.engine.wait_reachable():
                break
            self._wake.clear()
            visible = self._visible
            # A row that comes back on screen starts afresh, not from a sample of long ago.
            for gone in set(self._previous) - set(visible):
                del self._previous[gone]
            samples, remote = self._read_local(visible, self._pids)
            if remote:
                self._ensure_readers(len(remote))
                remote_samples = self._read_all(remote)
            else:
                remote_samples = []
            samples += remote_samples
            if samples:
                emit(StatsSampled(tuple(samples), self.engine.docker_host))
            if any(sample.cpu_percent is None for sample in remote_samples):
                # The second engine read (the first CPU figure) at once: the read itself
                # waits for the engine's next one-second collection.
                continue
            if any(sample.cpu_percent is None for sample in samples):
                self._wake.wait(self.first_figure_s)
            else:
                self._wake.wait(self.interval_s)

    def _read_local(
        self, ids: tuple[str, ...], pids: Mapping[str, int]
    ) -> tuple[list[ContainerStats], tuple[str, ...]]:
        """Samples read from cgroup files, and the containers left to the engine."""
        if self.local is None:
            return [], ids
        samples: list[ContainerStats] = []
        remote: list[str] = []
        for container_id in ids:
            raw = self.local.read(container_id, pids.get(container_id, 0))
            if raw is None:
                remote.append(container_id)
            else:
                samples.append(self.compute(container_id, raw))
        return samples, tuple(remote)

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
                # Idle readers wake rarely: each wake-up costs the console CPU.
                container_id, answer = self._work.get(timeout=5.0)
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


def read_once(
    engine: Engine, name_filter: str = "", timeout_s: float = 3.0
) -> tuple[list[ContainerStats], dict[str, ContainerInfo]]:
    """The figures of every running container whose name holds `name_filter`, read once
    as `docker stats --no-stream` reads them: the engine's sample and the one before it
    (its `precpu_stats`) give the CPU delta. Blocking; an unreachable engine gives none."""
    try:
        client = engine.client(timeout_s=timeout_s, pool=16)
        summaries = client.containers(filters={"status": "running"})
    except Exception:  # noqa: BLE001 - no engine: no figures, the gauges say "no data"
        return [], {}
    rows: dict[str, ContainerInfo] = {}
    for summary in summaries:
        name = ((summary.get("Names") or ["/"])[0]).lstrip("/")
        if name_filter in name:
            rows[summary["Id"]] = ContainerInfo(
                summary["Id"], name, summary.get("Image") or "", "running"
            )

    def read(container_id: str) -> ContainerStats | None:
        try:
            raw = client.stats(container_id, stream=False)
        except Exception:  # noqa: BLE001 - gone or slow: left out, as a row without figures
            return None
        poller = StatsPoller(engine)
        poller.compute(container_id, {"cpu_stats": raw.get("precpu_stats") or {}})
        return poller.compute(container_id, raw)

    try:
        found = parallel_map(read, list(rows), threads=16)
    finally:
        with contextlib.suppress(Exception):
            client.close()
    return [figures for figures in found if figures is not None], rows
