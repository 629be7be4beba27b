"""Is the fault still there? The endpoint checks and threshold gauges, and what changed.

These are the panes' own checks (`runbook.sources`): `HealthChecker` for the
endpoints table, `ServiceScraper` for p99 latency and error rate from two
scrapes of `/metrics` (the error rate from probes of the public endpoints when
/metrics cannot be read), and a `Gauge` per threshold row for its state, with
the gauges pane's hysteresis. A drill is mitigated when every endpoint answers
as expected through the sandbox's proxy and the request gauges (p99 latency,
error rate) show ok, as the operator sees them (so a breach has cleared for
`Hysteresis.clear_for_s`), for `STABLE_POLLS` polls in a row. A gauge with no
data is not ok.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from runbook.drills.probes import HealthResult, Reading
from runbook.incident.timeline import CONSOLE_ACTOR, Event, make_event
from runbook.model import Runbook
from runbook.sources.docker.containers import ContainerInfo
from runbook.sources.docker.stats import ContainerStats
from runbook.sources.fallback import ServiceScraper, fallback_readings, probe_urls
from runbook.sources.gauges import Gauge, Hysteresis
from runbook.sources.health import HealthChecker

REQUEST_GAUGES = ("latency", "error")
"""The gauges a drill's faults move; CPU, memory and disk are shown but do not decide."""
STABLE_POLLS = 2
_SEVERITY = {"ok": 0, "warning": 1, "critical": 2}

ContainerFigures = Callable[[], tuple[list[ContainerStats], dict[str, ContainerInfo]]]
"""The containers' stats and rows the CPU and memory gauges read (as the containers pane
gives them to the gauges pane)."""


@dataclass(frozen=True)
class CheckState:
    health: tuple[HealthResult, ...]
    readings: tuple[Reading, ...]
    faults: tuple[str, ...]
    """What is wrong now, one line each; empty when healthy."""
    has_traffic: bool

    @property
    def healthy(self) -> bool:
        """Every endpoint answers and every request gauge shows ok (no data is not ok)."""
        request_gauges = [r for r in self.readings if _is_request_gauge(r)]
        return not self.faults and self.has_traffic and all(r.state == "ok" for r in request_gauges)

    def shows(self, symptom: str) -> bool:
        """Whether the scenario's symptom is visible: latency, errors, health or ready."""
        if symptom in ("health", "ready"):
            path = "/health" if symptom == "health" else "/ready"
            return any(h.path == path and not h.ok for h in self.health)
        return any(
            symptom.rstrip("s") in r.metric.casefold() and r.state in ("warning", "critical")
            for r in self.readings
        )


def _is_request_gauge(reading: Reading) -> bool:
    return any(word in reading.metric.casefold() for word in REQUEST_GAUGES)


