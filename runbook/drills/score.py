"""A drill's score, computed from its timeline, and the saved results.

- time to first action: from the fault showing to the first step marked or run;
- time to mitigation: from the fault showing to the checks passing;
- whether the trainee acknowledged the alert;
- steps of the named procedure followed (done or run), skipped (with reasons),
  missed (never touched), and whether they were taken in order;
- mutating commands that did not help: mitigation did not happen while they ran
  or within `HELP_WINDOW_S` after (and before the next mutating command began).

Mitigation is credited to the trainee only when one of their mutating commands
helped. A fault that cleared by itself, or while no command of theirs could have
cleared it, scores 0 like a drill never mitigated.

Points start at 100: minus 10 per step missed, 10 for not acknowledging, 10 per
mutating command that did not help, 5 per step taken out of order, 5 per step
skipped without a reason, 2 per started minute to mitigation past the severity's
acknowledge window; never below 0. So a drill with a step left untouched cannot
score 100. `Score.notes` says what each deduction was for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from runbook.incident.timeline import Event, ordered, parse_time
from runbook.model import Procedure
from runbook.storage.jsonl import append_line, read_lines

HELP_WINDOW_S = 60.0
RESULTS_FILE = "results.jsonl"


@dataclass(frozen=True)
class StepOutcome:
    index: int
    title: str
    status: str
    """done, ran, failed, cancelled, skipped or untouched."""
    reason: str | None = None
    at_s: float | None = None
    """Seconds after the drill started that the step was first touched."""


@dataclass(frozen=True)
class Score:
    scenario: str
    drill_id: str
    started_at: str
    ended_at: str
    mitigated: bool
    time_to_first_action_s: float | None
    time_to_mitigation_s: float | None
    steps: list[StepOutcome]
    in_order: bool
    out_of_order: list[int]
    unhelpful_commands: list[str]
    points: int
    sandbox: str
    incident: str | None = None
    notes: list[str] = field(default_factory=list)
    """Why points were taken away (or not given), one line each."""
    acknowledged: bool = False
    credited: bool = False
    """Mitigated by a mutating command of the trainee's (see the module docstring)."""

    @property
    def missed(self) -> int:
        return sum(1 for s in self.steps if s.status == "untouched")

    @property
    def followed(self) -> int:
        return sum(1 for s in self.steps if s.status in ("done", "ran"))

    @property
    def skipped(self) -> int:
        return sum(1 for s in self.steps if s.status == "skipped")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["followed"], data["skipped"] = self.followed, self.skipped
        data["missed"] = self.missed
        return data

    def summary(self) -> str:
        def secs(value: float | None) -> str:
            return "-" if value is None else f"{value:.0f}s"

        return (
            f"{self.scenario}: {'mitigated' if self.mitigated else 'NOT mitigated'}, "
            f"{self.points} points; first action {secs(self.time_to_first_action_s)}, "
            f"mitigation {secs(self.time_to_mitigation_s)}; steps followed {self.followed}, "
            f"skipped {self.skipped}, missed {self.missed}"
            f"{'' if self.in_order else ', out of order'}"
            f"{'' if self.acknowledged else ', not acknowledged'}; "
            f"unhelpful mutating commands {len(self.unhelpful_commands)}"
            + (f" ({'; '.join(self.notes)})" if self.notes else "")
        )


def _seconds(start: datetime, event: Event) -> float:
    return round((event.moment - start).total_seconds(), 3)


