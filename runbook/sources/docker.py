"""Containers from a Docker Engine: a list that follows events, stats, engine health.

Threads, not asyncio: the Docker SDK blocks. One `Engine` per Docker host holds
the connection settings and a watchdog thread that pings the daemon every half
second; when a ping fails it marks the engine unreachable and closes every
stream registered with it (closing the socket, not waiting for a blocked read),
which is also how `stop()` quits quickly. `ContainerMonitor` keeps the list
from a snapshot plus the event stream (create/start/die/destroy/health_status),
`StatsPoller` reads one-shot stats in parallel for the containers on screen.

CPU % is computed as `docker stats` does: the container's CPU time delta over
the host's CPU time delta, times the number of online CPUs, times 100, so
100 % is one core and a busy 4-core container shows up to 400 %.

Container actions (restart, logs, inspect) are never run here: `action_plan`
turns them into a `runbook.execution.plan.Plan` for the executor, which confirms and audits.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import docker
from docker.errors import DockerException, NotFound

from runbook.config import DEFAULT_ENVIRONMENT, Config
from runbook.execution.plan import Plan, PlannedCommand

Emit = Callable[[object], object]
_T = TypeVar("_T")
_R = TypeVar("_R")

WATCHED_EVENTS = (
    "create start restart die stop kill destroy health_status pause unpause rename oom".split()
)
"""Container events that change a row; exec_* events of health checks are not asked for."""


class Closable(Protocol):
    def close(self) -> None: ...


@dataclass(frozen=True)
class EngineState:
    """Whether the engine answers, since when, and why not."""

    reachable: bool
    since: float
    """Epoch seconds of the last change."""
    detail: str = ""
    hint: str = ""
    """What the operator can do (socket path, docker group), for start-up failures."""

    def describe(self) -> str:
        if self.reachable:
            return "Docker engine connected"
        clock = datetime.fromtimestamp(self.since).strftime("%H:%M:%S")
        text = f"Docker engine unreachable since {clock}, retrying"
        return f"{text}: {self.hint}" if self.hint else text


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    image: str
    state: str
    """created, running, paused, restarting, exited, dead."""
    health: str = ""
    """healthy, unhealthy, starting, or "" without a health check."""
    started_at: float | None = None
    restart_count: int = 0

    def uptime_s(self, now: float | None = None) -> float | None:
        if self.state != "running" or self.started_at is None:
            return None
        return max(0.0, (now or time.time()) - self.started_at)


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
class ContainersListed:
    containers: tuple[ContainerInfo, ...]


@dataclass(frozen=True)
class ContainerChanged:
    container: ContainerInfo
    action: str


@dataclass(frozen=True)
class ContainerRemoved:
    id: str


@dataclass(frozen=True)
class StatsSampled:
    stats: tuple[ContainerStats, ...]


@dataclass(frozen=True)
class EngineChanged:
    state: EngineState


def preflight(base_url: str) -> str | None:
    """A start-up problem with a local socket and what to do about it, or None."""
    if not base_url.startswith(("unix://", "/")):
        return None
    path = Path(base_url.removeprefix("unix://"))
    if not path.exists():
        return (
            f"socket {path} does not exist: start the engine (systemctl start docker) "
            f"or set docker_host for this environment in the config"
        )
    if not stat.S_ISSOCK(path.stat().st_mode):
        return f"{path} is not a socket: check docker_host in the config"
    if not os.access(path, os.R_OK | os.W_OK):
        return (
            f"permission denied on {path}: add your user to the docker group "
            f"(sudo usermod -aG docker $USER, then log in again) or run as root"
        )
    return None


def resolve_host(docker_host: str) -> str:
    """A Docker context name becomes its endpoint; URLs pass through."""
    return resolve_endpoint(docker_host)[0]


def resolve_endpoint(docker_host: str) -> tuple[str, Any]:
    """(base URL, TLS config or False) for a URL or a Docker context name.

    A tcp:// host equal to DOCKER_HOST takes DOCKER_TLS_VERIFY/DOCKER_CERT_PATH from the
    environment, as the docker CLI does; a context brings its own TLS material.
    """
    if "://" in docker_host or docker_host.startswith("/"):
        if docker_host.startswith("tcp://") and os.environ.get("DOCKER_HOST") == docker_host:
            from docker.utils import kwargs_from_env

            return docker_host, kwargs_from_env().get("tls") or False
        return docker_host, False
    from docker.context import ContextAPI  # only contexts need the context store

    context = ContextAPI.get_context(docker_host)
    if context is None:
        raise DockerException(f"no Docker context named {docker_host!r}")
    return str(context.Host), context.TLSConfig or False


def close_stream(stream: Any) -> None:
    """Close a Docker SDK stream by shutting its socket, so a blocked read returns now."""
    if isinstance(getattr(stream, "socket", None), socket.socket):
        stream.close()  # a RawStream
        return
    response = getattr(stream, "_response", stream)
    with contextlib.suppress(Exception):
        raw = response.raw
        fp = raw._fp.fp if raw._fp is not None else None
        sock: Any = None
        if fp is not None:
            inner = getattr(fp, "raw", None)
            sock = getattr(inner, "_sock", None) or getattr(inner, "sock", None)
            if sock is None:
                sock = getattr(fp, "_sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
    with contextlib.suppress(Exception):
        response.close()


class Engine:
    """One Docker host: clients, a health watchdog, and the streams to close on trouble."""

    def __init__(
        self,
        docker_host: str,
        *,
        timeout_s: float = 3.0,
        ping_interval_s: float = 0.5,
        ping_timeout_s: float = 1.0,
        emit: Emit | None = None,
    ) -> None:
        self.docker_host = docker_host
        self.timeout_s = timeout_s
        self.ping_interval_s = ping_interval_s
        self.ping_timeout_s = ping_timeout_s
        self._emit = emit
        self._listeners: list[Emit] = []
        self._streams: set[Any] = set()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopped = threading.Event()
        self._kick = threading.Event()
        self._thread: threading.Thread | None = None
        self._api_version: str | None = None
        self.state = EngineState(reachable=False, since=time.time(), detail="not connected yet")
        self._base_url: str | None = None
        self._tls: Any = False

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def subscribe(self, listener: Emit) -> None:
        """Call `listener(EngineChanged(...))` on every change (from the watchdog thread)."""
        with self._lock:
            self._listeners.append(listener)
        listener(EngineChanged(self.state))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._watch, name=f"docker-watchdog {self.docker_host}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the watchdog and close every open stream; returns at once."""
        self._stopped.set()
        self._kick.set()
        with self._changed:
            self._changed.notify_all()
        self.close_streams()

    def close_streams(self) -> None:
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            close_stream(stream)

    def register(self, stream: Any) -> None:
        with self._lock:
            self._streams.add(stream)
        if self._stopped.is_set() or not self.state.reachable:
            close_stream(stream)

    def unregister(self, stream: Any) -> None:
        with self._lock:
            self._streams.discard(stream)
        close_stream(stream)

    def report_failure(self, detail: str) -> None:
        """A stream or call failed: ping now rather than at the next tick."""
        self._kick.set()
        del detail

    @property
    def base_url(self) -> str:
        return self._base_url or resolve_host(self.docker_host)

    @property
    def tls(self) -> bool:
        return bool(self._tls)

    @property
    def api_version(self) -> str:
        return self._api_version or "1.41"

    def client(self, timeout_s: float | None = None, pool: int = 4) -> docker.APIClient:
        """A new low-level client; each thread keeps its own (requests sessions are not shared)."""
        if self._base_url is None:
            self._base_url, self._tls = resolve_endpoint(self.docker_host)
        return docker.APIClient(
            base_url=self._base_url,
            tls=self._tls,
            version=self._api_version or "1.41",
            timeout=timeout_s if timeout_s is not None else self.timeout_s,  # type: ignore[arg-type]
            max_pool_size=pool,
        )

    def wait_reachable(self, timeout_s: float | None = None) -> bool:
        """Block until the engine answers (True) or the engine is stopped/timeout (False)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            while not self.state.reachable and not self._stopped.is_set():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining if remaining is not None else 0.5)
            return self.state.reachable and not self._stopped.is_set()

    def sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; True when still running."""
        return not self._stopped.wait(seconds)

    def _set_state(self, reachable: bool, detail: str = "", hint: str = "") -> None:
        with self._changed:
            if reachable == self.state.reachable and (reachable or hint == self.state.hint):
                self.state = EngineState(reachable, self.state.since, detail, hint)
                return
            # "Unreachable since" keeps the time of the first failure when the reason changes.
            since = self.state.since if reachable == self.state.reachable else time.time()
            self.state = EngineState(reachable, since, detail, hint)
            listeners = list(self._listeners)
            self._changed.notify_all()
        if not reachable:
            self.close_streams()
        for listener in listeners:
            listener(EngineChanged(self.state))

    def _watch(self) -> None:
        pinger: docker.APIClient | None = None
        while not self._stopped.is_set():
            try:
                if self._base_url is None:
                    self._base_url, self._tls = resolve_endpoint(self.docker_host)
                problem = preflight(self._base_url)
                if problem:
                    self._set_state(False, problem, hint=problem)
                else:
                    if pinger is None:
                        pinger = docker.APIClient(
                            base_url=self._base_url,
                            tls=self._tls,
                            version="1.24",
                            timeout=self.ping_timeout_s,  # type: ignore[arg-type]
                        )
                    pinger.ping()
                    if self._api_version is None:
                        self._api_version = str(pinger.version(api_version=False)["ApiVersion"])
                    self._set_state(True)
            except Exception as error:  # noqa: BLE001 - any failure means "unreachable"
                if pinger is not None:
                    with contextlib.suppress(Exception):
                        pinger.close()
                pinger = None
                self._set_state(False, _short(error))
            self._kick.wait(self.ping_interval_s)
            self._kick.clear()
        if pinger is not None:
            with contextlib.suppress(Exception):
                pinger.close()


