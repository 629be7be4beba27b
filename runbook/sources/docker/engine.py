"""One Docker host: how to reach it, whether it answers, and the streams to drop when not.

Threads, not asyncio: the Docker SDK blocks. An `Engine` holds the connection
settings and a watchdog thread that pings the daemon every half second; when a
ping fails it marks the engine unreachable and closes every stream registered
with it (see `streams`), which is also how `stop()` quits quickly. Sources
(`containers`, `stats`, `runbook.sources.logs`) wait on it and report through
an `Emit` callback.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import docker

from runbook.sources.docker.endpoint import preflight, resolve_endpoint, resolve_host
from runbook.sources.docker.streams import close_stream

Emit = Callable[[object], object]


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
class EngineChanged:
    state: EngineState
    host: str = ""
    """The engine's `docker_host` as configured."""


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
        self._stop_callbacks: list[Callable[[], object]] = []
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
        listener(EngineChanged(self.state, self.docker_host))

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
            callbacks = list(self._stop_callbacks)
        self.close_streams()
        for callback in callbacks:
            callback()

    def on_stop(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call `callback` when the engine stops (at once if it has); returns what undoes it."""
        with self._lock:
            self._stop_callbacks.append(callback)
        if self._stopped.is_set():
            callback()

        def forget() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._stop_callbacks.remove(callback)

        return forget

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
        """A new low-level client; each thread keeps its own (requests sessions are not shared).

        Over ssh:// the client's SSH connection is made here, one handshake at a time per
        host: sshd's defaults (MaxStartups 10:30:100) drop connections that arrive in a
        burst while others still authenticate, and a dozen rows' readers starting
        together made such a burst."""
        if self._base_url is None:
            self._base_url, self._tls = resolve_endpoint(self.docker_host)
        if self._base_url.startswith("ssh://"):
            with _ssh_handshake_lock(self._base_url):
                return self._new_client(timeout_s, pool)
        return self._new_client(timeout_s, pool)

    def _new_client(self, timeout_s: float | None, pool: int) -> docker.APIClient:
        assert self._base_url is not None
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
            listener(EngineChanged(self.state, self.docker_host))

    def _watch(self) -> None:
        pinger: docker.APIClient | None = None
        light: SocketPing | None = None
        while not self._stopped.is_set():
            try:
                if self._base_url is None:
                    self._base_url, self._tls = resolve_endpoint(self.docker_host)
                problem = preflight(self._base_url)
                if problem:
                    self._set_state(False, problem, hint=problem)
                elif light is not None:
                    light.ping()
                    self._set_state(True)
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
                    light = SocketPing.for_url(self._base_url, self.ping_timeout_s)
            except Exception as error:  # noqa: BLE001 - any failure means "unreachable"
                if pinger is not None:
                    with contextlib.suppress(Exception):
                        pinger.close()
                pinger = None
                if light is not None:
                    light.close()
                light = None
                self._set_state(False, short_error(error))
            self._kick.wait(self.ping_interval_s)
            self._kick.clear()
        if pinger is not None:
            with contextlib.suppress(Exception):
                pinger.close()
        if light is not None:
            light.close()


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout_s: float) -> None:
        super().__init__("localhost", timeout=timeout_s)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


_SSH_HANDSHAKES: dict[str, threading.Lock] = {}
_SSH_HANDSHAKES_LOCK = threading.Lock()


def _ssh_handshake_lock(url: str) -> threading.Lock:
    """The lock that lets one SSH handshake at a time reach this host (Engine.client)."""
    with _SSH_HANDSHAKES_LOCK:
        return _SSH_HANDSHAKES.setdefault(url, threading.Lock())


class SocketPing:
    """`GET /_ping` on one kept-open connection to a local engine's socket.

    The watchdog pings twice a second for as long as the console runs; through the SDK
    (a requests session, its adapters and hooks) each ping cost the console about ten
    times as much CPU. A ping that fails or times out (a frozen daemon) raises.
    """

    def __init__(self, path: str, timeout_s: float) -> None:
        self._connection = _UnixConnection(path, timeout_s)

    @classmethod
    def for_url(cls, base_url: str, timeout_s: float) -> SocketPing | None:
        """For a unix socket URL; None for others (they keep the SDK's client)."""
        if base_url.startswith("unix://"):
            return cls(base_url.removeprefix("unix://"), timeout_s)
        if base_url.startswith("/"):
            return cls(base_url, timeout_s)
        return None

    def ping(self) -> None:
        try:
            self._connection.request("GET", "/_ping", headers={"User-Agent": "runbook-console"})
            response = self._connection.getresponse()
            response.read()
        except Exception:
            self.close()
            raise
        if response.status != 200:
            raise ConnectionError(f"the engine answered its ping with HTTP {response.status}")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._connection.close()


def follow_events(
    engine: Engine,
    filters: dict[str, Any],
    session: Callable[[docker.APIClient, Any], None],
    *,
    pool: int,
) -> None:
    """Until `engine.stop()`: wait for the engine, open an event stream with `filters` and
    run `session(client, stream)`; when it ends or fails, ping at once and reconnect.

    The stream is registered with the engine, so an outage or a stop closes it and the
    session returns; the client is closed after each session.
    """
    while not engine.stopped:
        if not engine.wait_reachable():
            break
        client: docker.APIClient | None = None
        stream: Any = None
        try:
            client = engine.client(pool=pool)
            stream = client.events(decode=True, filters=filters)
            engine.register(stream)
            session(client, stream)
            reason = "event stream ended"
        except Exception as error:  # noqa: BLE001 - raw urllib3/requests errors included
            reason = short_error(error)
        finally:
            if stream is not None:
                engine.unregister(stream)
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()
        if engine.stopped:
            break
        engine.report_failure(reason)
        engine.sleep(0.2)


def short_error(error: BaseException) -> str:
    """The first line of an error, cut to 200 characters, for a state's detail."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]