def score(
    *,
    scenario: str,
    drill_id: str,
    procedure: Procedure,
    events: list[Event],
    started_at: datetime,
    ended_at: datetime,
    sandbox: str,
    acknowledge_s: float | None = None,
    incident: str | None = None,
) -> Score:
    """Score a drill from its timeline (events before `started_at` are setup and ignored)."""
    # A refused command (not confirmed, or outside the sandbox) never ran: not an action.
    timeline = [
        e
        for e in ordered(events)
        if e.moment >= started_at
        and not (e.kind == "command" and e.data.get("status") == "refused")
    ]
    actions = [e for e in timeline if e.kind.startswith("step-") or e.kind == "command"]
    first_action = _seconds(started_at, actions[0]) if actions else None
    mitigation = next((e for e in timeline if e.kind == "mitigated"), None)
    mitigated_s = _seconds(started_at, mitigation) if mitigation else None

    touched: dict[int, StepOutcome] = {}
    order: list[int] = []
    for event in actions:
        if event.data.get("procedure") != procedure.key or not isinstance(
            event.data.get("step"), int
        ):
            continue
        index = int(event.data["step"])
        if event.kind == "command":
            ran = {"succeeded": "ran", "cancelled": "cancelled"}
            status = ran.get(str(event.data.get("status")), "failed")
        else:
            status = event.kind.removeprefix("step-")
        previous = touched.get(index)
        if previous is None:
            order.append(index)
        if (
            previous is None
            or previous.status in ("failed", "cancelled", "skipped")
            or status == "done"
        ):
            touched[index] = StepOutcome(
                index,
                next((s.title for s in procedure.steps if s.index == index), f"step {index}"),
                status,
                event.data.get("reason"),
                previous.at_s if previous else _seconds(started_at, event),
            )
    steps = [
        touched.get(step.index, StepOutcome(step.index, step.title, "untouched"))
        for step in procedure.steps
    ]
    out_of_order = [index for n, index in enumerate(order) if any(index < o for o in order[:n])]

    mutating = [e for e in timeline if e.kind == "command" and e.data.get("mutating")]
    unhelpful: list[str] = []
    helpful: list[str] = []
    for n, event in enumerate(mutating):
        # Events are recorded when a command ends; it may have mitigated while still running.
        began = event.moment.timestamp() - float(event.data.get("duration_s") or 0.0)
        following = mutating[n + 1] if n + 1 < len(mutating) else None
        next_began = (
            following.moment.timestamp() - float(following.data.get("duration_s") or 0.0)
            if following is not None
            else None
        )
        at = mitigation.moment.timestamp() if mitigation is not None else None
        helped = at is not None and (
            began <= at <= event.moment.timestamp() + HELP_WINDOW_S
            and (next_began is None or at <= next_began)
        )
        commands = " && ".join(str(c) for c in event.data.get("commands") or [event.text])
        (helpful if helped else unhelpful).append(commands)

    acknowledged = any(e.kind == "acknowledged" for e in timeline)
    credited = mitigation is not None and len(helpful) > 0
    notes: list[str] = []
    points = 0
    if mitigation is not None and not credited:
        notes.append("the fault cleared without a command of yours that fixed it: no points")
    if credited:
        missed = [s for s in steps if s.status == "untouched"]
        unexplained = [s for s in steps if s.status == "skipped" and not s.reason]
        late_minutes = 0
        if acknowledge_s and mitigated_s is not None and mitigated_s > acknowledge_s:
            late_minutes = int((mitigated_s - acknowledge_s) // 60 + 1)
        deductions = [
            (10 * len(missed), f"steps missed: {', '.join(str(s.index) for s in missed)}"),
            (0 if acknowledged else 10, "the alert was never acknowledged"),
            (10 * len(unhelpful), f"mutating commands that did not help: {len(unhelpful)}"),
            (5 * len(out_of_order), f"steps out of order: {out_of_order}"),
            (
                5 * len(unexplained),
                f"skipped without a reason: {', '.join(str(s.index) for s in unexplained)}",
            ),
            (2 * late_minutes, f"mitigated {late_minutes} started minute(s) past the ack window"),
        ]
        points = 100 - sum(cost for cost, _ in deductions)
        notes += [f"-{cost}: {why}" for cost, why in deductions if cost]
    return Score(
        scenario=scenario,
        drill_id=drill_id,
        started_at=started_at.isoformat(),
        ended_at=ended_at.isoformat(),
        mitigated=mitigation is not None,
        time_to_first_action_s=first_action,
        time_to_mitigation_s=mitigated_s,
        steps=steps,
        in_order=not out_of_order,
        out_of_order=out_of_order,
        unhelpful_commands=unhelpful,
        points=max(points, 0),
        sandbox=sandbox,
        incident=incident,
        notes=notes,
        acknowledged=acknowledged,
        credited=credited,
    )


def save_result(directory: Path, result: Score) -> Path:
    """Append the score to `<directory>/results.jsonl` (one line, fsync)."""
    path = directory / RESULTS_FILE
    append_line(path, result.to_dict(), mode=0o600)
    return path


def load_results(directory: Path) -> list[dict[str, Any]]:
    return read_lines(directory / RESULTS_FILE)


def parse_started(result: dict[str, Any]) -> datetime | None:
    try:
        return parse_time(str(result.get("started_at")))
    except ValueError:
        return None
