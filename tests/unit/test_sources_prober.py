"""The prober shared by the health pane, the gauges and the serving strip, against a real
HTTP server on 127.0.0.1 that counts the requests it gets."""

from __future__ import annotations

import collections
import http.server
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from runbook.model import Endpoint
from runbook.sources.fallback import ServiceScraper
from runbook.sources.health import HealthChecker
from runbook.sources.probe import PROBE_USER_AGENT
from runbook.sources.prober import Probed, Prober
from runbook.sources.serving import ServingWatch, serving_read
from tests.waiting import wait_until_async as until


class CountingServer:
    """Answers /health with a colour and version, /metrics with nothing; counts requests."""

    def __init__(self, port: int = 0) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.agents: set[str] = set()
        counts, agents = self.counts, self.agents

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the base class's name
                counts[self.path] += 1
                if self.path == "/slow":
                    time.sleep(0.3)
                agents.add(self.headers.get("User-Agent", ""))
                body = b'{"status": "healthy"}'
                self.send_response(200 if self.path != "/metrics" else 503)
                self.send_header("X-Version", "v7")
                self.send_header("X-Upstream-Colour", "green")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[CountingServer]:
    running = CountingServer()
    yield running
    running.close()


def endpoint(path: str) -> Endpoint:
    return Endpoint(path, "", 200, None, "200", 1)


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_three_readers_of_one_url_make_one_request_per_interval(
    server: CountingServer,
) -> None:
    prober = Prober()
    url = server.url + "/health"
    rounds: collections.Counter[str] = collections.Counter()
    try:
        for reader in ("health pane", "gauges", "serving strip"):
            prober.subscribe(
                (url,), 0.3, 2.0, lambda answers, reader=reader: rounds.update([reader])
            )
        await until(lambda: min(rounds.values(), default=0) >= 4, what="4 rounds per reader")
        # Each reader had its rounds; the server saw about one request per round, not three.
        assert len(rounds) == 3
        assert server.counts["/health"] <= max(rounds.values()) + 1
        assert server.counts["/health"] < sum(rounds.values())
        assert prober.requests == server.counts["/health"]
        assert server.agents == {PROBE_USER_AGENT}  # marked as the console's probes
    finally:
        prober.close()


async def test_the_readers_each_read_their_own_figures_from_the_shared_answers(
    server: CountingServer,
) -> None:
    """The health checks, the serving strip and the scrape read one round of answers."""
    health = HealthChecker(
        (endpoint("/health"), endpoint("/ready")),
        server.url,
    )
    watch = ServingWatch(server.url)
    scraper = ServiceScraper(server.url + "/metrics", probe_urls=health.urls)
    prober = Prober()
    seen: dict[str, object] = {}
    try:
        prober.subscribe(health.urls, 5.0, 2.0, lambda answers: seen.setdefault("health", answers))
        prober.subscribe(
            (watch.url,), 1.0, 1.5, lambda answers: seen.setdefault("serving", answers)
        )
        prober.subscribe(scraper.urls, 5.0, 2.0, lambda answers: seen.setdefault("scrape", answers))
        await until(lambda: len(seen) == 3, what="a round for every reader")
        results = health.results(seen["health"])  # type: ignore[arg-type]
        assert [(r.path, r.ok, r.status) for r in results] == [
            ("/health", True, 200),
            ("/ready", True, 200),
        ]
        serving = watch.update(serving_read(seen["serving"][watch.url]))  # type: ignore[index]
        assert serving.current and serving.read is not None
        assert (serving.read.colour, serving.read.version) == ("green", "v7")
        p99, error_rate, problem = scraper.from_answers(seen["scrape"])  # type: ignore[arg-type]
        assert p99 is None and problem.endswith("HTTP 503")
        assert error_rate == 0.0  # /metrics unreadable: the probes answered, none failed
        # /health was asked for by all three readers, /ready by two: each sent once.
        assert server.counts == {"/health": 1, "/ready": 1, "/metrics": 1}
    finally:
        prober.close()


async def test_a_refused_port_says_so_and_is_rechecked_without_httpx() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/health"
    prober = Prober()
    answers: list[Probed] = []
    try:
        prober.subscribe((url,), 0.05, 1.0, lambda got: answers.append(got[url]))
        await until(lambda: len(answers) >= 4, what="four rounds")
        assert all(a.status is None and isinstance(a.error, httpx.ConnectError) for a in answers)
        assert prober.requests == 1  # the rounds after the first: a bare connect, refused
        assert "refused" in str(answers[-1].error).casefold()
    finally:
        prober.close()


async def test_a_port_that_starts_answering_is_read_at_the_next_round() -> None:
    """The bare connect stands in for httpx only while it is refused."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/health"
    prober = Prober()
    answers: list[Probed] = []
    server: CountingServer | None = None
    try:
        prober.subscribe((url,), 0.05, 1.0, lambda got: answers.append(got[url]))
        await until(lambda: len(answers) >= 2, what="two refused rounds")
        server = CountingServer(port)  # the same port, now answering
        await until(lambda: answers[-1].status == 200, what="the answer once the port listens")
        assert server.counts["/health"] >= 1
    finally:
        prober.close()
        if server is not None:
            server.close()


async def test_a_cancelled_reader_gets_nothing_more(server: CountingServer) -> None:
    prober = Prober()
    url = server.url + "/health"
    got: list[int] = []
    kept: list[int] = []
    try:
        subscription = prober.subscribe((url,), 0.05, 1.0, lambda _a: got.append(1))
        prober.subscribe((url,), 0.05, 1.0, lambda _a: kept.append(1))
        await until(lambda: len(got) >= 2, what="two rounds")
        subscription.cancel()
        before = len(got)
        await until(lambda: len(kept) >= before + 4, what="four more rounds of the other")
        assert len(got) <= before + 1  # at most the round under way when cancelled
    finally:
        prober.close()


async def test_closing_tells_the_readers_that_did_not_leave(server: CountingServer) -> None:
    prober = Prober()
    url = server.url + "/health"
    closed: list[str] = []
    staying = prober.subscribe(
        (url,), 5.0, 1.0, lambda _a: None, on_closed=lambda: closed.append("stay")
    )
    leaving = prober.subscribe(
        (url,), 5.0, 1.0, lambda _a: None, on_closed=lambda: closed.append("left")
    )
    leaving.cancel()
    prober.close()
    assert closed == ["stay"] and staying.cancelled
    assert prober.subscribe((url,), 1.0, 1.0, lambda _a: None).cancelled  # closed for good


async def test_a_reader_that_waits_longer_gets_the_answer_not_a_shorter_timeout(
    server: CountingServer,
) -> None:
    """The serving strip waits 1.5 s, the health checks 2 s: a slow answer is a timeout
    for the one and an answer for the other, never the first's timeout for both."""
    prober = Prober()
    url = server.url + "/slow"
    got: dict[str, Probed] = {}
    try:
        prober.subscribe((url,), 5.0, 0.1, lambda a: got.setdefault("impatient", a[url]))
        prober.subscribe((url,), 5.0, 2.0, lambda a: got.setdefault("patient", a[url]))
        await until(lambda: len(got) == 2, what="both readers' rounds")
        assert got["impatient"].timed_out_s == 0.1 and got["impatient"].status is None
        assert got["patient"].status == 200
    finally:
        prober.close()
