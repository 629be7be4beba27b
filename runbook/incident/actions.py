"""An incident's actions and its checklist's steps are one thing, both ways.

The severity's procedure names the actions ("Acknowledge alert within 5
minutes", "Escalate if not resolved within 15 minutes"). Acknowledging ticks
the acknowledge step; ticking that step done acknowledges. Escalating ticks the
escalate step (ticking it asks whom, so that converse stays with the caller).
The TUI (`console/incident_bridge.py`), the CLI and the drill runner all call
these, inside `IncidentStore.update`:

```python
recorded = []
store.update(incident.id, lambda i: recorded.extend(acknowledge(i, procedure, by="alice")))
store.update(incident.id, lambda i: recorded.extend(mark_step(i, procedure, 1, "done")))
```

Each returns the events it recorded, in order, so the caller can show them and
tick its own checklist (`ticked_step`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from runbook.incident.events import step_event
from runbook.incident.model import Incident
from runbook.incident.timeline import Event
from runbook.model import Procedure, Step

Action = Literal["acknowledge", "escalate"]


def action_step(procedure: Procedure | None, action: Action) -> Step | None:
    """The procedure's step that asks for `action` (the first one), if it has one."""
    if procedure is None:
        return None
    return next((s for s in procedure.steps if s.incident_action == action), None)


def step_marked(incident: Incident, procedure_key: str, index: int) -> bool:
    """Whether the timeline already has the step done or skipped."""
    return any(
        e.kind in ("step-done", "step-skipped")
        and e.data.get("procedure") == procedure_key
        and e.data.get("step") == index
        for e in incident.events
    )


def ticked_step(events: list[Event]) -> tuple[str, int] | None:
    """The (procedure, step) an action's events ticked done, for the caller's checklist."""
    for event in events:
        if event.kind == "step-done":
            return str(event.data.get("procedure")), int(event.data["step"])
    return None


def _tick(
    incident: Incident,
    procedure: Procedure | None,
    action: Action,
    by: str | None,
    at: datetime | None,
) -> Event | None:
    step = action_step(procedure, action)
    if procedure is None or step is None or procedure.key != incident.procedure:
        return None
    if step_marked(incident, procedure.key, step.index):
        return None
    ticked = step_event(procedure.key, step.index, step.title, "done", actor=by, at=at)
    return incident.record(ticked)


def acknowledge(
    incident: Incident,
    procedure: Procedure | None,
    *,
    by: str | None = None,
    at: datetime | None = None,
) -> list[Event]:
    """Acknowledge, then tick the incident procedure's acknowledge step (once).

    `procedure` is the runbook's procedure of the incident's checklist; a step is
    ticked only when it is that procedure. Raises IncidentError when already
    acknowledged or closed.
    """
    acknowledged = incident.acknowledge(by=by, at=at)
    ticked = _tick(incident, procedure, "acknowledge", acknowledged.actor, acknowledged.moment)
    return [acknowledged] + ([ticked] if ticked else [])


def escalate(
    incident: Incident,
    procedure: Procedure | None,
    *,
    to: str | None = None,
    by: str | None = None,
    at: datetime | None = None,
) -> list[Event]:
    """Record an escalation, then tick the procedure's escalate step (once)."""
    escalated = incident.escalate(to=to, by=by, at=at)
    ticked = _tick(incident, procedure, "escalate", escalated.actor, escalated.moment)
    return [escalated] + ([ticked] if ticked else [])


def mark_step(
    incident: Incident,
    procedure: Procedure | None,
    index: int,
    status: str,
    *,
    reason: str | None = None,
    by: str | None = None,
    at: datetime | None = None,
) -> list[Event]:
    """Record a step done, skipped or failed; ticking the acknowledge step of the
    incident's own procedure done also acknowledges (when not yet acknowledged).

    `procedure` None (the runbook is gone) records the mark against the incident's
    procedure, titled "step N". Raises ValueError for an unknown status.
    """
    key = procedure.key if procedure is not None else incident.procedure
    step = procedure.step_at(index) if procedure is not None else None
    title = step.title if step is not None else f"step {index}"
    marked = incident.record(step_event(key, index, title, status, reason=reason, actor=by, at=at))
    events = [marked]
    if (
        status == "done"
        and step is not None
        and step.incident_action == "acknowledge"
        and key == incident.procedure
        and incident.is_open
        and incident.acknowledged_at is None
    ):
        events.append(incident.acknowledge(by=marked.actor, at=marked.moment))
    return events
