"""Endpoint checks with httpx.MockTransport: expected status/body, deadlines, last change."""

from __future__ import annotations

import asyncio
import time

import httpx

from runbook.model import Endpoint
from runbook.sources.health import HealthChecker, body_matches


def endpoint(path: str, status: int | None = 200, body: object = None) -> Endpoint:
    return Endpoint(path, "", status, body, f"{status}", 1)


async def slow_or_fast(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/hang":
        await asyncio.sleep(30)
    if request.url.path == "/health":
        return httpx.Response(200, json={"status": "healthy", "version": "v1"})
    if request.url.path == "/ready":
        return httpx.Response(503, text="warming up")
    if request.url.path == "/bad-body":
        return httpx.Response(200, json={"status": "sick"})
    return httpx.Response(200, text="# metrics")


async def test_results_compare_status_and_body() -> None:
    checker = HealthChecker(
        [
            endpoint("/health", 200, {"status": "healthy"}),
            endpoint("/ready", 200),
            endpoint("/bad-body", 200, {"status": "healthy"}),
            endpoint("/metrics", None),
        ],
        "http://service.test",
        deadline_s=1.0,
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(slow_or_fast)) as client:
        results = {r.path: r for r in await checker.check_all(client)}
    assert results["/health"].ok and results["/health"].status == 200
    assert results["/health"].latency_s is not None
    assert not results["/ready"].ok and results["/ready"].detail == "expected 200, got 503"
    assert not results["/bad-body"].ok and "lacks" in results["/bad-body"].detail
    assert results["/metrics"].ok
    assert results["/health"].url == "http://service.test/health"


async def test_a_hanging_endpoint_does_not_delay_the_others() -> None:
    checker = HealthChecker(
        [endpoint("/hang"), endpoint("/health", 200)], "http://service.test", deadline_s=0.3
    )
    started = time.monotonic()
    async with httpx.AsyncClient(transport=httpx.MockTransport(slow_or_fast)) as client:
        results = {r.path: r for r in await checker.check_all(client)}
    assert time.monotonic() - started < 1.0
    assert not results["/hang"].ok and "timed out" in results["/hang"].detail
    assert results["/health"].ok


async def test_changed_at_moves_only_when_ok_flips() -> None:
    answers = iter([200, 200, 500])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers))

    checker = HealthChecker([endpoint("/ready", 200)], "http://service.test")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        first = (await checker.check_all(client))[0]
        await asyncio.sleep(0.01)
        second = (await checker.check_all(client))[0]
        await asyncio.sleep(0.01)
        third = (await checker.check_all(client))[0]
    assert second.changed_at == first.changed_at
    assert third.changed_at > second.changed_at and not third.ok


async def test_refused_connection_is_a_failed_check() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    checker = HealthChecker([endpoint("/health")], "http://service.test")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        result = (await checker.check_all(client))[0]
    assert not result.ok and result.status is None and "ConnectError" in result.detail


def test_body_subset_match() -> None:
    assert body_matches({"status": "healthy"}, '{"status": "healthy", "x": 1}') == (True, "")
    assert not body_matches({"status": "healthy"}, "not json")[0]
    assert body_matches(None, "anything")[0]


async def test_a_reset_connection_is_named_never_an_empty_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("", request=request)

    checker = HealthChecker([endpoint("/health")], "http://service.test")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        result = (await checker.check_all(client))[0]
    assert result.detail == "ReadError: the connection was reset while reading the answer"


async def test_a_real_server_that_resets_the_connection() -> None:
    import socket
    import struct
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def reset_each() -> None:
        for _ in range(2):  # httpx may try once more on a fresh connection
            try:
                connection, _ = server.accept()
            except OSError:
                return
            connection.recv(1024)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()  # RST, no answer

    threading.Thread(target=reset_each, daemon=True).start()
    try:
        checker = HealthChecker([endpoint("/health")], f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient() as client:
            result = (await checker.check_all(client))[0]
    finally:
        server.close()
    assert not result.ok
    name, _, what = result.detail.partition(": ")
    assert name.endswith("Error") and what.strip(), result.detail
