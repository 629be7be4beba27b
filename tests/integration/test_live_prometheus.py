"""Gauges from a real Prometheus scraping the reference service, and from the fallback;
Prometheus refused, answering 5xx or never answering turns gauges stale, never 0."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_helpers import (
    SilentServer,
    free_port,
    http_ok,
    prometheus,
    start_service,
    stop_process,
)

from runbook.model import Bound, Endpoint, Threshold
from runbook.sources.fallback import ServiceScraper
from runbook.sources.gauges import Gauge
from runbook.sources.health import HealthChecker
from runbook.sources.prometheus import PrometheusSource
from runbook.sources.settings import SourceSettings
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

LATENCY = Threshold(
    "Request Latency (p99)", Bound(">", 0.5, "s", "> 500ms"), Bound(">", 1, "s", "> 1s"), "", 1
)
ERRORS = Threshold("Error Rate", Bound(">", 1, "%", "> 1%"), Bound(">", 5, "%", "> 5%"), "", 2)
CPU = Threshold("CPU Usage", Bound(">", 70, "%", "> 70%"), Bound(">", 90, "%", "> 90%"), "", 3)


@pytest.fixture
def service() -> Iterator[str]:
    port = free_port()
    process = start_service(port, DRILL_ERROR_RATIO="0.5", DRILL_LATENCY_MS="20")
    traffic_stop = threading.Event()

    def traffic() -> None:
        while not traffic_stop.is_set():
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            time.sleep(0.02)

    thread = threading.Thread(target=traffic, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        traffic_stop.set()
        thread.join(3)
        stop_process(process)


def test_gauges_from_real_prometheus_then_stale_when_it_dies(service: str, tmp_path: Path) -> None:
    with prometheus([service], tmp_path) as url:
        source = PrometheusSource(url, timeout_s=1.0, retries=1, settings=SourceSettings())
        gauges = {t.metric: Gauge(t) for t in (LATENCY, ERRORS, CPU)}

        def poll() -> dict[str, Any]:
            return {
                r.metric: gauges[r.metric].update(r) for r in source.read([LATENCY, ERRORS, CPU])
            }

        wait_until(lambda: poll()["Error Rate"].value is not None, 30, interval=0.5)
        values = poll()
        assert 10 < values["Error Rate"].value < 90  # the drill answers half of / with 500
        wait_until(lambda: poll()["Request Latency (p99)"].value is not None, 10, interval=0.5)
        assert 0.01 < poll()["Request Latency (p99)"].value < 0.5
        assert values["CPU Usage"].state == "no-data"  # no node-exporter here: no data, not 0
        assert values["Error Rate"].source == f"prometheus {url}"
        # `incident start` records the gauges from the same Prometheus as the pane.
        opened = incident_readings(tmp_path, url)
        assert opened["Error Rate"]["source"] == f"prometheus {url}"
        assert 10 < opened["Error Rate"]["value"] < 90
    # Prometheus is gone (killed): the next read fails and the gauges go stale. They show
    # no number at all (never the last value as if current, never 0), and say since when.
    values = poll()
    errors = values["Error Rate"]
    assert errors.state == "stale" and errors.value is None and errors.unreachable
    assert errors.value_text().startswith("unreachable since ")
    assert "refused" in errors.detail
    assert errors.history  # the last good values stay in the sparkline only


def incident_readings(tmp_path: Path, prometheus_url: str) -> dict[str, dict[str, Any]]:
    """The readings `runbook-console incident start` records at open, by metric, for the
    project runbook in an environment whose gauges come from `prometheus_url`."""
    from tests.unit.test_incident_cli import REPO, cli

    config = tmp_path / "config.toml"
    config.write_text(f'[environments.Development]\nprometheus_url = "{prometheus_url}"\n')
    (tmp_path / ".git").mkdir(exist_ok=True)
    runbook = tmp_path / "runbook.md"
    runbook.write_text((REPO / ".monkeytown" / "devops" / "runbook.md").read_text())
    started = cli("--config", str(config), "start", "--severity", "P1", str(runbook))
    assert started.returncode == 0, started.stderr
    events = [json.loads(line) for line in cli("timeline", "--json").stdout.splitlines()]
    (readings,) = [event["data"]["readings"] for event in events if event["kind"] == "readings"]
    return {reading["metric"]: reading for reading in readings}


class Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(503)
        self.end_headers()
        self.wfile.write(b"unavailable")

    def log_message(self, *args: Any) -> None:
        pass


def test_5xx_and_silent_prometheus_go_stale_not_zero() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = SilentServer()
    try:
        for url in (f"http://127.0.0.1:{server.server_address[1]}", silent.url):
            gauge = Gauge(ERRORS)
            gauge.update(_reading(3.0))
            source = PrometheusSource(url, timeout_s=2.0, retries=1, settings=SourceSettings())
            reading = source.read([ERRORS])[0]
            value = gauge.update(reading)
            assert reading.value is None and reading.error
            assert value.state == "stale" and value.value is None and value.unreachable
            assert value.history == (3.0,)
            fresh = Gauge(ERRORS).update(reading)
            assert fresh.state == "no-data" and fresh.value is None
            assert fresh.value_text().startswith("unreachable since ")
    finally:
        server.shutdown()
        silent.close()


def _reading(value: float) -> Any:
    from runbook.sources.gauges import Reading

    return Reading("Error Rate", value, "prometheus", time.time())


async def test_fallback_scrapes_the_service_directly(service: str) -> None:
    scraper = ServiceScraper(f"http://{service}/metrics")
    async with httpx.AsyncClient() as client:
        assert (await scraper.scrape(client))[:2] == (None, None)
        await asyncio.sleep(1.5)
        p99, error_rate, error = await scraper.scrape(client)
    assert error == ""
    assert p99 is not None and 0.01 < p99 < 0.5
    assert error_rate is not None and 10 < error_rate < 90


async def test_health_of_real_endpoints_and_a_hanging_one(service: str) -> None:
    silent = SilentServer()
    endpoints = [
        Endpoint("/health", "", 200, {"status": "healthy"}, "200", 1),
        Endpoint("/ready", "", 200, None, "200", 2),
        Endpoint("/metrics", "", None, None, "Prometheus", 3),
    ]
    wait_until(lambda: http_ok(f"http://{service}/ready"), 5, interval=0.1)  # after its warm-up
    try:
        checker = HealthChecker(endpoints, f"http://{service}", deadline_s=1.0)
        hanging = HealthChecker(endpoints[:1], silent.url, deadline_s=1.0)
        started = time.monotonic()
        async with checker.client() as client:
            good, bad = await asyncio.gather(checker.check_all(client), hanging.check_all(client))
        assert time.monotonic() - started < 2.0
    finally:
        silent.close()
    assert [r.ok for r in good] == [True, True, True], [r.detail for r in good]
    assert not bad[0].ok and "timed out" in bad[0].detail
