"""Gauge values without Prometheus.

- CPU and memory: the busiest container in the latest Docker stats (CPU % as
  `docker stats`, 100 = one core; memory as used / limit).
- p99 latency and error rate: the service's own `/metrics`, scraped directly and
  parsed with prometheus_client's parser. Both come from the change between two
  scrapes (bucket deltas of `http_request_duration_seconds`, deltas of
  `http_requests_total`), so they describe the last interval, as `rate()` would.
  Requests for /metrics, /health and /ready (scrapes and probes, not users'
  traffic) are left out. No requests in the interval means no data, not 0.
- When /metrics cannot be read (the proxy answers 502 because the service is
  down, or nothing answers), the service's own counters cannot see the failures
  users meet. The error rate then comes from probing the public endpoints
  (`probe_urls`, through the same proxy users reach): the share of probes that
  got a 5xx or no answer. Its source says so ("probes via …: 3/3 failed").
- Disk: `shutil.disk_usage` of a host path, only when the Docker host is local.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client.parser import text_string_to_metric_families

from runbook.model import Runbook, Threshold
from runbook.sources.docker.containers import ContainerInfo
from runbook.sources.docker.stats import ContainerStats
from runbook.sources.gauges import Reading, metric_kind
from runbook.sources.probe import PROBE_HEADERS
from runbook.sources.prober import Probed, probe_once

if TYPE_CHECKING:
    import httpx

LATENCY_METRIC = "http_request_duration_seconds"
REQUESTS_METRIC = "http_requests"
NOT_TRAFFIC_PATHS = ("/metrics", "/health", "/ready")
"""Scrapes and probes, left out of the request figures: they are not users' requests."""


@dataclass(frozen=True)
class ServiceCounters:
    """Cumulative figures from one scrape."""

    buckets: dict[float, float]
    """Upper bound -> cumulative count, summed over paths (scrapes excluded)."""
    requests: float
    errors: float


def parse_metrics(text: str) -> ServiceCounters:
    """Sum the service's histogram buckets and request counters from exposition text."""
    buckets: dict[float, float] = {}
    requests = errors = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("path") in NOT_TRAFFIC_PATHS:
                continue
            if sample.name == LATENCY_METRIC + "_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
            elif sample.name == REQUESTS_METRIC + "_total":
                requests += sample.value
                if sample.labels.get("code", "").startswith("5"):
                    errors += sample.value
    return ServiceCounters(buckets, requests, errors)


def quantile_from_deltas(
    quantile: float, current: dict[float, float], previous: dict[float, float]
) -> float | None:
    """`histogram_quantile` over the bucket increase between two scrapes."""
    bounds = sorted(current)
    if not bounds:
        return None
    deltas = [max(0.0, current[b] - previous.get(b, 0.0)) for b in bounds]
    total = deltas[-1]
    if total <= 0:
        return None
    rank = quantile * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in zip(bounds, deltas, strict=True):
        if count >= rank:
            if math.isinf(bound):
                return lower_bound  # as Prometheus: the highest finite bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return None


@dataclass
class ServiceScraper:
    """Latency p99 and error rate from two successive scrapes of the service's /metrics."""

    metrics_url: str
    timeout_s: float = 2.0
    probe_urls: tuple[str, ...] = ()
    """Public endpoints probed for the error rate when /metrics cannot be read."""
    previous: ServiceCounters | None = None
    source: str = field(init=False)
    error_rate_source: str = field(init=False)
    """Where the last error rate came from: the scrape, or the probes."""

    def __post_init__(self) -> None:
        self.source = self.error_rate_source = f"scrape {self.metrics_url}"

    @staticmethod
    def client() -> httpx.AsyncClient:
        """A client for the scrapes and probes, marked as the console's (runbook.sources.probe)."""
        import httpx

        return httpx.AsyncClient(headers=PROBE_HEADERS)

    @property
    def urls(self) -> tuple[str, ...]:
        """What one round reads: /metrics, then the public endpoints (used when /metrics
        cannot be read; a `Prober` shares them with the health checks)."""
        return (self.metrics_url, *self.probe_urls)

    async def scrape(self, client: httpx.AsyncClient) -> tuple[float | None, float | None, str]:
        """(p99 seconds, error rate %, error); values None until two scrapes or no traffic.

        When the scrape fails, p99 is None with the error, and the error rate comes from
        the probes (`probe_urls`) if there are any.
        """
        metrics = await probe_once(client, self.metrics_url, self.timeout_s)
        answers = {self.metrics_url: metrics}
        if self.needs_probes(metrics):
            for url in self.probe_urls:
                answers[url] = await probe_once(client, url, self.timeout_s)
        return self.from_answers(answers)

    def needs_probes(self, metrics: Probed) -> bool:
        """Whether this /metrics answer leaves the error rate to the probes."""
        return bool(self.probe_urls) and _scrape_problem(metrics) is not None

    def from_answers(self, answers: Mapping[str, Probed]) -> tuple[float | None, float | None, str]:
        """`scrape`'s figures from a round of answers (a `Prober`'s, by URL as `urls`)."""
        self.error_rate_source = self.source
        metrics = answers[self.metrics_url]
        problem = _scrape_problem(metrics)
        if problem is None:
            try:
                current = parse_metrics(metrics.text)
            except ValueError as error:
                problem = type(error).__name__
        if problem is not None:
            self.previous = None  # the next window starts at the next good scrape
            problem = f"cannot scrape {self.metrics_url}: {problem}"
            return None, self._probe_error_rate(answers), problem
        previous, self.previous = self.previous, current
        if previous is None:
            return None, None, ""
        p99 = quantile_from_deltas(0.99, current.buckets, previous.buckets)
        served = current.requests - previous.requests
        errors = current.errors - previous.errors
        error_rate = 100.0 * errors / served if served > 0 else None
        return p99, error_rate, ""

    def _probe_error_rate(self, answers: Mapping[str, Probed]) -> float | None:
        """Share (%) of the public endpoints answering 5xx or not at all; None without probes."""
        if not self.probe_urls:
            return None
        failed = sum(
            1
            for url in self.probe_urls
            if answers[url].status is None or (answers[url].status or 0) >= 500
        )
        where = self.probe_urls[0].split("/", 3)[:3]
        self.error_rate_source = (
            f"probes via {'/'.join(where)}: {failed}/{len(self.probe_urls)} failed "
            "(/metrics unreadable)"
        )
        return 100.0 * failed / len(self.probe_urls)


