"""One GET per URL per interval, shared by every reader of that URL, on one timer.

The health pane, the serving strip and the gauges' fallback all read the same base
URL (`/health` by all three, `/ready` and `/metrics` by two). Each used to probe on a
timer of its own; a `Prober` takes their subscriptions instead:

- one task wakes at the earliest due subscription (timers merged) and serves every
  subscription due within `SLACK_S` of it in the same wake-up;
- a URL read by several readers is fetched once: a reader takes an answer younger than
  half its interval, or the request already in flight;
- while a host refuses connections, the next probe first tries a bare socket connect
  (microseconds) and goes through httpx only when that connects: a refused connection
  through httpx costs about a millisecond of CPU, every second, for nothing.

Every answer, or failure, is a `Probed`: the readers turn it into what they show
(runbook.sources.health, serving, fallback). Nothing here is textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from runbook.sources.probe import PROBE_HEADERS

if TYPE_CHECKING:
    import httpx

SLACK_S = 0.25
"""Subscriptions due this soon after a wake-up are served in it (fewer wake-ups), at most
a quarter of their interval early."""


@dataclass(frozen=True)
class Probed:
    """One GET of one URL: its answer, or why none came."""

    url: str
    at: float
    """Epoch seconds when the answer (or the failure) came."""
    status: int | None = None
    """HTTP status; None when no answer came."""
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str = ""
    latency_s: float | None = None
    error: Exception | None = None
    """The httpx error when no answer came (a refused connection is an httpx.ConnectError)."""
    timed_out_s: float | None = None
    """The deadline, when no answer came before it."""

    @property
    def answered(self) -> bool:
        return self.status is not None


async def probe_once(client: httpx.AsyncClient, url: str, deadline_s: float) -> Probed:
    """GET `url` once under a deadline (body included); never raises for network trouble."""
    import httpx  # here, not at the top: `import httpx` loads rich (for httpx's own CLI)

    started = time.monotonic()
    try:
        response = await asyncio.wait_for(
            client.get(url, headers=PROBE_HEADERS, timeout=deadline_s + 1.0), timeout=deadline_s
        )
    except TimeoutError:
        return Probed(url, time.time(), timed_out_s=deadline_s)
    except httpx.HTTPError as error:
        return Probed(url, time.time(), error=error)
    return Probed(
        url,
        time.time(),
        status=response.status_code,
        headers=dict(response.headers),
        text=response.text,
        latency_s=time.monotonic() - started,
    )


def _direct_addresses(url: str) -> list[tuple[int, tuple[str, int]]] | None:
    """(family, address) to try a bare connect to, for a URL whose host is an IP literal or
    localhost and that no proxy applies to; None when the check cannot stand for httpx's."""
    parts = urlsplit(url)
    host = parts.hostname
    if host is None or parts.scheme not in ("http", "https"):
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    import urllib.request  # here: only once a host refused, not at the console's start

    proxies = urllib.request.getproxies()
    if any(key in proxies for key in (parts.scheme, "all")) and not urllib.request.proxy_bypass(
        host
    ):
        return None
    if host == "localhost":
        return [(socket.AF_INET, ("127.0.0.1", port)), (socket.AF_INET6, ("::1", port))]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return [(family, (host, port))]


async def _refused(addresses: Sequence[tuple[int, tuple[str, int]]], deadline_s: float) -> str:
    """Why none of `addresses` accepts a connection, or "" when one does."""
    loop = asyncio.get_running_loop()
    why = ""
    for family, address in addresses:
        with contextlib.closing(socket.socket(family, socket.SOCK_STREAM)) as sock:
            sock.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(sock, address), deadline_s)
            except TimeoutError:
                return ""  # not refused: httpx will say what happens
            except OSError as error:
                why = why or (os.strerror(error.errno) if error.errno else str(error))
                continue
            return ""
    return why or "connection refused"


def _shorter_wait(probed: Probed, deadline_s: float) -> bool:
    """Whether this answer is a timeout under a shorter deadline than a reader's own (the
    serving strip waits 1.5 s, the health checks 2 s: theirs is asked again)."""
    return probed.timed_out_s is not None and probed.timed_out_s < deadline_s


@dataclass(eq=False)
class Subscription:
    """A reader's URLs, read every `interval_s`; `deliver` gets each round's answers."""

    urls: tuple[str, ...]
    interval_s: float
    deadline_s: float
    deliver: Callable[[dict[str, Probed]], object]
    """Called on the event loop; when it returns an awaitable, the round lasts until it is done."""
    on_error: Callable[[Exception], object] | None = None
    """Called with what `deliver` raised (else it is raised in the prober's task)."""
    on_closed: Callable[[], object] | None = None
    """Called when the prober closes under a reader that did not cancel (it may read on
    elsewhere: the serving strip outlives the live panes' prober)."""
    due: float = 0.0
    running: bool = False
    cancelled: bool = False
    prober: Prober | None = None

    def cancel(self) -> None:
        """No more rounds, and no delivery of one under way."""
        self.cancelled = True
        if self.prober is not None:
            self.prober._forget(self)


