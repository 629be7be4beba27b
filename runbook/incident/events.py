"""Turn what the console does into incident timeline events.

`IncidentReporter` wraps any `StepReporter` (the TUI's, the plain terminal's)
and records every command the executor runs, with its exit status and a masked
output excerpt. `step_event` records checklist marks (done, skipped with a
reason, failed). Masking happens here, at recording time, so the incident file
never holds a secret; the report masks again with the operator's current rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from runbook.execution.masking import Masker
from runbook.incident.timeline import CONSOLE_ACTOR, Event, make_event
from runbook.sources.probe import without_probes

if TYPE_CHECKING:
    from datetime import datetime

    from runbook.config import Config
    from runbook.execution.executor import StepReporter, StepResult
    from runbook.execution.plan import Plan
    from runbook.execution.rollout import HostOutcome
    from runbook.execution.runs import OutputLine

EXCERPT_LINES = 12
"""Output lines kept with each command event (the last ones; the run directory has all)."""


def masker_for(config: Config | None = None) -> Masker:
    """The masker the executor uses: secret-named env values plus configured patterns."""
    patterns = config.secrets.patterns if config else ()
    names = config.secrets.names if config else ()
    return Masker.from_env(os.environ, patterns, names)


def step_event(
    procedure: str,
    step_index: int,
    step_title: str,
    status: str,
    *,
    reason: str | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> Event:
    """A checklist mark as an event: status is done, skipped, failed or cancelled (at `at`,
    or now)."""
    kind = {
        "done": "step-done",
        "skipped": "step-skipped",
        "failed": "step-failed",
        "cancelled": "step-cancelled",
    }.get(status)
    if kind is None:
        raise ValueError(f"unknown step status {status!r}")
    text = f"Step {step_index} {status}: {step_title}"
    if reason:
        text += f" ({reason})"
    return make_event(
        kind,  # type: ignore[arg-type]
        text,
        actor=actor,
        at=at,
        procedure=procedure,
        step=step_index,
        reason=reason,
    )


def command_event(
    plan: Plan,
    result: StepResult,
    masker: Masker,
    *,
    actor: str | None = None,
    output: list[str] | None = None,
) -> Event:
    """A finished (or refused) step's commands as one `command` event."""
    commands = [masker.mask(code) for code in plan.resolved_commands]
    lines = output if output is not None else list(result.output_tail)
    # A log excerpt (make logs-tail, docker logs) keeps the requests users made: the
    # console's own probes are left out, and counted.
    lines, probes = without_probes(lines)
    excerpt = [masker.mask(line) for line in lines[-EXCERPT_LINES:]]
    if probes:
        excerpt.append(f"({probes} console probe line(s) left out)")
    status = result.status
    exit_text = f"exit {result.exit_code}" if result.exit_code is not None else status
    first_line = commands[0].splitlines()[0] if commands and commands[0] else plan.step_title
    return make_event(
        "command",
        f"{first_line} -> {exit_text}",
        actor=actor,
        procedure=plan.procedure,
        step=plan.step_index,
        step_title=plan.step_title,
        commands=commands,
        risk=plan.risk,
        mutating=plan.mutating,
        environment=plan.environment,
        status=status,
        exit_code=result.exit_code,
        reason=result.reason,
        run_ids=list(result.run_ids),
        duration_s=result.duration_s,
        output=excerpt,
    )


class IncidentReporter:
    """A StepReporter that also records each finished step as a `command` event."""

    def __init__(
        self,
        record: Callable[[Event], None],
        inner: StepReporter | None = None,
        masker: Masker | None = None,
        actor: str | None = None,
    ) -> None:
        self.record = record
        self.inner = inner
        self.masker = masker or masker_for()
        self.actor = actor
        self._lines: list[str] = []

    def started(self, plan: Plan) -> None:
        self._lines = []
        if self.inner is not None:
            self.inner.started(plan)

    def output(self, plan: Plan, line: OutputLine) -> None:
        if line.stream != "system":
            self._lines.append(line.text)
            del self._lines[:-EXCERPT_LINES]
        if self.inner is not None:
            self.inner.output(plan, line)

    def host(self, plan: Plan, outcome: HostOutcome) -> None:
        """A roll's host changed state: passed on for the progress grid."""
        from runbook.execution.executor import RollReporter  # the executor imports no incident

        if isinstance(self.inner, RollReporter):
            self.inner.host(plan, outcome)

    def finished(self, plan: Plan, result: StepResult) -> None:
        output = self._lines or list(result.output_tail)
        self.record(command_event(plan, result, self.masker, actor=self.actor, output=output))
        if self.inner is not None:
            self.inner.finished(plan, result)


