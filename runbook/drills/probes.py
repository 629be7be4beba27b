"""Direct health and threshold checks against a service's own endpoints.

The checks a drill needs to decide "mitigated", and the gauges an incident
snapshots at open and close, when no Prometheus is around: every endpoint of
the runbook's endpoints table against a base URL (per-check deadline), and the
threshold rows computed from two scrapes of `/metrics` (p99 latency and error
rate over the window between them, CPU from process CPU seconds, memory
against the container limit, disk from the host).

Counters that go backwards (the proxy switched to another process, or it
restarted) count from zero, as Prometheus' `rate()` does.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Literal

from runbook.model import Endpoint, Runbook, Threshold
from runbook.sources.probe import PROBE_HEADERS

GaugeState = Literal["ok", "warning", "critical", "no-data"]
MEMORY_LIMIT_BYTES = 256 * 1024 * 1024
"""The container limit the runbook names (256 MiB); memory % is measured against it."""
REQUEST_PATHS_EXCLUDED = ("/metrics", "/health", "/ready")
"""Scrapes and probes are not traffic: a readiness probe's 503 during warm-up is no error."""


@dataclass(frozen=True)
class HealthResult:
    path: str
    ok: bool
    status: int | None
    latency_s: float | None
    """None when no answer came: a failed probe has no latency, not 0."""
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Reading:
    """One threshold row's current value and state."""

    metric: str
    value: float | None
    unit: str
    state: GaugeState
    source: str
    action: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def display(self) -> str:
        if self.value is None:
            return "no data"
        if self.unit == "s":
            return f"{self.value * 1000:.0f}ms"
        return f"{self.value:.1f}{self.unit}"


def fetch(url: str, timeout_s: float) -> tuple[int | None, bytes, str]:
    """GET a URL: (status or None, body, error text). Never raises for HTTP or network errors."""
    try:
        request = urllib.request.Request(url, headers=PROBE_HEADERS)  # noqa: S310
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return int(response.status), response.read(), ""
    except urllib.error.HTTPError as error:
        return error.code, error.read() if error.fp else b"", f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, b"", str(reason)


def check_endpoint(base_url: str, endpoint: Endpoint, timeout_s: float = 2.0) -> HealthResult:
    """One endpoint against its expected status and body."""
    began = time.monotonic()
    status, body, error = fetch(base_url.rstrip("/") + endpoint.path, timeout_s)
    latency = time.monotonic() - began
    if status is None:
        return HealthResult(endpoint.path, False, None, latency, error or "no answer")
    expected = endpoint.expect_status or 200
    if status != expected:
        return HealthResult(endpoint.path, False, status, latency, f"{status}, expected {expected}")
    if isinstance(endpoint.expect_body, dict):
        try:
            payload = json.loads(body)
        except ValueError:
            return HealthResult(endpoint.path, False, status, latency, "body is not JSON")
        for key, value in endpoint.expect_body.items():
            if not isinstance(payload, dict) or payload.get(key) != value:
                return HealthResult(endpoint.path, False, status, latency, f"{key} != {value!r}")
    return HealthResult(endpoint.path, True, status, latency, f"{status}")


def check_endpoints(runbook: Runbook, base_url: str, timeout_s: float = 2.0) -> list[HealthResult]:
    """Every endpoint in parallel, so a hanging one never delays the others."""
    endpoints = list(runbook.endpoints)
    if not endpoints:
        return []
    with ThreadPoolExecutor(max_workers=len(endpoints)) as pool:
        return list(pool.map(lambda e: check_endpoint(base_url, e, timeout_s), endpoints))


# -- /metrics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scrape:
    """The numbers a scrape gives, summed over labels."""

    at: float
    requests: float
    errors: float
    buckets: tuple[tuple[float, float], ...]
    """Cumulative (upper bound, count) of the request duration histogram."""
    cpu_seconds: float | None
    resident_bytes: float | None


def parse_metrics(text: str, at: float) -> Scrape:
    from prometheus_client.parser import text_string_to_metric_families

    requests = errors = 0.0
    buckets: dict[float, float] = {}
    cpu = resident = None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            path = sample.labels.get("path", "")
            if sample.name == "http_requests_total" and path not in REQUEST_PATHS_EXCLUDED:
                requests += sample.value
                if sample.labels.get("code", "").startswith("5"):
                    errors += sample.value
            elif (
                sample.name == "http_request_duration_seconds_bucket"
                and path not in REQUEST_PATHS_EXCLUDED
            ):
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
            elif sample.name == "process_cpu_seconds_total":
                cpu = sample.value
            elif sample.name == "process_resident_memory_bytes":
                resident = sample.value
    return Scrape(at, requests, errors, tuple(sorted(buckets.items())), cpu, resident)


