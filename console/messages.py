"""App-wide messages: what the execution worker reports, posted from its thread, and the
requests that screens send up to the step runner (console.runner).

Workers only call `post_message`; state changes happen in the handlers on the UI side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from runbook.drills.runner import Drill
    from runbook.execution.executor import StepResult


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
    run_ids: tuple[str, ...] = ()


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
