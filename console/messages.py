"""App-wide messages: what workers and helpers report, what widgets ask for, and the
requests that screens send up to the step runner (console.runner).

Workers and helpers (the execution driver, the incident bridge, the session writer)
only post these; state changes happen in the handlers, on the UI side. Events are
named in the past tense, requests in the imperative. This module imports no widget and
nothing heavy, so any screen can handle these with `@on` from its first frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from textual.message import Message

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from runbook.drills.runner import Drill
    from runbook.execution.executor import StepResult
    from runbook.incident.model import Deadline, Incident
    from runbook.incident.store import IncidentStore

IncidentPurpose = Literal["started", "adopt", "open", "timeline", "refresh"]
"""Why an incident was read: started here, adopted at start, opened, its timeline, a refresh."""

# Steps -------------------------------------------------------------------------------


@dataclass
class StepStarted(Message):
    """A step's command began running."""

    procedure_key: str
    step_index: int
    command: str


@dataclass
class StepOutput(Message, bubble=False):
    """Lines a running step wrote (the executor reads them in batches of one poll).

    Unlike metric ticks these are never coalesced: every line belongs in the record.
    """

    procedure_key: str
    step_index: int
    lines: list[tuple[str, str]]
    """(stream, text) pairs; stream is "stdout", "stderr" or "info"."""


@dataclass
class StepFinished(Message):
    """A step's run ended (succeeded, failed, cancelled or timed out)."""

    procedure_key: str
    step_index: int
    status: str
    """"succeeded", "failed", "cancelled", "timed-out" or "refused"."""
    exit_code: int | None = None
    detail: str = ""
    cancelled_by: str | None = None
    """Who cancelled the run, when it was cancelled."""
    run_ids: tuple[str, ...] = ()


@dataclass
class RollHostChanged(Message):
    """One host of a step that rolls across hosts changed state (for the progress grid)."""

    procedure_key: str
    step_index: int
    host: str
    state: str
    """"pending", "running", "ok", "failed", "skipped" or "cancelled"."""
    exit_code: int | None = None
    reason: str = ""


@dataclass
class ProcedureOpenRequested(Message):
    """Open the runbook procedure with this key (offered by a gauge in warning/critical)."""

    procedure_key: str


# Session -----------------------------------------------------------------------------


@dataclass
class SessionNotSaved(Message):
    """The session writer could not write the session file (posted from its thread)."""

    error: str


# Incident (posted by console.incident_bridge to the main screen) ---------------------


@dataclass
class IncidentShown(Message, bubble=False):
    """An incident became the console's: show its countdowns above the checklist."""

    incident: Incident
    store: IncidentStore
    jump: bool
    """Open the incident's procedure as the checklist."""


@dataclass
class IncidentChanged(Message, bubble=False):
    """The console's incident changed (an action here, or a write seen in its file)."""

    incident: Incident
    reread: bool = True
    """The strip reads the file again (False when the strip itself just read it)."""


@dataclass
class IncidentClosed(Message, bubble=False):
    """The console's incident was closed (here, by another console or by the CLI)."""

    incident_id: str
    resolution: str


@dataclass
class DeploymentHintFound(Message, bubble=False):
    """What the deployment history says about the incident: a recent deployment or none."""

    incident_id: str
    text: str
    recent: bool
    """A deployment was found: the rollback key applies."""


# Incident files (the incident bridge's writer thread, posted to the app) -------------


@dataclass
class IncidentLoaded(Message):
    """The writer thread read (or created) an incident, for `purpose`."""

    incident: Incident
    purpose: IncidentPurpose


@dataclass
class IncidentStored(Message):
    """An action on the incident (acknowledge, escalate, a deadline) was saved."""

    incident: Incident
    done: str
    """What to tell the operator ("" for nothing)."""
    title: str = ""
    ticked: tuple[str, int] | None = None
    """The (procedure, step) the action ticked done (runbook.incident.actions.ticked_step),
    for the checklist to show."""


@dataclass
class IncidentStoreFailed(Message):
    """An incident file could not be read or written: refused, busy, or an OS error."""

    text: str
    severity: Literal["warning", "error"] = "warning"


# Incident widgets (console.incident), posted up to the screen around them -------------


@dataclass
class DeadlineDue(Message, namespace="deadline_bar"):
    """A deadline passed while the incident is open; the app notifies the operator."""

    deadline: Deadline
    incident_id: str


@dataclass
class IncidentRead(Message, namespace="incident_panel"):
    """The incident as the file has it now (whoever recorded into it), for the
    widgets around the panel (the checklist's deadline rows)."""

    incident: Incident


# Drills ------------------------------------------------------------------------------


@dataclass
class DrillStepRequested(Message):
    """Run step `index` of the drill's procedure in its sandbox, through the step runner."""

    drill: Drill
    index: int
    reply_to: MessagePump
    """Gets `DrillStepRan` when the step ends, or at once when it is refused."""


@dataclass
class DrillStepRan(Message, bubble=False):
    """A requested drill step ended (or was refused: one step at a time)."""

    index: int
    result: StepResult
