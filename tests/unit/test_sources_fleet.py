"""Many engines per environment: config, fan-out on threads of their own, row states."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from runbook.config import ConfigError, load_config
from runbook.sources.docker.containers import ContainerInfo, ContainersListed
from runbook.sources.docker.engine import Emit, Engine, EngineState
from runbook.sources.docker.fleet import (
    Fleet,
    HostSources,
    fleet_summary,
    host_label,
    row_state,
)
from runbook.sources.settings import SourceSettings, source_settings
from tests.waiting import wait_until


class FakeMonitor:
    """Emits one listing per `tick()`; a stalled one blocks in `run` until released."""

    def __init__(self, host: str, stalled: bool = False) -> None:
        self.host = host
        self.containers: dict[str, ContainerInfo] = {}
        self.stalled = stalled
        self.release = threading.Event()
        self.ticks = threading.Semaphore(0)
        self.stop = threading.Event()

    def run(self, emit: Emit) -> None:
        if self.stalled:
            self.release.wait()  # a hung engine: no answer, no error
            return
        number = 0
        while not self.stop.is_set():
            if not self.ticks.acquire(timeout=0.05):
                continue
            number += 1
            info = ContainerInfo(f"{self.host}-{number}", f"web-{number}", "img", "running")
            self.containers = {info.id: info}
            emit(ContainersListed((info,), self.host))


class FakeStats:
    def __init__(self) -> None:
        self.watched: tuple[str, ...] = ()

    def run(self, emit: Emit) -> None:
        pass

    def watch(self, container_ids: Iterable[str], pids: Mapping[str, int] | None = None) -> None:
        self.watched = tuple(container_ids)

    def stop(self) -> None:
        pass


def fake_fleet(*hosts: str, stalled: str = "") -> Fleet:
    return Fleet(
        [
            HostSources(host, Engine(host), FakeMonitor(host, host == stalled), FakeStats())
            for host in hosts
        ]
    )


def test_a_stalled_engine_never_holds_up_the_others() -> None:
    fleet = fake_fleet("unix:///a.sock", "tcp://127.0.0.1:2376", stalled="unix:///a.sock")
    seen: list[ContainersListed] = []
    runner = threading.Thread(target=fleet.run_monitors, args=(seen.append,), daemon=True)
    runner.start()
    healthy = fleet.hosts[1].monitor
    stalled = fleet.hosts[0].monitor
    assert isinstance(healthy, FakeMonitor) and isinstance(stalled, FakeMonitor)
    for expected in (1, 2, 3):
        healthy.ticks.release()
        wait_until(lambda expected=expected: len(seen) == expected, 5, "the healthy host lists")
    assert {listing.host for listing in seen} == {"tcp://127.0.0.1:2376"}
    assert fleet.host_of("web-3") == "tcp://127.0.0.1:2376"
    assert fleet.host_of("nowhere") == "unix:///a.sock"  # unknown: the primary engine
    fleet.stop()
    healthy.stop.set()
    wait_until(lambda: not runner.is_alive(), 5, "run_monitors returns once stopped")
    stalled.release.set()


def test_stats_are_asked_of_each_containers_own_engine() -> None:
    fleet = fake_fleet("unix:///a.sock", "unix:///b.sock")
    rows = [
        ContainerInfo("1", "x", "img", "running", host="unix:///b.sock"),
        ContainerInfo("2", "y", "img", "running", host="unix:///a.sock"),
        ContainerInfo("3", "z", "img", "running"),  # no host: the primary engine's
    ]
    fleet.watch(rows)
    first, second = (sources.stats for sources in fleet.hosts)
    assert isinstance(first, FakeStats) and isinstance(second, FakeStats)
    assert (first.watched, second.watched) == (("2", "3"), ("1",))
    fleet.watch([])
    assert first.watched == second.watched == ()


def test_rows_of_a_silent_engine_say_since_when() -> None:
    since = time.mktime((2026, 1, 17, 3, 4, 5, 0, 0, -1))
    down = EngineState(False, since, "ping timed out")
    row = ContainerInfo("1", "web", "img", "running", host="tcp://127.0.0.1:2376")
    assert row_state(row, down) == "unreachable since 03:04:05"
    assert row_state(row, EngineState(True, since)) == "running"
    assert row_state(row, None) == "running"
    summary = fleet_summary({"unix:///a.sock": EngineState(True, since), "tcp://h:1": down})
    assert summary == "1 of 2 Docker engines connected; h:1 unreachable since 03:04:05"
    assert host_label("ssh://ops@box") == "ops@box" and host_label("prod-east") == "prod-east"
    with pytest.raises(ValueError, match="at least one"):
        Fleet([])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_an_environment_names_several_engines(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            "[environments.Production]\n"
            'docker_hosts = ["unix:///run/a.sock", "tcp://127.0.0.1:2376", "ssh://ops@box", '
            '"prod-east"]\n'
            "[environments.Staging]\n"
            'docker_host = "tcp://staging:2375"\n',
        )
    )
    production = source_settings(config, "Production")
    assert production.resolved_docker_hosts == (
        "unix:///run/a.sock",
        "tcp://127.0.0.1:2376",
        "ssh://ops@box",
        "prod-east",
    )
    assert production.explicit_hosts
    assert config.environment("Staging").engines == ("tcp://staging:2375",)
    assert source_settings(config, "Staging").resolved_docker_hosts == ("tcp://staging:2375",)
    assert not SourceSettings().explicit_hosts and len(SourceSettings().resolved_docker_hosts) == 1


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('docker_hosts = "unix:///a.sock"', "docker_hosts must be a list of non-empty strings"),
        ('docker_hosts = ["unix:///a.sock", ""]', "must be a list of non-empty strings"),
        ('docker_hosts = ["tcp://h:1", "tcp://h:1"]', "names 'tcp://h:1' twice"),
        ('docker_host = "tcp://h:1"\ndocker_hosts = ["tcp://h:2"]', "not both"),
    ],
    ids=["not-a-list", "empty-name", "twice", "both-keys"],
)
def test_bad_engine_lists_are_one_line(tmp_path: Path, table: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said) as raised:
        load_config(write(tmp_path, f"[environments.Production]\n{table}\n"))
    assert "\n" not in str(raised.value)


def test_tcp_engines_take_tls_from_docker_cert_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docker.tls import TLSConfig

    from runbook.sources.docker.endpoint import resolve_endpoint

    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("not read until a connection is made\n")
    monkeypatch.setenv("DOCKER_HOST", "tcp://elsewhere:2376")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    url, tls = resolve_endpoint("tcp://127.0.0.1:2376")  # not DOCKER_HOST: still TLS
    assert url == "tcp://127.0.0.1:2376" and isinstance(tls, TLSConfig)
    assert tls.ca_cert == str(tmp_path / "ca.pem")
    assert resolve_endpoint("unix:///run/a.sock") == ("unix:///run/a.sock", False)


def test_an_ssh_engine_without_its_transport_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from runbook.sources.docker.endpoint import preflight

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "paramiko" else real_find_spec(name, *args),
    )
    assert (
        preflight("ssh://ops@box")
        == "ssh://ops@box needs the paramiko package (pip install 'runbook-console[ssh]')"
    )
    assert preflight("tcp://127.0.0.1:2376") is None
