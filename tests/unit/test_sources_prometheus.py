"""PromQL per threshold, config overrides, and reads that fail without inventing a 0."""

from __future__ import annotations

import math
from typing import Any

import pytest
import requests

from runbook.model import Bound, Threshold
from runbook.sources.prometheus import PrometheusSource, first_value, query_for
from runbook.sources.settings import SourceSettings


def threshold(metric: str) -> Threshold:
    return Threshold(metric, Bound(">", 1, "%", "> 1%"), None, "act", 1)


def test_default_queries_and_overrides() -> None:
    settings = SourceSettings()
    latency = query_for(threshold("Request Latency (p99)"), settings)
    assert latency is not None and "histogram_quantile(0.99" in latency
    cpu = query_for(threshold("CPU Usage"), settings)
    assert cpu is not None and "node_cpu_seconds_total" in cpu
    cadvisor = query_for(threshold("CPU Usage"), SourceSettings(query_preset="cadvisor"))
    assert cadvisor is not None and "container_cpu_usage_seconds_total" in cadvisor
    custom = SourceSettings(queries={"cpu usage": "my_cpu"})
    assert query_for(threshold("CPU Usage"), custom) == "my_cpu"
    assert query_for(threshold("Queue depth"), settings) is None


def test_first_value() -> None:
    assert first_value([{"metric": {}, "value": [1, "2.5"]}]) == 2.5
    assert first_value([]) is None
    assert first_value([{"metric": {}, "value": [1, "NaN"]}]) is None
    assert first_value([1, "3"]) == 3.0


class FakeClient:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.calls = 0

    def custom_query(self, query: str) -> Any:
        self.calls += 1
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def source_with(outcome: Any) -> tuple[PrometheusSource, FakeClient]:
    source = PrometheusSource("http://prom.test", settings=SourceSettings())
    fake = FakeClient(outcome)
    source._client = fake  # type: ignore[assignment]
    return source, fake


def test_refused_fails_the_round_once_with_no_value() -> None:
    source, fake = source_with(requests.ConnectionError("refused"))
    readings = source.read([threshold("CPU Usage"), threshold("Error Rate")])
    assert fake.calls == 1
    assert all(r.value is None and r.error == "Prometheus refused the connection" for r in readings)


def test_timeout_and_server_errors() -> None:
    source, _ = source_with(requests.ReadTimeout("slow"))
    assert source.read([threshold("CPU Usage")])[0].error == "Prometheus did not answer in time"
    source, _ = source_with(RuntimeError("HTTP Status Code 503 (b'down')"))
    reading = source.read([threshold("CPU Usage")])[0]
    assert reading.value is None and "503" in reading.error


def test_empty_result_is_no_data() -> None:
    source, _ = source_with([])
    reading = source.read([threshold("CPU Usage")])[0]
    assert reading.value is None and reading.error == ""


def test_client_is_configured_with_timeout_and_few_retries() -> None:
    source = PrometheusSource(
        "http://prom.test", timeout_s=1.5, retries=1, settings=SourceSettings()
    )
    client = source.client()
    assert client._timeout == 1.5
    adapter = client._session.get_adapter("http://prom.test/api/v1/query")
    assert adapter.max_retries.total == 1 and adapter.max_retries.read is False
    assert not math.isnan(0.0)


@pytest.mark.parametrize("preset", ["node", "cadvisor"])
def test_every_seed_kind_has_a_default(preset: str) -> None:
    settings = SourceSettings(query_preset=preset)
    for metric in (
        "CPU Usage",
        "Memory Usage",
        "Request Latency (p99)",
        "Error Rate",
        "Disk Usage",
    ):
        assert query_for(threshold(metric), settings)
