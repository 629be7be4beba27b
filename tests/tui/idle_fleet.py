"""A fleet of engines that never connect, for pane tests that post the engines' events
themselves: nothing is listed, streamed or read unless the test says so."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from runbook.sources.docker.containers import ContainerInfo
from runbook.sources.docker.engine import Engine
from runbook.sources.docker.fleet import Fleet, HostSources


class IdleEngine(Engine):
    """Never connects: the test says whether it answers."""

    def start(self) -> None:
        pass


class IdleMonitor:
    containers: dict[str, ContainerInfo] = {}

    def run(self, emit: object) -> None:
        pass


class IdleStats:
    """Reads nothing; remembers which containers the pane asked to read (id -> pid)."""

    def __init__(self) -> None:
        self.watched: list[dict[str, int]] = []

    def run(self, emit: object) -> None:
        pass

    def watch(self, container_ids: Iterable[str], pids: Mapping[str, int] | None = None) -> None:
        ids = tuple(container_ids)
        self.watched.append({cid: (pids or {}).get(cid, 0) for cid in ids})

    def stop(self) -> None:
        pass


def idle_fleet(*hosts: str, stats: IdleStats | None = None) -> Fleet:
    """One idle engine per host; `stats` (if given) is the first host's reader."""
    return Fleet(
        [
            HostSources(
                host, IdleEngine(host), IdleMonitor(), stats if stats and i == 0 else IdleStats()
            )  # type: ignore[arg-type]
            for i, host in enumerate(hosts)
        ]
    )
