"""What the live panes observed, for an incident timeline (runbook.incident.events builds events).

Kept free of the Docker and Prometheus clients, so the main screen can handle these
with `@on` without pulling those into the first frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from runbook.sources.gauges import GaugeValue
    from runbook.sources.prober import Prober


@dataclass
class HealthChanged(Message):
    """An endpoint turned healthy or failing (for an incident timeline: health_event)."""

    path: str
    ok: bool
    detail: str
    status: int | None


@dataclass
class ThresholdCrossed(Message):
    """A gauge went into warning/critical or back to ok (threshold_event)."""

    metric: str
    state: str
    previous: str
    value_text: str
    source: str
    procedure_key: str | None


@dataclass
class ContainerRestarted(Message):
    """A container restarted: a restart event, or started again after dying (restart_event)."""

    container: str
    restarts: int


@dataclass
class ServiceWatched(Message):
    """The live panes watch this base URL (the configured one, or the local sandbox's):
    the serving strip reads its /health, through the panes' prober when given (its
    reads are shared with the health checks')."""

    base_url: str
    deadline_s: float
    prober: Prober | None = None


@dataclass
class GaugesShown(Message):
    """The gauges pane shows these values now (for an incident's readings at open,
    mitigation and close: Incident.record_readings). Only the newest matters."""

    values: tuple[GaugeValue, ...]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, GaugesShown)
