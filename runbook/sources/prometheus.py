"""Gauge values from Prometheus through prometheus-api-client.

prometheus-api-client has no timeout and retries 3 times with a 1 s backoff by
default, so a Prometheus that accepts and never answers would block a read for
minutes. Here every request has a timeout and retries are few: connection
errors and 502/503/504 are retried `retries` times, read timeouts never (a
server that did not answer within the timeout will not answer the retry either).
One failed connection fails the whole round at once instead of waiting once per
gauge.

Default PromQL per kind of metric (percentages 0-100, latency in seconds) is in
`PRESETS`: preset "node" reads node-exporter (`node_cpu_seconds_total`,
`node_memory_MemAvailable_bytes`/`MemTotal`, `node_filesystem_avail_bytes`/`size`
of `/`), preset "cadvisor" reads cAdvisor (`container_cpu_usage_seconds_total`,
`container_memory_working_set_bytes` over `container_spec_memory_limit_bytes`,
`container_fs_usage_bytes` over `container_fs_limit_bytes`, busiest container).
docs/config.md lists every query.
Latency and error rate come from the reference service's own
`http_request_duration_seconds` histogram and `http_requests_total` counter.
Override any of them per environment in `[environments.NAME.queries]`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import requests

from runbook.model import Threshold
from runbook.sources.gauges import MetricKind, Reading, metric_kind
from runbook.sources.settings import SourceSettings

if TYPE_CHECKING:
    from prometheus_api_client import PrometheusConnect

_NOT_TRAFFIC = 'path!~"/metrics|/health|/ready"'
"""Scrapes and probes are not users' requests (as the fallback's NOT_TRAFFIC_PATHS)."""
SERVICE_QUERIES: dict[MetricKind, str] = {
    "latency": (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{_NOT_TRAFFIC}}}[1m])))"
    ),
    "error_rate": (
        f'100 * sum(rate(http_requests_total{{code=~"5..",{_NOT_TRAFFIC}}}[1m])) '
        f"/ sum(rate(http_requests_total{{{_NOT_TRAFFIC}}}[1m]))"
    ),
}
PRESETS: dict[str, dict[MetricKind, str]] = {
    "node": {
        "cpu": '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[1m])))',
        "memory": "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)",
        "disk": (
            '100 * (1 - node_filesystem_avail_bytes{mountpoint="/"} '
            '/ node_filesystem_size_bytes{mountpoint="/"})'
        ),
        **SERVICE_QUERIES,
    },
    "cadvisor": {
        "cpu": '100 * max(rate(container_cpu_usage_seconds_total{name!=""}[1m]))',
        "memory": (
            '100 * max(container_memory_working_set_bytes{name!=""} '
            '/ (container_spec_memory_limit_bytes{name!=""} > 0))'
        ),
        "disk": (
            '100 * max(container_fs_usage_bytes{name!=""} / container_fs_limit_bytes{name!=""})'
        ),
        **SERVICE_QUERIES,
    },
}


def query_for(threshold: Threshold, settings: SourceSettings) -> str | None:
    """The PromQL for a threshold row: the config's override, else the preset's default."""
    configured = settings.query_for(threshold.metric)
    if configured:
        return configured
    return PRESETS.get(settings.query_preset, PRESETS["node"]).get(metric_kind(threshold.metric))


def first_value(result: Any) -> float | None:
    """The value of the first sample of an instant-query result; None when empty or NaN."""
    if not isinstance(result, list) or not result:
        return None
    # A vector is [{"metric": ..., "value": [t, "v"]}, ...]; a scalar is [t, "v"].
    sample = result[0].get("value") if isinstance(result[0], dict) else result
    if not isinstance(sample, list | tuple) or len(sample) != 2:
        return None
    try:
        value = float(sample[1])
    except (TypeError, ValueError):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None  # NaN (0/0 with no traffic) and Inf are "no data", not a number to show
    return value


class PrometheusSource:
    """Reads every threshold's query once per call; blocking (run it on a worker thread)."""

    def __init__(
        self, url: str, *, timeout_s: float = 2.0, retries: int = 1, settings: SourceSettings
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.settings = settings
        self._client: PrometheusConnect | None = None

    @property
    def name(self) -> str:
        return f"prometheus {self.url}"

    def client(self) -> PrometheusConnect:
        if self._client is None:
            # Imported here: prometheus_api_client's package pulls in pandas and numpy.
            from prometheus_api_client import PrometheusConnect
            from urllib3.util.retry import Retry

            retry = Retry(
                total=self.retries,
                connect=self.retries,
                read=False,  # a read timeout is not retried: re-raised as ReadTimeout
                status=self.retries,
                backoff_factor=0.1,
                status_forcelist=(502, 503, 504),
                allowed_methods=("GET", "POST"),
                raise_on_status=False,
            )
            self._client = PrometheusConnect(
                url=self.url,
                retry=retry,
                timeout=self.timeout_s,
            )
        return self._client

    def read(self, thresholds: Sequence[Threshold]) -> list[Reading]:
        """One reading per threshold; errors become readings with `error` set, never 0."""
        readings: list[Reading] = []
        failure: str | None = None
        for threshold in thresholds:
            query = query_for(threshold, self.settings)
            now = time.time()
            if query is None:
                readings.append(Reading(threshold.metric, None, "no query configured", now))
                continue
            if failure is not None:
                readings.append(Reading(threshold.metric, None, self.name, now, failure))
                continue
            try:
                result = self.client().custom_query(query)
            except requests.RequestException as error:
                failure = _describe(error)
                readings.append(Reading(threshold.metric, None, self.name, now, failure))
                continue
            except Exception as error:  # noqa: BLE001 - PrometheusApiClientException: 4xx/5xx
                readings.append(
                    Reading(
                        threshold.metric, None, self.name, now, str(error).splitlines()[0][:160]
                    )
                )
                continue
            readings.append(Reading(threshold.metric, first_value(result), self.name, now))
        return readings

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _describe(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "Prometheus did not answer in time"
    if isinstance(error, requests.ConnectionError):
        return "Prometheus refused the connection"
    return f"Prometheus request failed: {type(error).__name__}"