@dataclass
class DrillChecks:
    """Polls the sandbox; remembers the last state to report changes as timeline events."""

    runbook: Runbook
    base_url: str
    timeout_s: float = 2.0
    disk_path: str = "/"
    hysteresis: Hysteresis = field(default_factory=Hysteresis)
    """The gauges pane's own (`SourceSettings.hysteresis`), so drill and pane agree."""
    container_figures: ContainerFigures | None = None
    """Where CPU and memory come from; without it they read "no data"."""
    _last: CheckState | None = None
    _healthy_streak: int = 0
    history: list[CheckState] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._health = HealthChecker(
            self.runbook.endpoints, self.base_url, deadline_s=self.timeout_s
        )
        self._scraper = ServiceScraper(
            self.base_url.rstrip("/") + "/metrics",
            self.timeout_s,
            probe_urls=probe_urls(self.runbook, self.base_url),
        )
        self._gauges = {
            t.metric: Gauge(t, self.runbook, hysteresis=self.hysteresis)
            for t in self.runbook.thresholds
        }
        self._known: dict[str, Reading] = {}
        self._worst: dict[str, str] = {}
        """Per gauge in breach: the worst state reported so far."""

    async def _gather(self) -> tuple[tuple[HealthResult, ...], tuple[Reading, ...], bool]:
        async with self._health.client() as client:
            checked = await self._health.check_all(client)
            p99, error_rate, scrape_error = await self._scraper.scrape(client)
        stats, containers = (
            await asyncio.to_thread(self.container_figures) if self.container_figures else ((), {})
        )
        health = tuple(HealthResult(c.path, c.ok, c.status, c.latency_s, c.detail) for c in checked)
        found: list[Reading] = []
        for reading in fallback_readings(
            self.runbook.thresholds,
            stats=stats,
            containers=containers,
            p99_s=p99,
            error_rate=error_rate,
            scrape_source=self._scraper.source,
            scrape_error=scrape_error,
            disk_path=self.disk_path,
            error_rate_source=self._scraper.error_rate_source,
        ):
            gauge = self._gauges[reading.metric]
            value = gauge.update(reading)
            # A stale gauge has no value (GaugeValue.value is None): it reads "no data".
            state = value.state if value.state != "stale" else "no-data"
            found.append(
                Reading(value.metric, value.value, value.unit, state, value.source, value.action)
            )
        return health, tuple(found), p99 is not None or error_rate is not None

    def poll(self) -> tuple[CheckState, list[Event]]:
        """Check now; the state and the events describing what changed since the last poll.

        Blocking (it runs the panes' async checks to completion): call it from a thread.
        """
        health, found, traffic = asyncio.run(self._gather())
        faults = [f"{h.path}: {h.detail}" for h in health if not h.ok]
        faults += [
            f"{r.metric} {r.display} ({r.state})"
            for r in found
            if _is_request_gauge(r) and r.state in ("warning", "critical")
        ]
        state = CheckState(health, found, tuple(faults), traffic)
        # Compare against the last state each gauge had data for, so a breach that recovers
        # across a scrape gap (the proxy switching colour) is still reported as a recovery.
        before = None
        if self._last is not None:
            before = CheckState(self._last.health, tuple(self._known.values()), (), True)
        events = [e for e in self.changes(before, state) if self._news(e)]
        self._known.update({r.metric: r for r in found if r.state != "no-data"})
        self._last = state
        self.history.append(state)
        self._healthy_streak = self._healthy_streak + 1 if state.healthy else 0
        return state, events

    def _news(self, event: Event) -> bool:
        """Whether a threshold event is worth the timeline: a breach that is new or worse.

        A gauge that flaps between warning and critical within one breach would otherwise
        write an event every poll; its recovery ends the breach.
        """
        metric = str(event.data.get("metric", ""))
        if event.kind == "threshold-recovery":
            self._worst.pop(metric, None)
        elif event.kind == "threshold-breach":
            state = str(event.data.get("state"))
            if _SEVERITY.get(state, 0) <= _SEVERITY.get(self._worst.get(metric, "ok"), 0):
                return False
            self._worst[metric] = state
        return True

    @property
    def mitigated(self) -> bool:
        return self._healthy_streak >= STABLE_POLLS

    @staticmethod
    def changes(before: CheckState | None, after: CheckState) -> list[Event]:
        """Timeline events for what differs between two states (before None: all problems)."""
        events: list[Event] = []
        old_health = {h.path: h for h in before.health} if before else {}
        for result in after.health:
            previous = old_health.get(result.path)
            if previous is None and result.ok:
                continue
            if previous is None or previous.ok != result.ok:
                word = "healthy" if result.ok else "failing"
                events.append(
                    make_event(
                        "health-change",
                        f"{result.path} {word}: {result.detail}",
                        actor=CONSOLE_ACTOR,
                        path=result.path,
                        ok=result.ok,
                        status=result.status,
                    )
                )
        old_readings = {r.metric: r for r in before.readings} if before else {}
        for reading in after.readings:
            previous_state = (
                old_readings[reading.metric].state if reading.metric in old_readings else "ok"
            )
            if reading.state == "no-data" or previous_state == reading.state:
                continue
            if reading.state in ("warning", "critical"):
                kind, text = (
                    "threshold-breach",
                    f"{reading.metric} {reading.display} {reading.state}",
                )
            elif reading.state == "ok" and previous_state in ("warning", "critical"):
                kind, text = "threshold-recovery", f"{reading.metric} back to {reading.display}"
            else:
                continue
            events.append(
                make_event(
                    kind,  # type: ignore[arg-type]
                    text,
                    actor=CONSOLE_ACTOR,
                    metric=reading.metric,
                    value=reading.value,
                    unit=reading.unit,
                    state=reading.state,
                    source=reading.source,
                )
            )
        return events


def gauge_snapshot(
    runbook: Runbook,
    base_url: str,
    interval_s: float = 1.0,
    container_figures: ContainerFigures | None = None,
) -> list[dict[str, object]]:
    """The gauges now, as the panes compute them (two scrapes `interval_s` apart), as dicts.

    `container_figures` (CPU and memory) is read once, beside the first scrape."""
    import time

    checks = DrillChecks(runbook, base_url)
    with ThreadPoolExecutor(max_workers=1) as pool:
        figures = pool.submit(container_figures) if container_figures else None
        checks.poll()
        time.sleep(interval_s)
        if figures is not None:
            checks.container_figures = figures.result
        state, _ = checks.poll()
    return [reading.to_dict() for reading in state.readings]
