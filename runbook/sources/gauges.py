"""Threshold gauges: one per row of the runbook's alerting thresholds table.

A gauge turns readings (from Prometheus or the fallback) into a state:
ok, warning, critical, stale (the last value is old or the source failed) or
no-data (never had a value). Without data a gauge shows no number at all: a failed
read says "unreachable since T", an old value "no data since T", a source with
nothing "no data"; the last good value stays in the sparkline only.

A breach has hysteresis, as a Prometheus alert's `for:`: a worse state shows once
the readings held it for `Hysteresis.breach_for_s`, and a better one once they
stayed below the bound, by `clear_margin` of it, for `clear_for_s`. A reading in
between resets the wait; a reading with no data neither confirms nor resets it.
So a flapping value gives one breach and, once it settles, one recovery.

When a gauge is warning or critical it names the
runbook procedure that applies: the one whose title shares the most words with the
row's Action and Metric text, else the severity procedure whose title carries the
state's word ("Critical", "Warning").
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from runbook.model import Bound, Procedure, Runbook, Threshold

GaugeState = Literal["ok", "warning", "critical", "stale", "no-data"]
MetricKind = Literal["cpu", "memory", "latency", "error_rate", "disk", "unknown"]

HISTORY_LENGTH = 30
"""Readings kept for the sparkline."""
_RANK = {"ok": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Hysteresis:
    """How long a state change must hold before a gauge shows it."""

    breach_for_s: float = 4.0
    """A worse state shows once the readings held it this long (an alert's `for:`)."""
    clear_for_s: float = 15.0
    """A better state shows once the readings stayed there this long."""
    clear_margin: float = 0.1
    """A reading counts towards clearing only below the bound by this share of it."""


def clock_text(moment: float) -> str:
    """Local wall-clock time of an epoch moment, as the gauges show it."""
    return time.strftime("%H:%M:%S", time.localtime(moment))


def metric_kind(metric: str) -> MetricKind:
    """What a threshold row measures, from its wording."""
    text = metric.casefold()
    if "cpu" in text or "processor" in text:
        return "cpu"
    if "mem" in text or "ram" in text:
        return "memory"
    if "latency" in text or "p99" in text or "response time" in text or "duration" in text:
        return "latency"
    if "error" in text or "5xx" in text or "failure" in text:
        return "error_rate"
    if "disk" in text or "storage" in text or "filesystem" in text:
        return "disk"
    return "unknown"


@dataclass(frozen=True)
class Reading:
    """One value from a source; `value` None means the source had nothing."""

    metric: str
    value: float | None
    source: str
    at: float
    error: str = ""
    """Set when the read failed (refused, 5xx, timeout): the gauge goes stale."""


@dataclass(frozen=True)
class GaugesRead:
    readings: tuple[Reading, ...]
    source: str
    """"prometheus <url>" or "fallback"."""
    note: str = ""


@dataclass(frozen=True)
class GaugeValue:
    metric: str
    kind: MetricKind
    value: float | None
    """The current value; None when there is none (no data, stale or unreachable)."""
    unit: str
    state: GaugeState
    age_s: float | None
    source: str
    detail: str
    history: tuple[float, ...]
    action: str
    warning_text: str
    critical_text: str
    procedure: str | None
    """Key of the runbook procedure to open when warning or critical."""
    severity_procedure: str | None = None
    """The on-call procedure for this severity, offered beside `procedure`."""
    since: float | None = None
    """When the data stopped: the first failed read, or the last good value's time."""
    unreachable: bool = False
    """The last read failed (refused, 5xx, timeout), rather than having nothing."""
    pending: GaugeState | None = None
    """The state the readings are moving to, shown once it held (see `Hysteresis`)."""

    def short_text(self) -> str:
        """`value_text` without the time data stopped, for narrow rows."""
        return self.value_text().split(" since ")[0]

    def value_text(self) -> str:
        if self.value is None:
            if self.since is None:
                return "unreachable" if self.unreachable else "no data"
            word = "unreachable" if self.unreachable else "no data"
            return f"{word} since {clock_text(self.since)}"
        if self.unit == "s":
            return f"{self.value * 1000:.0f} ms" if self.value < 1 else f"{self.value:.2f} s"
        if self.unit == "%":
            return f"{self.value:.1f} %"
        return f"{self.value:g} {self.unit}".strip()


class Gauge:
    """State and history of one threshold row."""

    def __init__(
        self,
        threshold: Threshold,
        runbook: Runbook | None = None,
        stale_after_s: float = 15.0,
        hysteresis: Hysteresis | None = None,
    ) -> None:
        self.threshold = threshold
        self.hysteresis = hysteresis or Hysteresis()
        self._shown: GaugeState | None = None
        """The state on screen (ok, warning or critical) once a reading had a value."""
        self._pending: tuple[GaugeState, float] | None = None
        """(state the readings are moving to, since when)."""
        self._failing_since: float | None = None
        self.kind = metric_kind(threshold.metric)
        self.stale_after_s = stale_after_s
        self.history: deque[float] = deque(maxlen=HISTORY_LENGTH)
        self.value: float | None = None
        self.value_at: float | None = None
        self.source = ""
        self.detail = ""
        self.failed = False
        self._runbook = runbook
        self._procedures: dict[GaugeState, tuple[str | None, str | None]] = {}

    def _procedures_for(self, state: GaugeState) -> tuple[str | None, str | None]:
        """(the procedure that applies, the on-call one) in `state`: found once per state
        (the runbook and the threshold never change; the search reads every step)."""
        known = self._procedures.get(state)
        if known is None:
            assert self._runbook is not None
            found = applicable_procedure(self._runbook, self.threshold, state)
            on_call = severity_procedure(self._runbook, state)
            known = (found.key if found else None, on_call.key if on_call else None)
            self._procedures[state] = known
        return known

    @property
    def unit(self) -> str:
        bound = self.threshold.warning or self.threshold.critical
        return bound.unit if bound else ""

    def update(self, reading: Reading) -> GaugeValue:
        self.source = reading.source
        if reading.error:
            self.failed, self.detail = True, reading.error
            if self._failing_since is None:
                self._failing_since = reading.at
        elif reading.value is None:
            self.failed, self.detail = False, "no data"
            self.value = self.value_at = self._failing_since = None
        else:
            self.failed, self.detail, self._failing_since = False, "", None
            self.value, self.value_at = reading.value, reading.at
            self.history.append(reading.value)
            self._settle(reading.value, reading.at)
        return self.current(reading.at)

    def _classify(self, value: float, margin: float = 0.0) -> GaugeState:
        """The value's state against the bounds, tightened by `margin` of each bound."""
        critical, warning = self.threshold.critical, self.threshold.warning
        if critical is not None and _tightened(critical, margin).breached_by(value):
            return "critical"
        if warning is not None and _tightened(warning, margin).breached_by(value):
            return "warning"
        return "ok"

    def _settle(self, value: float, at: float) -> None:
        """Move the shown state towards the reading's, once the change held (`Hysteresis`)."""
        raw = self._classify(value)
        if self._shown is None:
            self._shown, self._pending = raw, None
            return
        shown = _RANK[self._shown]
        cleared = self._classify(value, self.hysteresis.clear_margin)
        if _RANK[raw] > shown:
            target, hold = raw, self.hysteresis.breach_for_s
            if self._pending is not None and _RANK[self._pending[0]] > shown:
                # Still worse: held since the first worse reading, at the least of them.
                target = min(target, self._pending[0], key=_RANK.__getitem__)
                self._pending = (target, self._pending[1])
            else:
                self._pending = (target, at)
        elif _RANK[cleared] < shown:
            target, hold = cleared, self.hysteresis.clear_for_s
            if self._pending is not None and _RANK[self._pending[0]] < shown:
                target = max(target, self._pending[0], key=_RANK.__getitem__)
                self._pending = (target, self._pending[1])
            else:
                self._pending = (target, at)
        else:
            self._pending = None
            return
        if at - self._pending[1] >= hold:
            self._shown, self._pending = self._pending[0], None

    def state(self, now: float | None = None) -> GaugeState:
        now = time.time() if now is None else now
        if self.value is None or self.value_at is None:
            return "no-data"
        if self.failed or now - self.value_at > self.stale_after_s:
            return "stale"
        return self._shown or self._classify(self.value)

    def current(self, now: float | None = None) -> GaugeValue:
        now = time.time() if now is None else now
        state = self.state(now)
        procedure = severity = None
        if state in ("warning", "critical") and self._runbook is not None:
            procedure, severity = self._procedures_for(state)
        has_value = state not in ("stale", "no-data")
        since = self._failing_since if self.failed else self.value_at
        return GaugeValue(
            metric=self.threshold.metric,
            kind=self.kind,
            value=self.value if has_value else None,
            unit=self.unit,
            state=state,
            age_s=None if self.value_at is None else max(0.0, now - self.value_at),
            source=self.source,
            detail=self.detail,
            history=tuple(self.history),
            action=self.threshold.action,
            warning_text=self.threshold.warning.text if self.threshold.warning else "",
            critical_text=self.threshold.critical.text if self.threshold.critical else "",
            procedure=procedure,
            severity_procedure=severity,
            since=None if has_value else since,
            unreachable=self.failed,
            pending=self._pending[0] if has_value and self._pending else None,
        )


def _tightened(bound: Bound, margin: float) -> Bound:
    """The bound moved `margin` of itself towards the safe side (for clearing)."""
    if not margin:
        return bound
    if bound.op in (">", ">=", "above"):
        return replace(bound, value=bound.value * (1 - margin))
    if bound.op in ("<", "<=", "below"):
        return replace(bound, value=bound.value * (1 + margin))
    return bound


_STOP = frozenset(
    "a an and or the of to for in on up down it is be with if as by at from this that "
    "check usage rate high low".split()
)


def words(text: str) -> set[str]:
    """Significant lower-case word stems of a text."""
    found = set()
    for word in re.findall(r"[a-z0-9]+", text.casefold()):
        if word in _STOP or len(word) < 3:
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        found.add(word)
    return found


def applicable_procedure(
    runbook: Runbook, threshold: Threshold, state: GaugeState
) -> Procedure | None:
    """The procedure to offer when `threshold` is in `state` (warning or critical)."""
    wanted = words(threshold.action) | words(threshold.metric)
    scored: list[tuple[int, Procedure]] = []
    for procedure in runbook.procedures:
        # Titles weigh most; a word in a step and in its command counts twice. Comments
        # are left out (they say things like "reloads without restart").
        prose = " ".join(step.text for step in procedure.steps)
        code = " ".join(command.code for step in procedure.steps for command in step.commands)
        score = 3 * len(wanted & words(procedure.title))
        score += len(wanted & words(prose)) + len(wanted & words(code))
        if score:
            scored.append((score, procedure))
    scored.sort(key=lambda pair: -pair[0])
    if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    return severity_procedure(runbook, state)


def severity_procedure(runbook: Runbook, state: GaugeState) -> Procedure | None:
    """The severity procedure whose title names the state; critical falls to the first."""
    severities = list(runbook.severities)
    if not severities:
        return None
    for severity in severities:
        if state in severity.title.casefold():
            return runbook.procedure(severity.procedure)
    chosen = severities[0] if state == "critical" else severities[-1]
    return runbook.procedure(chosen.procedure)


def gauges_for(
    runbook: Runbook,
    thresholds: Iterable[Threshold] | None = None,
    stale_after_s: float = 15.0,
    hysteresis: Hysteresis | None = None,
) -> list[Gauge]:
    return [
        Gauge(threshold, runbook, stale_after_s, hysteresis)
        for threshold in (runbook.thresholds if thresholds is None else thresholds)
    ]