def run_until_stopped(engine: Any, loop: Callable[[], None], name: str) -> None:
    """Run `loop` on a daemon thread and return as soon as it ends or the engine stops.

    A call blocked on a hung engine (an inspect waiting for its timeout) then never
    holds up the caller, such as a TUI worker the app waits for when quitting.
    """
    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    while thread.is_alive() and not engine.stopped:
        thread.join(0.05)


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


def _parse_time(value: str | None) -> float | None:
    if not value or value.startswith("0001-"):
        return None
    head, _, rest = value.partition(".")
    fraction = "0." + "".join(ch for ch in rest if ch.isdigit()) if rest else "0"
    try:
        base = datetime.strptime(head.rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return base.timestamp() + float(fraction)


def container_from_inspect(data: dict[str, Any]) -> ContainerInfo:
    """A row from `docker inspect` output."""
    state = data.get("State") or {}
    config = data.get("Config") or {}
    health = (state.get("Health") or {}).get("Status", "")
    return ContainerInfo(
        id=str(data.get("Id", "")),
        name=str(data.get("Name", "")).lstrip("/"),
        image=str(config.get("Image") or data.get("Image", "")),
        state=str(state.get("Status", "")),
        health=str(health or ""),
        started_at=_parse_time(state.get("StartedAt")),
        restart_count=int(data.get("RestartCount") or 0),
    )


class ContainerMonitor:
    """The container list: a snapshot, then Docker events; resynchronised after an outage."""

    def __init__(self, engine: Engine, *, inspect_threads: int = 8, name_filter: str = "") -> None:
        self.engine = engine
        self.inspect_threads = inspect_threads
        self.name_filter = name_filter
        """Only containers whose name contains this are reported."""
        self.containers: dict[str, ContainerInfo] = {}

    def run(self, emit: Emit) -> None:
        """Follow the engine until `engine.stop()`; blocks (run it on a worker thread)."""
        run_until_stopped(self.engine, lambda: self._loop(emit), "docker-containers")

    def _loop(self, emit: Emit) -> None:
        while not self.engine.stopped:
            if not self.engine.wait_reachable():
                break
            client: docker.APIClient | None = None
            stream: Any = None
            try:
                client = self.engine.client(pool=self.inspect_threads + 1)
                stream = client.events(
                    decode=True, filters={"type": "container", "event": list(WATCHED_EVENTS)}
                )
                self.engine.register(stream)
                self._snapshot(client, emit)
                for event in stream:
                    if self.engine.stopped:
                        break
                    self._apply(client, event, emit)
                reason = "event stream ended"
            except Exception as error:  # noqa: BLE001 - raw urllib3/requests errors included
                reason = _short(error)
            finally:
                if stream is not None:
                    self.engine.unregister(stream)
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.close()
            if self.engine.stopped:
                break
            self.engine.report_failure(reason)
            self.engine.sleep(0.2)

    def _snapshot(self, client: docker.APIClient, emit: Emit) -> None:
        summaries = client.containers(all=True)
        ids = [
            str(summary["Id"])
            for summary in summaries
            if any(self.name_filter in name for name in summary.get("Names") or ["/"])
        ]
        found = parallel_map(self._inspector(), ids, self.inspect_threads)
        self.containers = {info.id: info for info in found if info is not None}
        emit(ContainersListed(tuple(self.containers.values())))

    def _inspector(self) -> Callable[[str], ContainerInfo | None]:
        local = threading.local()

        def inspect(container_id: str) -> ContainerInfo | None:
            if not hasattr(local, "client"):
                local.client = self.engine.client()
            try:
                return container_from_inspect(local.client.inspect_container(container_id))
            except NotFound:
                return None

        return inspect

    def _apply(self, client: docker.APIClient, event: dict[str, Any], emit: Emit) -> None:
        action = str(event.get("Action") or event.get("status") or "")
        container_id = str(event.get("id") or (event.get("Actor") or {}).get("ID") or "")
        if not container_id:
            return
        if action == "destroy":
            if self.containers.pop(container_id, None) is not None:
                emit(ContainerRemoved(container_id))
            return
        try:
            info = container_from_inspect(client.inspect_container(container_id))
        except NotFound:
            if self.containers.pop(container_id, None) is not None:
                emit(ContainerRemoved(container_id))
            return
        if self.name_filter not in info.name:
            if self.containers.pop(container_id, None) is not None:
                emit(ContainerRemoved(container_id))
            return
        if self.containers.get(container_id) != info:
            self.containers[container_id] = info
            emit(ContainerChanged(info, action.split(":")[0]))


def parallel_map(function: Callable[[_T], _R], items: Iterable[_T], threads: int) -> list[_R]:
    """`map` over daemon threads (a ThreadPoolExecutor would be joined at exit)."""
    work: queue.SimpleQueue[tuple[int, _T]] = queue.SimpleQueue()
    listed = list(items)
    for index, item in enumerate(listed):
        work.put((index, item))
    results: list[Any] = [None] * len(listed)
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            try:
                index, item = work.get_nowait()
            except queue.Empty:
                return
            try:
                results[index] = function(item)
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller
                errors.append(error)

    workers = [
        threading.Thread(target=worker, daemon=True) for _ in range(min(threads, len(listed)))
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if errors:
        raise errors[0]
    return results


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
                emit(StatsSampled(tuple(samples)))
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


ContainerAction = Literal["restart", "logs", "inspect"]


def action_plan(
    action: ContainerAction,
    container: ContainerInfo,
    *,
    docker_host: str | None = None,
    environment: str | None = None,
    config: Config | None = None,
    runbook_sha256: str = "",
    runbook_path: str | None = None,
) -> Plan:
    """A plan the executor runs (after confirmation, with an audit record) for a row's action.

    The command names the container by id as well as showing its name, so a
    container recreated under the same name in between is not the one acted on.
    """
    config = config or Config()
    environment = environment or DEFAULT_ENVIRONMENT
    production = config.is_production(environment)
    short = container.id[:12]
    code = {
        "restart": f"docker restart {short}",
        "logs": f"docker logs --tail 200 --timestamps {short}",
        "inspect": f"docker inspect {short}",
    }[action]
    env: tuple[tuple[str, str], ...] = (("DOCKER_HOST", docker_host),) if docker_host else ()
    risk: Literal["read-only", "mutating"] = "mutating" if action == "restart" else "read-only"
    return Plan(
        runbook_path=runbook_path,
        runbook_sha256=runbook_sha256,
        procedure=f"live: containers / {action}",
        procedure_title=f"Container {action}",
        step_index=1,
        step_title=f"{action} {container.name} ({short})",
        commands=(PlannedCommand(code=code, risk=risk, line=0, timeout_s=60.0, env=env),),
        cwd=str(Path.cwd()),
        environment=environment,
        production=production,
        risk=risk,
        needs_confirmation=risk != "read-only",
        missing=(),
        grace_s=config.execution.grace_s,
        env=tuple(sorted(config.environment(environment).env.items())),
    )


__all__ = [
    "ContainerChanged",
    "ContainerInfo",
    "ContainerMonitor",
    "ContainerRemoved",
    "ContainerStats",
    "ContainersListed",
    "Engine",
    "EngineChanged",
    "EngineState",
    "StatsPoller",
    "StatsSampled",
    "action_plan",
    "preflight",
]
