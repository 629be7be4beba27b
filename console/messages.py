"""App-wide messages: what the execution worker reports, posted from its thread.

Workers only call `post_message`; state changes happen in the handlers on the UI side.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class StepStarted(Message):
    """A step's command began running."""

    procedure_key: str
    step_index: int
    command: str


@dataclass
class StepOutput(Message, bubble=False):
    """Lines a running step wrote, batched so a chatty step cannot flood the queue."""

    procedure_key: str
    step_index: int
    lines: list[tuple[str, str]]
    """(stream, text) pairs; stream is "stdout", "stderr" or "info"."""

    def can_replace(self, message: Message) -> bool:
        # Never drop lines: only an identical empty batch may be coalesced.
        return isinstance(message, StepOutput) and not message.lines and not self.lines


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