def health_event(path: str, ok: bool, detail: str = "", status: int | None = None) -> Event:
    """An endpoint turned healthy or failing (the health pane's change), by the console."""
    word = "healthy" if ok else "failing"
    return make_event(
        "health-change",
        f"{path} {word}" + (f": {detail}" if detail else ""),
        actor=CONSOLE_ACTOR,
        path=path,
        ok=ok,
        status=status,
    )


def threshold_event(
    metric: str, state: str, previous: str, value_text: str, source: str = ""
) -> Event | None:
    """A gauge crossed into warning/critical (breach) or back to ok (recovery); else None."""
    if state in ("warning", "critical") and state != previous:
        kind, text = "threshold-breach", f"{metric} {value_text} {state}"
    elif state == "ok" and previous in ("warning", "critical"):
        kind, text = "threshold-recovery", f"{metric} back to {value_text}"
    else:
        return None
    return make_event(
        kind,  # type: ignore[arg-type]
        text,
        actor=CONSOLE_ACTOR,
        metric=metric,
        state=state,
        previous=previous,
        source=source or None,
    )


def restart_event(container: str, restarts: int | None = None) -> Event:
    """A container restarted (a Docker `restart` or `start` after `die`), by the console."""
    counted = f" ({restarts} restarts)" if restarts is not None else ""
    return make_event(
        "container-restart",
        f"{container} restarted{counted}",
        actor=CONSOLE_ACTOR,
        container=container,
        restarts=restarts,
    )


READING_MOMENTS = ("open", "mitigation", "close")
"""When an incident records its gauges: at open, at mitigation and at close."""
_READING_FIELDS = ("metric", "value", "unit", "state", "source", "age_s")


class GaugeReading(Protocol):
    """A gauge's value as the console or a probe has it (`GaugeValue`, a probe's `Reading`)."""

    @property
    def metric(self) -> str: ...

    @property
    def value(self) -> float | None: ...

    @property
    def unit(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def source(self) -> str: ...


def reading_record(reading: GaugeReading | Mapping[str, Any]) -> dict[str, Any]:
    """One reading as plain data: metric, value (None: no data), unit, state, source."""
    if isinstance(reading, Mapping):
        found = {name: reading.get(name) for name in _READING_FIELDS}
    else:
        found = {name: getattr(reading, name, None) for name in _READING_FIELDS}
    return {name: value for name, value in found.items() if value is not None or name == "value"}


def readings_text(records: Iterable[Mapping[str, Any]]) -> str:
    """`Error Rate 38.3% critical, p99 Latency 5ms ok` (no data said as such, never 0)."""
    return (
        ", ".join(f"{r.get('metric')} {format_reading(r)}" for r in records if r.get("metric"))
        or "none"
    )


def format_reading(record: Mapping[str, Any]) -> str:
    value, unit = record.get("value"), record.get("unit") or ""
    state = record.get("state") or "?"
    if not isinstance(value, int | float):
        return f"no data ({state})" if state != "no-data" else "no data"
    shown = f"{value * 1000:.0f}ms" if unit == "s" else f"{value:.1f}{unit}"
    return f"{shown} ({state})"


def readings_event(
    moment: str,
    readings: Iterable[GaugeReading | Mapping[str, Any]],
    *,
    actor: str = CONSOLE_ACTOR,
    at: datetime | None = None,
) -> Event:
    """The gauges as they read at `moment` (open, mitigation, close), by the console."""
    records = [reading_record(r) for r in readings]
    return make_event(
        "readings",
        f"Gauges at {moment}: {readings_text(records)}",
        actor=actor,
        at=at,
        moment=moment,
        readings=records,
    )
