"""The engines of one environment, side by side: one watchdog, container list and stats
poller per host, each on threads of its own.

A stalled or dead engine holds up only its own sources: every host's monitor and poller
runs on its own daemon thread, and the events each emits carry its `host`, so a pane
marks only that host's rows. Nothing here knows it is Docker beyond `HostSources`: an
orchestrator's nodes (swarm tasks, Kubernetes pods) fit the same shape, a location per
row and a reachability per location.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from runbook.config import host_label as host_label  # the panes name hosts with it
from runbook.sources.docker.containers import ContainerInfo, ContainerMonitor
from runbook.sources.docker.engine import Emit, Engine, EngineState
from runbook.sources.docker.stats import StatsPoller


class HostMonitor(Protocol):
    containers: dict[str, ContainerInfo]
    """The engine's containers now, by id."""

    def run(self, emit: Emit) -> None: ...


class HostStats(Protocol):
    def run(self, emit: Emit) -> None: ...
    def watch(
        self, container_ids: Iterable[str], pids: Mapping[str, int] | None = None
    ) -> None: ...
    def stop(self) -> None: ...


@dataclass
class HostSources:
    """The live sources of one engine."""

    host: str
    """As configured: a URL or a Docker context name."""
    engine: Engine
    monitor: HostMonitor
    stats: HostStats


def host_sources(
    host: str,
    *,
    timeout_s: float = 3.0,
    stats_interval_s: float = 2.0,
    name_filter: str = "",
) -> HostSources:
    """A watchdog, a container monitor and a stats poller for one engine."""
    engine = Engine(host, timeout_s=timeout_s)
    return HostSources(
        host=host,
        engine=engine,
        monitor=ContainerMonitor(engine, name_filter=name_filter),
        stats=StatsPoller(engine, interval_s=stats_interval_s),
    )


class Fleet:
    """Every engine of an environment; calls fan out, one thread per host."""

    def __init__(self, hosts: Sequence[HostSources]) -> None:
        if not hosts:
            raise ValueError("a fleet needs at least one engine")
        self.hosts = tuple(hosts)
        self._by_host = {sources.host: sources for sources in self.hosts}

    @property
    def primary(self) -> HostSources:
        """The first engine configured: rows without a host belong to it."""
        return self.hosts[0]

    def __len__(self) -> int:
        return len(self.hosts)

    def sources_for(self, host: str) -> HostSources:
        """The sources of `host` (the primary engine's for "" or an unknown host)."""
        return self._by_host.get(host, self.primary)

    def host_of(self, container_name: str) -> str:
        """The engine that runs a container of this name (the primary engine if none does)."""
        for sources in self.hosts:
            # A copy of the values: the monitor's thread changes the dict meanwhile.
            known = tuple(sources.monitor.containers.values())
            if any(info.name == container_name for info in known):
                return sources.host
        return self.primary.host

    def subscribe(self, listener: Emit) -> None:
        """`listener(EngineChanged(...))` on every change of any engine."""
        for sources in self.hosts:
            sources.engine.subscribe(listener)

    def start(self) -> None:
        for sources in self.hosts:
            sources.engine.start()

    def stop(self) -> None:
        """Stop every engine's watchdog, streams and poller; returns at once."""
        for sources in self.hosts:
            sources.engine.stop()
            sources.stats.stop()

    @property
    def stopped(self) -> bool:
        return all(sources.engine.stopped for sources in self.hosts)

    def run_monitors(self, emit: Emit) -> None:
        """Follow every engine's containers until all are stopped; blocks."""
        self._fan_out(lambda sources: sources.monitor.run(emit), "containers")

    def run_stats(self, emit: Emit) -> None:
        """Poll every engine's stats until all are stopped; blocks."""
        self._fan_out(lambda sources: sources.stats.run(emit), "stats")

    def watch(self, containers: Iterable[ContainerInfo]) -> None:
        """Read stats for exactly these containers, each from its own engine."""
        wanted: dict[str, dict[str, int]] = {sources.host: {} for sources in self.hosts}
        for info in containers:
            wanted[self.sources_for(info.host).host][info.id] = info.pid
        for host, pids in wanted.items():
            self._by_host[host].stats.watch(pids, pids)

    def _fan_out(self, job: Callable[[HostSources], None], what: str) -> None:
        # One daemon thread per host: a host whose calls hang never delays another's.
        # Woken when the last host's job ends or every engine has stopped, never to look.
        changed = threading.Event()
        forgets = [sources.engine.on_stop(changed.set) for sources in self.hosts]
        running = [len(self.hosts)]
        lock = threading.Lock()

        def run(sources: HostSources) -> None:
            try:
                job(sources)
            finally:
                with lock:
                    running[0] -= 1
                changed.set()

        for sources in self.hosts:
            threading.Thread(
                target=run, args=(sources,), name=f"fleet-{what} {sources.host}", daemon=True
            ).start()
        while True:
            changed.clear()  # before looking: a change after it wakes the wait below
            if running[0] == 0 or self.stopped:
                break
            changed.wait()
        for forget in forgets:
            forget()


def unreachable_since(state: EngineState) -> str:
    """What a row of a silent engine shows: unreachable since HH:MM:SS."""
    return f"unreachable since {datetime.fromtimestamp(state.since).strftime('%H:%M:%S')}"


def row_state(info: ContainerInfo, engine: EngineState | None) -> str:
    """A row's state cell: the container's state, unless its engine does not answer."""
    if engine is not None and not engine.reachable:
        return unreachable_since(engine)
    return info.state


def fleet_summary(states: Mapping[str, EngineState]) -> str:
    """One line for several engines: how many answer, and which do not since when."""
    down = [(host, state) for host, state in states.items() if not state.reachable]
    text = f"{len(states) - len(down)} of {len(states)} Docker engines connected"
    if down:
        text += "; " + ", ".join(
            f"{host_label(host)} {unreachable_since(state)}" for host, state in down
        )
    return text
