"""Docker source pieces without an engine: CPU % as docker stats, rows, preflight, monitor."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from runbook.sources.docker import threads
from runbook.sources.docker.containers import (
    ContainerChanged,
    ContainerMonitor,
    ContainerRemoved,
    ContainersListed,
    container_from_inspect,
)
from runbook.sources.docker.endpoint import preflight
from runbook.sources.docker.engine import EngineState
from runbook.sources.docker.stats import StatsPoller, memory_used


def stats_doc(total: int, system: int, cpus: int = 4) -> dict[str, Any]:
    return {
        "cpu_stats": {
            "cpu_usage": {"total_usage": total},
            "system_cpu_usage": system,
            "online_cpus": cpus,
        },
        "memory_stats": {"usage": 300, "limit": 1000, "stats": {"inactive_file": 100}},
        "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 20}},
    }


def test_cpu_percent_as_docker_stats_100_is_one_core() -> None:
    poller = StatsPoller(engine=None)  # type: ignore[arg-type]
    first = poller.compute("a", stats_doc(1_000, 10_000))
    assert first.cpu_percent is None  # one sample is not a rate
    # Container used 1/4 of all host CPU time on a 4-CPU host: one full core = 100 %.
    second = poller.compute("a", stats_doc(1_000 + 2_500, 10_000 + 10_000))
    assert second.cpu_percent == pytest.approx(100.0)
    assert second.memory_used == 200 and second.memory_limit == 1000
    assert (second.net_rx, second.net_tx) == (10, 20)


def test_host_network_has_no_net_figures_and_cgroup_v1_cache() -> None:
    doc = stats_doc(1, 1)
    del doc["networks"]
    figures = StatsPoller(engine=None).compute("b", doc)  # type: ignore[arg-type]
    assert figures.net_rx is None and figures.net_tx is None
    assert memory_used({"usage": 500, "stats": {"total_inactive_file": 200}}) == 300
    assert memory_used({}) is None


def test_rows_from_inspect() -> None:
    info = container_from_inspect(
        {
            "Id": "abc",
            "Name": "/web",
            "Config": {"Image": "monkeytown-web:v2"},
            "State": {
                "Status": "running",
                "StartedAt": "2026-11-28T01:00:00.5Z",
                "Health": {"Status": "healthy"},
            },
            "RestartCount": 2,
        }
    )
    assert (info.name, info.image, info.state, info.health, info.restart_count) == (
        "web",
        "monkeytown-web:v2",
        "running",
        "healthy",
        2,
    )
    assert info.started_at is not None
    assert info.uptime_s(info.started_at + 61) == pytest.approx(61)
    stopped = container_from_inspect({"Id": "x", "State": {"Status": "exited", "StartedAt": ""}})
    assert stopped.uptime_s() is None


def test_unreachable_text_names_the_time() -> None:
    state = EngineState(False, time.mktime((2026, 11, 28, 1, 2, 3, 0, 0, -1)))
    assert state.describe() == "Docker engine unreachable since 01:02:03, retrying"


def test_preflight_missing_socket_and_permission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "docker.sock"
    message = preflight(f"unix://{missing}")
    assert message is not None and str(missing) in message and "does not exist" in message
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(missing))
    try:
        assert preflight(f"unix://{missing}") is None
        monkeypatch.setattr(os, "access", lambda path, mode: False)
        denied = preflight(f"unix://{missing}")
        assert denied is not None and "docker group" in denied and str(missing) in denied
    finally:
        server.close()
    assert preflight("tcp://127.0.0.1:2375") is None


class FakeAPI:
    """Just enough of docker.APIClient for the monitor."""

    def __init__(self, events: list[Any]) -> None:
        self.events_script = events
        self.inspected: dict[str, dict[str, Any]] = {
            "a": {"Id": "a", "Name": "/a", "State": {"Status": "running"}},
        }

    def events(self, **kwargs: Any) -> Any:
        for event in self.events_script:
            if isinstance(event, BaseException):
                raise event
            if event.get("Action") == "create":
                self.inspected[event["id"]] = {
                    "Id": event["id"],
                    "Name": "/" + event["id"],
                    "State": {"Status": "created"},
                }
            yield event

    def containers(self, all: bool = False) -> list[dict[str, Any]]:
        return [{"Id": key} for key in self.inspected]

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        return self.inspected[container_id]

    def close(self) -> None:
        pass


class FakeEngine:
    def __init__(self, api: FakeAPI) -> None:
        self.api = api
        self.docker_host = "unix:///fake/docker.sock"
        self.stopped = False
        self.failures: list[str] = []

    def wait_reachable(self, timeout_s: float | None = None) -> bool:
        return not self.stopped

    def client(self, timeout_s: float | None = None, pool: int = 4) -> FakeAPI:
        return self.api

    def register(self, stream: Any) -> None:
        pass

    def unregister(self, stream: Any) -> None:
        pass

    def report_failure(self, detail: str) -> None:
        self.failures.append(detail)
        self.stopped = True

    def sleep(self, seconds: float) -> bool:
        return not self.stopped

    def on_stop(self, callback: Any) -> Any:
        return lambda: None


def test_monitor_snapshot_then_events_and_a_raw_urllib3_error() -> None:
    import urllib3

    api = FakeAPI(
        [
            {"Action": "create", "id": "b"},
            {"Action": "destroy", "id": "a"},
            urllib3.exceptions.ProtocolError("Connection broken"),
        ]
    )
    engine = FakeEngine(api)
    monitor = ContainerMonitor(engine)  # type: ignore[arg-type]
    seen: list[object] = []
    thread = threading.Thread(target=monitor.run, args=(seen.append,))
    thread.start()
    thread.join(3)
    assert not thread.is_alive()
    assert isinstance(seen[0], ContainersListed) and [c.id for c in seen[0].containers] == ["a"]
    assert isinstance(seen[1], ContainerChanged) and seen[1].container.id == "b"
    assert isinstance(seen[2], ContainerRemoved) and seen[2].id == "a"
    assert engine.failures and "Connection broken" in engine.failures[0]


def test_monitor_does_not_inspect_other_containers_of_a_shared_engine() -> None:
    """An event of a container the name filter leaves out costs no inspect (the engine's
    other users' containers come and go all day)."""
    api = FakeAPI(
        [
            {"Action": "start", "id": "x", "Actor": {"Attributes": {"name": "someone-else"}}},
            {"Action": "start", "id": "b", "Actor": {"Attributes": {"name": "mine-b"}}},
        ]
    )
    api.inspected = {
        "a": {"Id": "a", "Name": "/mine-a", "State": {"Status": "running"}},
        "b": {"Id": "b", "Name": "/mine-b", "State": {"Status": "running"}},
        "x": {"Id": "x", "Name": "/someone-else", "State": {"Status": "running"}},
    }
    inspected: list[str] = []
    inspect = api.inspect_container

    def counting(container_id: str) -> dict[str, Any]:
        inspected.append(container_id)
        return inspect(container_id)

    api.inspect_container = counting  # type: ignore[method-assign]
    api.containers = lambda all=False: [  # type: ignore[method-assign]
        {"Id": "a", "Names": ["/mine-a"]}
    ]
    engine = FakeEngine(api)
    monitor = ContainerMonitor(engine, name_filter="mine")  # type: ignore[arg-type]
    seen: list[object] = []
    thread = threading.Thread(target=monitor.run, args=(seen.append,))
    thread.start()
    thread.join(3)
    assert "x" not in inspected
    assert isinstance(seen[1], ContainerChanged) and seen[1].container.name == "mine-b"


def test_a_first_listing_of_many_shows_every_row_then_inspects_the_first_by_name() -> None:
    """Rows at once from the engine's listing (nothing unknown shown as 0), the rows on
    screen (first by name) inspected before the rest."""
    from runbook.sources.docker.containers import FIRST_ROWS

    count = FIRST_ROWS + 12
    api = FakeAPI([])
    api.inspected = {
        f"id{n}": {
            "Id": f"id{n}",
            "Name": f"/web-{n:03d}",
            "State": {"Status": "running", "Pid": 1000 + n, "StartedAt": "2026-01-01T00:00:00Z"},
            "RestartCount": 2,
        }
        for n in reversed(range(count))
    }
    api.containers = lambda all=False: [  # type: ignore[method-assign]
        {
            "Id": f"id{n}",
            "Names": [f"/web-{n:03d}"],
            "Image": "web:v1",
            "State": "running",
            "Status": "Up 2 minutes (healthy)",
        }
        for n in reversed(range(count))
    ]
    engine = FakeEngine(api)
    monitor = ContainerMonitor(engine)  # type: ignore[arg-type]
    seen: list[object] = []
    thread = threading.Thread(target=monitor.run, args=(seen.append,))
    thread.start()
    thread.join(3)
    listings = [event for event in seen if isinstance(event, ContainersListed)]
    assert len(listings) == 3
    first, second, last = ({c.name: c for c in listing.containers} for listing in listings)
    assert len(first) == len(second) == len(last) == count
    row = first["web-000"]
    assert not row.detailed and row.pid == 0 and row.started_at is None
    assert (row.state, row.health, row.image) == ("running", "healthy", "web:v1")
    detailed = sorted(name for name, info in second.items() if info.detailed)
    assert detailed == [f"web-{n:03d}" for n in range(FIRST_ROWS)]
    assert all(info.detailed and info.restart_count == 2 for info in last.values())
    assert last["web-059"].pid == 1059


def test_parallel_map_keeps_order() -> None:
    assert threads.parallel_map(lambda n: n * 2, range(20), 4) == [n * 2 for n in range(20)]


def test_endpoints_urls_contexts_and_tls_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from docker.errors import DockerException

    from runbook.sources.docker.endpoint import resolve_endpoint

    assert resolve_endpoint("unix:///var/run/docker.sock") == ("unix:///var/run/docker.sock", False)
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    assert resolve_endpoint("tcp://127.0.0.1:2376") == ("tcp://127.0.0.1:2376", False)
    monkeypatch.setenv("HOME", "/nonexistent")
    with pytest.raises(DockerException, match="no Docker context"):
        resolve_endpoint("no-such-context")
