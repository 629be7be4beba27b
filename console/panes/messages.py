"""Messages the live panes' workers post, and the requests the panes send up to the app.

High-rate ones (`StatsArrived`, `HealthArrived`, `GaugesArrived`) do not bubble and
coalesce in the queue (`can_replace`): only the newest matters. Log lines never coalesce.

Cheap to import: the types of the fields are for the type checker only, so the app and
the main screen handle these with `@on` without loading the Docker client or the planner
for the first frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from console.messages import ProcedureOpenRequested

# The observations live apart so the console can handle them without importing Docker.
from console.panes.observations import (
    ContainerRestarted,
    GaugesShown,
    HealthChanged,
    ThresholdCrossed,
)

if TYPE_CHECKING:
    from runbook.drills.runner import Drill
    from runbook.execution.plan import Plan
    from runbook.sources.docker.stats import StatsSampled
    from runbook.sources.gauges import Reading
    from runbook.sources.health import CheckResult
    from runbook.sources.logs import LogLine

__all__ = [
    "ContainerActionRequested",
    "ContainerRestarted",
    "DockerEventArrived",
    "FollowLogsRequested",
    "GaugesArrived",
    "GaugesShown",
    "HealthArrived",
    "HealthChanged",
    "LogLinesArrived",
    "ProcedureOpenRequested",
    "StatsArrived",
    "ThresholdCrossed",
]


@dataclass
class DockerEventArrived(Message, bubble=False):
    """A container list, a container change or removal, or an engine state change."""

    event: object


@dataclass
class StatsArrived(Message, bubble=False):
    sample: StatsSampled

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StatsArrived)


@dataclass
class LogLinesArrived(Message, bubble=False):
    lines: tuple[LogLine, ...]


@dataclass
class HealthArrived(Message, bubble=False):
    results: tuple[CheckResult, ...]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HealthArrived)


@dataclass
class GaugesArrived(Message, bubble=False):
    readings: tuple[Reading, ...]
    source: str
    """"prometheus <url>" or "fallback (no Prometheus configured)"."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, GaugesArrived)


@dataclass
class ContainerActionRequested(Message):
    """Run a container action (restart, logs, inspect): the console's step runner confirms,
    runs and records it like a step (console.runner)."""

    plan: Plan
    title: str
    """What the operator sees it as: "docker restart web-blue"."""
    drill: Drill | None = None
    """Set by the drill screen the pane sits in: the action is on the drill's sandbox."""


@dataclass
class FollowLogsRequested(Message):
    """Follow these containers' (or services') logs in the logs pane."""

    containers: tuple[str, ...]
    add: bool = False
    """Keep following the current ones too."""
    services: bool = False
    """The names are an orchestrator's services: their logs carry a task column."""