def _scrape_problem(metrics: Probed) -> str | None:
    """Why a /metrics answer cannot be parsed (HTTP 502, ConnectError...), None when it can."""
    if metrics.timed_out_s is not None:
        return f"no answer in {metrics.timed_out_s:g} s"
    if metrics.status is None:
        return type(metrics.error).__name__ if metrics.error else "no answer"
    if not 200 <= metrics.status < 300:
        return f"HTTP {metrics.status}"
    return None


def busiest(
    stats: Iterable[ContainerStats], containers: dict[str, ContainerInfo]
) -> tuple[tuple[float, str] | None, tuple[float, str] | None]:
    """(cpu %, name) and (memory %, name) of the busiest running containers."""
    cpu: tuple[float, str] | None = None
    memory: tuple[float, str] | None = None
    for sample in stats:
        info = containers.get(sample.id)
        if info is None or info.state != "running":
            continue
        if sample.cpu_percent is not None and (cpu is None or sample.cpu_percent > cpu[0]):
            cpu = (sample.cpu_percent, info.name)
        if sample.memory_used is not None and sample.memory_limit:
            percent = 100.0 * sample.memory_used / sample.memory_limit
            if memory is None or percent > memory[0]:
                memory = (percent, info.name)
    return cpu, memory


def disk_percent(path: str) -> float:
    usage = shutil.disk_usage(path)
    return 100.0 * usage.used / usage.total


def fallback_readings(
    thresholds: Sequence[Threshold],
    *,
    stats: Iterable[ContainerStats],
    containers: dict[str, ContainerInfo],
    p99_s: float | None,
    error_rate: float | None,
    scrape_source: str,
    scrape_error: str,
    disk_path: str | None,
    error_rate_source: str | None = None,
) -> list[Reading]:
    """One reading per threshold from the embedded sources.

    `error_rate_source` names where `error_rate` came from when not the scrape (the
    probes): such a value is a reading, not a failure, even though the scrape failed.
    """
    now = time.time()
    cpu, memory = busiest(stats, containers)
    readings = []
    for threshold in thresholds:
        kind = metric_kind(threshold.metric)
        metric = threshold.metric
        if kind == "cpu":
            readings.append(
                Reading(metric, cpu[0], f"docker stats ({cpu[1]})", now)
                if cpu
                else Reading(metric, None, "docker stats", now)
            )
        elif kind == "memory":
            readings.append(
                Reading(metric, memory[0], f"docker stats ({memory[1]})", now)
                if memory
                else Reading(metric, None, "docker stats", now)
            )
        elif kind == "latency":
            readings.append(Reading(metric, p99_s, scrape_source, now, scrape_error))
        elif kind == "error_rate":
            if error_rate is not None and error_rate_source:
                readings.append(Reading(metric, error_rate, error_rate_source, now))
            else:
                readings.append(Reading(metric, error_rate, scrape_source, now, scrape_error))
        elif kind == "disk":
            if disk_path is None:
                readings.append(Reading(metric, None, "host disk (remote engine: unknown)", now))
            else:
                try:
                    readings.append(
                        Reading(metric, disk_percent(disk_path), f"host disk {disk_path}", now)
                    )
                except OSError as error:
                    readings.append(
                        Reading(metric, None, f"host disk {disk_path}", now, str(error))
                    )
        else:
            readings.append(Reading(metric, None, "no fallback for this metric", now))
    return readings


def probe_urls(runbook: Runbook, base_url: str) -> tuple[str, ...]:
    """The public URLs probed for the error rate: the endpoints table's paths at `base_url`."""
    base = base_url.rstrip("/")
    return tuple(
        base + endpoint.path for endpoint in runbook.endpoints if endpoint.path != "/metrics"
    )
