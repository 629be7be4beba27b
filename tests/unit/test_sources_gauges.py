"""Gauge states, staleness that keeps the last value, and the procedure to open."""

from __future__ import annotations

from pathlib import Path

from runbook.document.parser import load
from runbook.model import Bound, Threshold
from runbook.sources.gauges import Gauge, Reading, applicable_procedure, metric_kind

CPU = Threshold("CPU Usage", Bound(">", 70, "%", "> 70%"), Bound(">", 90, "%", "> 90%"), "x", 1)
LATENCY = Threshold(
    "Request Latency (p99)", Bound(">", 0.5, "s", "> 500ms"), Bound(">", 1, "s", "> 1s"), "y", 2
)


def test_states_follow_the_bounds() -> None:
    gauge = Gauge(CPU)
    assert gauge.current(0).state == "no-data"
    assert gauge.update(Reading("CPU Usage", 10, "test", 100)).state == "ok"
    assert gauge.update(Reading("CPU Usage", 75, "test", 101)).state == "warning"
    value = gauge.update(Reading("CPU Usage", 95, "test", 102))
    assert value.state == "critical" and value.history == (10, 75, 95)
    assert value.value_text() == "95.0 %"


def test_a_failed_read_goes_stale_with_the_last_value_never_zero() -> None:
    gauge = Gauge(CPU)
    gauge.update(Reading("CPU Usage", 42, "prom", 100))
    value = gauge.update(Reading("CPU Usage", None, "prom", 104, error="refused"))
    assert (
        value.state == "stale" and value.value == 42 and value.value_text() == "42.0 % stale (4 s)"
    )
    assert value.detail == "refused"


def test_no_data_when_never_read_and_old_values_go_stale() -> None:
    gauge = Gauge(LATENCY, stale_after_s=5)
    assert gauge.update(Reading("x", None, "prom", 100, error="refused")).state == "no-data"
    gauge.update(Reading("x", 0.2, "prom", 100))
    assert gauge.current(103).state == "ok"
    assert gauge.current(106).state == "stale"
    assert gauge.current(103).value_text() == "200 ms"


def test_metric_kinds() -> None:
    assert metric_kind("CPU Usage") == "cpu"
    assert metric_kind("Memory Usage") == "memory"
    assert metric_kind("Request Latency (p99)") == "latency"
    assert metric_kind("Error Rate") == "error_rate"
    assert metric_kind("Disk Usage") == "disk"
    assert metric_kind("Queue depth") == "unknown"


def test_procedures_for_the_seed(seed_path: Path) -> None:
    runbook = load(str(seed_path))
    by_metric = {t.metric: t for t in runbook.thresholds}
    memory = applicable_procedure(runbook, by_metric["Memory Usage"], "critical")
    assert memory is not None and memory.title == "Manual Rollback"  # "Restart" step
    latency = applicable_procedure(runbook, by_metric["Request Latency (p99)"], "critical")
    assert latency is not None and latency.title.startswith("P1")
    warning = applicable_procedure(runbook, by_metric["Request Latency (p99)"], "warning")
    assert warning is not None and warning.title.startswith("P3")
    gauge = Gauge(by_metric["Memory Usage"], runbook)
    value = gauge.update(Reading("Memory Usage", 97, "test", 1))
    assert value.procedure == memory.key
    assert value.severity_procedure is not None and "P1" in value.severity_procedure