class Prober:
    """Probes for every reader of the environment's service (see the module docstring)."""

    def __init__(
        self,
        *,
        slack_s: float = SLACK_S,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
    ) -> None:
        self.slack_s = slack_s
        self.client_factory = client_factory
        """Makes the client of the first request (tests pass a MockTransport's)."""
        self.requests = 0
        """GETs sent through httpx so far (bare connect checks not counted)."""
        self._subscriptions: list[Subscription] = []
        self._last: dict[str, tuple[float, Probed]] = {}
        """URL -> (monotonic time the answer came, the answer)."""
        self._in_flight: dict[str, asyncio.Future[Probed]] = {}
        self._refusing: set[tuple[str, int | None]] = set()
        """Hosts whose last probe was refused: the next one checks with a bare connect."""
        self._direct: dict[str, list[tuple[int, tuple[str, int]]] | None] = {}
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._closed = False

    def subscribe(
        self,
        urls: Sequence[str],
        interval_s: float,
        deadline_s: float,
        deliver: Callable[[dict[str, Probed]], object],
        on_error: Callable[[Exception], object] | None = None,
        on_closed: Callable[[], object] | None = None,
    ) -> Subscription:
        """Read `urls` now and every `interval_s` from now on; call on the event loop.

        `deliver(answers)` is called on the event loop with every URL's `Probed`; rounds of
        one subscription never overlap.
        """
        subscription = Subscription(
            tuple(urls),
            interval_s,
            deadline_s,
            deliver,
            on_error,
            on_closed,
            due=time.monotonic(),
            prober=self,
        )
        if self._closed:
            subscription.cancelled = True
            return subscription
        self._subscriptions.append(subscription)
        if self._wake is None:
            self._wake = asyncio.Event()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="prober")
        self._wake.set()
        return subscription

    def _forget(self, subscription: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscriptions.remove(subscription)

    def close(self) -> None:
        """Stop every round and close the connections; returns at once."""
        self._closed = True
        for subscription in list(self._subscriptions):
            subscription.cancel()
            if subscription.on_closed is not None:
                subscription.on_closed()
        if self._task is not None:
            self._task.cancel()
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(RuntimeError):  # no loop: nothing left to close on
                asyncio.get_running_loop().create_task(client.aclose())

    async def fetch(self, url: str, deadline_s: float, fresh_s: float = 0.0) -> Probed:
        """An answer of `url` younger than `fresh_s`, the request in flight, or a new one."""
        last = self._last.get(url)
        fresh = last is not None and time.monotonic() - last[0] <= fresh_s
        if last is not None and fresh and not _shorter_wait(last[1], deadline_s):
            return last[1]
        running = self._in_flight.get(url)
        if running is not None:
            shared = await asyncio.shield(running)
            if not _shorter_wait(shared, deadline_s):
                return shared
        running = asyncio.ensure_future(self._get(url, deadline_s))
        self._in_flight[url] = running
        running.add_done_callback(lambda _: self._in_flight.pop(url, None))
        return await asyncio.shield(running)

    async def _get(self, url: str, deadline_s: float) -> Probed:
        import httpx

        parts = urlsplit(url)
        host = (parts.hostname or "", parts.port)
        if host in self._refusing:
            if url not in self._direct:
                self._direct[url] = _direct_addresses(url)  # the environment's proxies, once
            addresses = self._direct[url]
            why = await _refused(addresses, deadline_s) if addresses else ""
            if why:
                probed = Probed(url, time.time(), error=httpx.ConnectError(why))
                self._last[url] = (time.monotonic(), probed)
                return probed
        if self._client is None:
            factory = self.client_factory
            self._client = factory() if factory else httpx.AsyncClient(headers=PROBE_HEADERS)
        self.requests += 1
        probed = await probe_once(self._client, url, deadline_s)
        if isinstance(probed.error, httpx.ConnectError):
            self._refusing.add(host)
        else:
            self._refusing.discard(host)
        self._last[url] = (time.monotonic(), probed)
        return probed

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._closed:
            now = time.monotonic()
            for subscription in list(self._subscriptions):
                # Early by at most a quarter of its interval: a round never follows the
                # last one much sooner than asked.
                early = min(self.slack_s, subscription.interval_s / 4)
                if not subscription.running and subscription.due <= now + early:
                    subscription.running = True
                    asyncio.ensure_future(self._serve(subscription, now))
            waiting = [s.due for s in self._subscriptions if not s.running]
            self._wake.clear()
            timeout = max(0.0, min(waiting) - time.monotonic()) if waiting else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _serve(self, subscription: Subscription, started: float) -> None:
        fresh_s = subscription.interval_s / 2
        try:
            answers = await asyncio.gather(
                *(self.fetch(url, subscription.deadline_s, fresh_s) for url in subscription.urls)
            )
            if not subscription.cancelled:
                delivered = subscription.deliver(dict(zip(subscription.urls, answers, strict=True)))
                if inspect.isawaitable(delivered):
                    await delivered
        except Exception as error:
            if subscription.on_error is None:
                raise
            subscription.on_error(error)
        finally:
            subscription.running = False
            # On the round's grid, so readers of one interval stay together; a round that
            # overran its interval is followed at once, never overlapped.
            subscription.due = max(started + subscription.interval_s, time.monotonic())
            if self._wake is not None:
                self._wake.set()


__all__ = ["Probed", "Prober", "Subscription", "probe_once"]
