"""The embedded fallback: p99 from bucket deltas, error rate from counters, docker stats, disk."""

from __future__ import annotations

import httpx
import pytest

from runbook.model import Bound, Threshold
from runbook.sources.docker.containers import ContainerInfo
from runbook.sources.docker.stats import ContainerStats
from runbook.sources.fallback import (
    ServiceScraper,
    fallback_readings,
    parse_metrics,
    quantile_from_deltas,
)


def exposition(fast: int, slow: int, errors: int, scrapes: int = 0) -> str:
    """The reference service's metrics with `fast` 10 ms requests and `slow` 800 ms ones."""
    bounds = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
    lines = [
        "# HELP http_requests_total HTTP requests served.",
        "# TYPE http_requests_total counter",
        f'http_requests_total{{method="GET",path="/",code="200"}} {fast + slow - errors}',
        f'http_requests_total{{method="GET",path="/",code="500"}} {errors}',
        f'http_requests_total{{method="GET",path="/metrics",code="200"}} {scrapes}',
        "# HELP http_request_duration_seconds Time to answer an HTTP request.",
        "# TYPE http_request_duration_seconds histogram",
    ]
    for bound in bounds:
        count = (fast if bound >= 0.01 else 0) + (slow if bound >= 1.0 else 0)
        lines.append(f'http_request_duration_seconds_bucket{{path="/",le="{bound}"}} {count}')
        lines.append(
            f'http_request_duration_seconds_bucket{{path="/metrics",le="{bound}"}} {scrapes}'
        )
    lines.append(f'http_request_duration_seconds_bucket{{path="/",le="+Inf"}} {fast + slow}')
    lines.append(f'http_request_duration_seconds_bucket{{path="/metrics",le="+Inf"}} {scrapes}')
    lines.append(f'http_request_duration_seconds_count{{path="/"}} {fast + slow}')
    return "\n".join(lines) + "\n"


def test_parse_sums_paths_and_skips_scrapes() -> None:
    counters = parse_metrics(exposition(90, 10, 3, scrapes=50))
    assert counters.requests == 100 and counters.errors == 3
    assert counters.buckets[float("inf")] == 100


def test_quantile_uses_the_increase_between_scrapes() -> None:
    before = parse_metrics(exposition(1000, 0, 0)).buckets
    after = parse_metrics(exposition(1090, 10, 0)).buckets  # last 100: 10 % slow
    p99 = quantile_from_deltas(0.99, after, before)
    assert p99 is not None and 0.5 < p99 <= 1.0
    only_fast = parse_metrics(exposition(1100, 0, 0)).buckets
    fast_p99 = quantile_from_deltas(0.99, only_fast, before)
    assert fast_p99 is not None and fast_p99 <= 0.01
    assert quantile_from_deltas(0.99, before, before) is None  # no traffic: no data, not 0


async def test_scraper_needs_two_scrapes_and_reports_failures() -> None:
    pages = iter([exposition(100, 0, 0), exposition(190, 10, 5)])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=next(pages))

    scraper = ServiceScraper("http://svc.test/metrics")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        assert await scraper.scrape(client) == (None, None, "")
        p99, error_rate, error = await scraper.scrape(client)
    assert error == "" and p99 is not None and p99 > 0.5
    assert error_rate == pytest.approx(5.0)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refused)) as client:
        p99, error_rate, error = await scraper.scrape(client)
    assert p99 is None and error_rate is None and "cannot scrape" in error


async def test_error_rate_from_probes_when_metrics_cannot_be_read() -> None:
    """The service is down behind its proxy: /metrics and every endpoint answer 502."""
    seen: list[str] = []

    def proxy(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/ready":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(502, text="502 Bad Gateway")

    scraper = ServiceScraper(
        "http://svc.test/metrics", probe_urls=("http://svc.test/health", "http://svc.test/ready")
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(proxy)) as client:
        p99, error_rate, error = await scraper.scrape(client)
    assert seen == ["/metrics", "/health", "/ready"]
    assert p99 is None and error_rate == 100.0 and "HTTP 502" in error
    assert scraper.error_rate_source.startswith("probes via http://svc.test: 2/2 failed")
    readings = fallback_readings(
        [threshold("Error Rate"), threshold("Request Latency (p99)")],
        stats=(),
        containers={},
        p99_s=p99,
        error_rate=error_rate,
        scrape_source=scraper.source,
        scrape_error=error,
        disk_path=None,
        error_rate_source=scraper.error_rate_source,
    )
    errors, latency = readings
    assert errors.value == 100.0 and errors.error == "" and errors.source.startswith("probes")
    assert latency.value is None and "HTTP 502" in latency.error

    def healthy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=exposition(10, 0, 0))

    async with httpx.AsyncClient(transport=httpx.MockTransport(healthy)) as client:
        assert await scraper.scrape(client) == (None, None, "")  # a new window starts
    assert scraper.error_rate_source == scraper.source


def test_probes_are_not_traffic() -> None:
    text = exposition(10, 0, 0) + (
        'http_requests_total{method="GET",path="/ready",code="503"} 7\n'
        'http_requests_total{method="GET",path="/health",code="200"} 9\n'
    )
    counters = parse_metrics(text)
    assert counters.requests == 10 and counters.errors == 0


def threshold(metric: str) -> Threshold:
    return Threshold(metric, Bound(">", 70, "%", "> 70%"), None, "act", 1)


def test_readings_from_docker_stats_and_disk(tmp_path: object) -> None:
    containers = {
        "a": ContainerInfo("a", "web", "img", "running"),
        "b": ContainerInfo("b", "db", "img", "running"),
        "c": ContainerInfo("c", "old", "img", "exited"),
    }
    stats = [
        ContainerStats("a", 12.0, 100, 1000, None, None, 0),
        ContainerStats("b", 55.0, 900, 1000, None, None, 0),
        ContainerStats("c", 99.0, 999, 1000, None, None, 0),
    ]
    readings = fallback_readings(
        [
            threshold("CPU Usage"),
            threshold("Memory Usage"),
            threshold("Disk Usage"),
            threshold("Error Rate"),
            threshold("Queue depth"),
        ],
        stats=stats,
        containers=containers,
        p99_s=None,
        error_rate=None,
        scrape_source="scrape x",
        scrape_error="cannot scrape x",
        disk_path="/",
    )
    cpu, memory, disk, errors, other = readings
    assert cpu.value == 55.0 and cpu.source == "docker stats (db)"
    assert memory.value == pytest.approx(90.0)
    assert disk.value is not None and 0 < disk.value <= 100
    assert errors.value is None and errors.error == "cannot scrape x"
    assert other.value is None and other.error == ""