def scrape(metrics_url: str, timeout_s: float = 2.0) -> Scrape | None:
    status, body, _ = fetch(metrics_url, timeout_s)
    if status != 200:
        return None
    try:
        return parse_metrics(body.decode("utf-8", "replace"), time.monotonic())
    except ValueError:
        return None


def _delta(new: float, old: float) -> float:
    return new - old if new >= old else new


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """histogram_quantile over cumulative buckets (linear within a bucket, as Prometheus)."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    previous_bound, previous_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return previous_bound
            share = (
                (rank - previous_count) / (count - previous_count) if count > previous_count else 1
            )
            return previous_bound + (bound - previous_bound) * share
        previous_bound, previous_count = bound, count
    return previous_bound


@dataclass(frozen=True)
class WindowFigures:
    p99_s: float | None
    error_ratio: float | None
    cpu_percent: float | None
    memory_percent: float | None
    requests: float


def window(old: Scrape, new: Scrape) -> WindowFigures:
    """Figures over the interval between two scrapes (counter resets count from zero)."""
    reset = new.requests < old.requests
    requests = new.requests if reset else new.requests - old.requests
    errors = new.errors if reset else _delta(new.errors, old.errors)
    old_buckets = dict(old.buckets)
    deltas = [(b, c if reset else _delta(c, old_buckets.get(b, 0.0))) for b, c in new.buckets]
    elapsed = max(new.at - old.at, 1e-6)
    cpu = None
    if new.cpu_seconds is not None and old.cpu_seconds is not None:
        cpu = _delta(new.cpu_seconds, old.cpu_seconds) / elapsed * 100
    memory = None if new.resident_bytes is None else new.resident_bytes / MEMORY_LIMIT_BYTES * 100
    return WindowFigures(
        p99_s=quantile(deltas, 0.99) if requests > 0 else None,
        error_ratio=errors / requests if requests > 0 else None,
        cpu_percent=cpu,
        memory_percent=memory,
        requests=requests,
    )


def classify(threshold: Threshold, value: float | None) -> GaugeState:
    if value is None:
        return "no-data"
    if threshold.critical is not None and threshold.critical.breached_by(value):
        return "critical"
    if threshold.warning is not None and threshold.warning.breached_by(value):
        return "warning"
    return "ok"


def metric_kind(threshold: Threshold) -> str:
    """Which figure a threshold row is about, from its wording."""
    name = threshold.metric.casefold()
    for kind in ("latency", "error", "cpu", "memory", "disk"):
        if kind in name:
            return kind
    return "unknown"


def readings(
    runbook: Runbook,
    figures: WindowFigures | None,
    *,
    disk_path: str = "/",
    source: str = "/metrics",
) -> list[Reading]:
    """A reading per threshold row of the runbook."""
    found: list[Reading] = []
    for threshold in runbook.thresholds:
        kind = metric_kind(threshold)
        bound = threshold.critical or threshold.warning
        unit = bound.unit if bound is not None else ""
        value: float | None = None
        where = source
        if kind == "latency" and figures is not None and figures.p99_s is not None:
            value = figures.p99_s if unit == "s" else figures.p99_s * 1000
        elif kind == "error" and figures is not None and figures.error_ratio is not None:
            value = figures.error_ratio * 100
        elif kind == "cpu" and figures is not None:
            value = figures.cpu_percent
        elif kind == "memory" and figures is not None:
            value = figures.memory_percent
        elif kind == "disk":
            usage = shutil.disk_usage(disk_path)
            value, where = usage.used / usage.total * 100, f"host disk {disk_path}"
        found.append(
            Reading(
                threshold.metric, value, unit, classify(threshold, value), where, threshold.action
            )
        )
    return found


class MetricsWatcher:
    """Keeps the previous scrape so each `poll` gives figures over the last interval."""

    def __init__(
        self, metrics_url: str, timeout_s: float = 2.0, fetcher: Callable[..., Any] = scrape
    ) -> None:
        self.metrics_url = metrics_url
        self.timeout_s = timeout_s
        self._scrape = fetcher
        self._previous: Scrape | None = None

    def poll(self) -> WindowFigures | None:
        current = self._scrape(self.metrics_url, self.timeout_s)
        if current is None:
            self._previous = None
            return None
        previous, self._previous = self._previous, current
        return window(previous, current) if previous is not None else None


def snapshot(
    runbook: Runbook, base_url: str, interval_s: float = 1.0, timeout_s: float = 2.0
) -> list[dict[str, Any]]:
    """Gauges now: two scrapes `interval_s` apart, as plain dicts for the incident file."""
    watcher = MetricsWatcher(base_url.rstrip("/") + "/metrics", timeout_s)
    watcher.poll()
    time.sleep(interval_s)
    figures = watcher.poll()
    return [reading.to_dict() for reading in readings(runbook, figures)]
