"""Gauge states, staleness that keeps the last value, and the procedure to open."""

from __future__ import annotations

from pathlib import Path

from runbook.document.parser import load
from runbook.model import Bound, Threshold
from runbook.sources.gauges import (
    Gauge,
    Hysteresis,
    Reading,
    applicable_procedure,
    clock_text,
    metric_kind,
)

CPU = Threshold("CPU Usage", Bound(">", 70, "%", "> 70%"), Bound(">", 90, "%", "> 90%"), "x", 1)
LATENCY = Threshold(
    "Request Latency (p99)", Bound(">", 0.5, "s", "> 500ms"), Bound(">", 1, "s", "> 1s"), "y", 2
)


def test_states_follow_the_bounds() -> None:
    gauge = Gauge(CPU, hysteresis=Hysteresis(breach_for_s=0, clear_for_s=0, clear_margin=0))
    assert gauge.current(0).state == "no-data"
    assert gauge.update(Reading("CPU Usage", 10, "test", 100)).state == "ok"
    assert gauge.update(Reading("CPU Usage", 75, "test", 101)).state == "warning"
    value = gauge.update(Reading("CPU Usage", 95, "test", 102))
    assert value.state == "critical" and value.history == (10, 75, 95)
    assert value.value_text() == "95.0 %"


def test_a_failed_read_shows_unreachable_since_never_a_number() -> None:
    gauge = Gauge(CPU)
    gauge.update(Reading("CPU Usage", 0.0, "prom", 100))
    first = gauge.update(Reading("CPU Usage", None, "prom", 104, error="refused"))
    value = gauge.update(Reading("CPU Usage", None, "prom", 110, error="refused"))
    assert first.state == value.state == "stale" and value.value is None
    assert value.value_text() == f"unreachable since {clock_text(104)}"
    assert "0.0" not in value.value_text() and value.detail == "refused"
    assert value.history == (0.0,)  # the last good value stays in the sparkline only
    assert gauge.update(Reading("CPU Usage", 12, "prom", 112)).value_text() == "12.0 %"


def test_no_data_when_never_read_and_old_values_show_no_number() -> None:
    gauge = Gauge(LATENCY, stale_after_s=5)
    never = gauge.update(Reading("x", None, "prom", 100, error="refused"))
    assert never.state == "no-data" and never.value_text() == f"unreachable since {clock_text(100)}"
    gauge.update(Reading("x", 0.2, "prom", 100))
    assert gauge.current(103).state == "ok"
    assert gauge.current(103).value_text() == "200 ms"
    old = gauge.current(106)
    assert old.state == "stale" and old.value is None
    assert old.value_text() == f"no data since {clock_text(100)}"
    empty = gauge.update(Reading("x", None, "prom", 107))  # the source had nothing
    assert empty.state == "no-data" and empty.value_text() == "no data"


def flapping(gauge: Gauge, values: list[float], start: float = 0, step: float = 2):
    """Feed readings `step` seconds apart; the states the gauge showed."""
    return [
        gauge.update(Reading("p99", value, "scrape", start + n * step)).state
        for n, value in enumerate(values)
    ]


def test_a_flapping_breach_is_one_breach_then_one_recovery() -> None:
    gauge = Gauge(LATENCY, hysteresis=Hysteresis(breach_for_s=4, clear_for_s=10))
    states = flapping(gauge, [0.005] + [2.476, 2.476, 2.476, 0.005, 2.476, 0.005] * 5)
    changes = [b for a, b in zip(states, states[1:], strict=False) if a != b]
    assert changes == ["critical"]  # the 5 ms readings never held for 10 s
    assert states[1:3] == ["ok", "ok"]  # pending: a worse state shows once it held 4 s
    # The last reading (5 ms) was at 60 s: the recovery shows once 5 ms held until 70 s.
    settled = flapping(gauge, [0.005] * 6, start=62)
    assert settled == ["critical"] * 4 + ["ok"] * 2


def test_recovery_needs_the_margin_below_the_bound() -> None:
    gauge = Gauge(LATENCY, hysteresis=Hysteresis(breach_for_s=0, clear_for_s=4, clear_margin=0.1))
    assert flapping(gauge, [0.2, 1.5]) == ["ok", "critical"]
    # 0.95 s is under the 1 s critical mark but within 10 % of it: not cleared to warning.
    assert flapping(gauge, [0.95] * 4, start=10) == ["critical"] * 4
    pending = gauge.current(16)
    assert pending.pending is None and pending.value_text() == "950 ms"
    states = flapping(gauge, [0.85] * 3, start=20)
    assert states == ["critical", "critical", "warning"]


def test_no_data_neither_confirms_nor_resets_a_pending_breach() -> None:
    gauge = Gauge(LATENCY, hysteresis=Hysteresis(breach_for_s=4, clear_for_s=10))
    assert flapping(gauge, [0.1, 2.0]) == ["ok", "ok"]
    assert gauge.current(2).pending == "critical"
    assert gauge.update(Reading("p99", None, "scrape", 4)).state == "no-data"
    assert gauge.update(Reading("p99", 2.0, "scrape", 6)).state == "critical"


def test_the_first_reading_is_shown_at_once() -> None:
    gauge = Gauge(LATENCY, hysteresis=Hysteresis(breach_for_s=30))
    assert gauge.update(Reading("p99", 2.0, "scrape", 1)).state == "critical"


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
