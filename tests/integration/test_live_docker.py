"""The containers source against the real Docker Engine, and through a proxy we break.

Engine failures (stopped, killed, hung) are played by a unix-socket proxy in front of
the shared dockerd, never by stopping dockerd itself.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from live_helpers import SocketProxy, run_container

from runbook.sources.docker.cgroups import CgroupReader
from runbook.sources.docker.containers import ContainerChanged, ContainerRemoved, ContainersListed
from runbook.sources.docker.engine import Engine, EngineChanged
from runbook.sources.docker.stats import StatsPoller, StatsSampled
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self) -> None:
        self.items: list[tuple[float, object]] = []
        self.lock = threading.Lock()

    def __call__(self, item: object) -> None:
        with self.lock:
            self.items.append((time.monotonic(), item))

    def of(self, kind: type) -> list[Any]:
        with self.lock:
            return [item for _, item in self.items if isinstance(item, kind)]

    def engine_states(self) -> list[bool]:
        return [item.state.reachable for item in self.of(EngineChanged)]


def start_sources(url: str) -> tuple[Engine, Recorder, list[threading.Thread], Any]:
    from runbook.sources.docker.containers import ContainerMonitor

    recorder = Recorder()
    engine = Engine(url)
    engine.subscribe(recorder)
    engine.start()
    monitor = ContainerMonitor(engine)
    poller = StatsPoller(engine, interval_s=1.0)
    threads = [
        threading.Thread(target=monitor.run, args=(recorder,), daemon=True),
        threading.Thread(target=poller.run, args=(recorder,), daemon=True),
    ]
    for thread in threads:
        thread.start()
    return engine, recorder, threads, (monitor, poller)


def test_list_follows_events_create_start_health_die_destroy(
    docker_client: Any, token: str
) -> None:
    engine, recorder, threads, (monitor, _) = start_sources("unix:///var/run/docker.sock")
    try:
        wait_until(lambda: bool(recorder.of(ContainersListed)), 5)
        container = run_container(
            docker_client,
            token,
            "sleep 300",
            healthcheck={"test": ["CMD", "true"], "interval": 300_000_000, "retries": 1},
        )
        cid = container.id
        wait_until(lambda: monitor.containers.get(cid) is not None, 5)
        wait_until(lambda: monitor.containers[cid].state == "running", 5)
        wait_until(lambda: monitor.containers[cid].health == "healthy", 10)
        changes = [c for c in recorder.of(ContainerChanged) if c.container.id == cid]
        actions = {c.action for c in changes}
        assert {"create", "health_status"} <= actions
        # Each event is inspected when it arrives: on a busy engine, the inspect after
        # "create" may already see it running, and "start" then changes nothing to report.
        assert "start" in actions or changes[0].container.state == "running", changes
        container.kill()
        wait_until(lambda: monitor.containers[cid].state == "exited", 5)
        container.remove()
        wait_until(lambda: any(r.id == cid for r in recorder.of(ContainerRemoved)), 5)
        assert cid not in monitor.containers
    finally:
        engine.stop()
        for thread in threads:
            thread.join(2)


def test_stats_cpu_as_docker_stats_and_memory(docker_client: Any, token: str) -> None:
    busy = run_container(docker_client, token, "while :; do :; done")
    idle = run_container(docker_client, token, "sleep 300")
    engine, recorder, threads, (_, poller) = start_sources("unix:///var/run/docker.sock")
    try:
        poller.watch([busy.id, idle.id])  # no pids: read from the engine, as a remote one is

        def figures() -> dict[str, Any]:
            latest: dict[str, Any] = {}
            for batch in recorder.of(StatsSampled):
                for sample in batch.stats:
                    if sample.cpu_percent is not None:
                        latest[sample.id] = sample
            return latest

        # How soon is bench/peer.py's to print: a loaded box makes any bound here flaky.
        wait_until(lambda: {busy.id, idle.id} <= set(figures()), 30)
        # One busy loop is at most one core (100 %); a shared CI box gives it less.
        wait_until(lambda: figures()[busy.id].cpu_percent > 10, 5)
        latest = figures()
        assert latest[busy.id].cpu_percent < 110
        assert latest[idle.id].cpu_percent < 5
        assert latest[idle.id].memory_used and latest[idle.id].memory_limit
        assert latest[idle.id].net_rx is None  # host networking: no interface of its own
    finally:
        engine.stop()
        for thread in threads:
            thread.join(2)


def test_a_new_container_gets_a_cpu_figure_from_its_cgroup(docker_client: Any, token: str) -> None:
    """As the pane does: the monitor reports the new row, the poller is asked for it with
    its pid, and the local engine's figures come from the container's cgroup files."""
    engine, recorder, threads, (monitor, poller) = start_sources("unix:///var/run/docker.sock")
    try:
        wait_until(lambda: bool(recorder.of(ContainersListed)), 10)
        container = run_container(docker_client, token, "while :; do :; done")

        def running() -> Any:
            info = monitor.containers.get(container.id)
            return info if info is not None and info.state == "running" and info.pid else None

        info = wait_until(running, 30, "the new container running, with its pid")
        poller.watch([info.id], {info.id: info.pid})

        def latest() -> Any:
            found = [
                sample
                for batch in recorder.of(StatsSampled)
                for sample in batch.stats
                if sample.id == info.id and sample.cpu_percent is not None
            ]
            return found[-1] if found else None

        wait_until(latest, 30, "a CPU figure for the new container")
        assert isinstance(poller.local, CgroupReader)
        assert poller.local.read(info.id, info.pid) is not None, "read from its cgroup"
        # One busy loop is at most one core (100 %); a shared box gives it less.
        busy = wait_until(lambda: (s := latest()) and s.cpu_percent > 10 and s, 30, "busy")
        assert busy.cpu_percent < 110
        assert busy.memory_used and busy.memory_limit
        assert busy.net_rx is None  # host networking: no interface of its own
    finally:
        engine.stop()
        for thread in threads:
            thread.join(2)


@pytest.mark.parametrize("failure", ["stopped", "killed", "hung"])
def test_engine_failure_shows_within_2s_and_recovers_within_5s(
    proxy: SocketProxy, docker_client: Any, token: str, failure: str
) -> None:
    engine, recorder, threads, (monitor, _) = start_sources(proxy.url)
    try:
        wait_until(lambda: bool(recorder.of(ContainersListed)), 5)
        failed_at = time.monotonic()
        if failure == "hung":
            proxy.hang()
        else:
            proxy.stop(keep_socket_file=failure == "killed")
        wait_until(lambda: recorder.engine_states()[-1] is False, 2.0)
        assert time.monotonic() - failed_at < 2.0
        state = recorder.of(EngineChanged)[-1].state
        assert state.describe().startswith("Docker engine unreachable since ")
        assert ", retrying" in state.describe()
        listed_before = len(recorder.of(ContainersListed))
        container = run_container(docker_client, token, "sleep 300")  # made while we are blind
        back_at = time.monotonic()
        proxy.start()
        wait_until(lambda: recorder.engine_states()[-1] is True, 5.0)
        wait_until(lambda: len(recorder.of(ContainersListed)) > listed_before, 5.0)
        assert time.monotonic() - back_at < 5.0
        assert container.id in monitor.containers  # resynchronised from a fresh snapshot
    finally:
        engine.stop()
        for thread in threads:
            thread.join(2)


def test_streams_cut_mid_read_reconnect_and_events_flow_again(
    proxy: SocketProxy, docker_client: Any, token: str
) -> None:
    engine, recorder, threads, (monitor, _) = start_sources(proxy.url)
    try:
        wait_until(lambda: bool(recorder.of(ContainersListed)), 5)
        listed_before = len(recorder.of(ContainersListed))
        proxy.cut()  # the daemon drops every connection (killed and restarted at once)
        # Reconnected: the event stream is open again and a fresh snapshot was listed.
        wait_until(lambda: len(recorder.of(ContainersListed)) > listed_before, 5)
        container = run_container(docker_client, token, "sleep 300")  # seen through events
        wait_until(lambda: container.id in monitor.containers, 5)
    finally:
        engine.stop()
        for thread in threads:
            thread.join(2)


def test_missing_socket_at_start_says_what_to_do() -> None:
    recorder = Recorder()
    engine = Engine("unix:///tmp/rbc-no-such-dir/docker.sock")
    engine.subscribe(recorder)
    engine.start()
    try:
        wait_until(lambda: any(s.state.hint for s in recorder.of(EngineChanged)), 2)
        text = recorder.of(EngineChanged)[-1].state.describe()
        assert "/tmp/rbc-no-such-dir/docker.sock does not exist" in text
        assert "unreachable since" in text
    finally:
        engine.stop()


def test_closing_every_open_stream_takes_under_1_5s_even_when_hung(
    proxy: SocketProxy, docker_client: Any, token: str
) -> None:
    from runbook.sources.logs import LogFollower

    containers = [run_container(docker_client, token, "while :; do echo tick; sleep 0.1; done")]
    containers += [run_container(docker_client, token, "sleep 300") for _ in range(2)]
    engine, recorder, threads, (_, poller) = start_sources(proxy.url)
    poller.watch([c.id for c in containers])
    follower = LogFollower(engine, [c.name for c in containers])
    log_thread = threading.Thread(target=follower.run, args=(recorder,), daemon=True)
    log_thread.start()
    wait_until(lambda: bool(recorder.of(StatsSampled)), 5)
    proxy.hang()  # every stream now blocks in a read that will never return
    wait_until(lambda: proxy.swallowed > 0, 5, "the hung proxy holds back what the engine sends")
    started = time.monotonic()
    follower.stop()
    engine.stop()
    poller.stop()
    for thread in [*threads, log_thread]:
        thread.join(1.5)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in [*threads, log_thread])
    assert elapsed < 1.5
