"""What the main screen asks of the console it runs in, as Protocols.

The screen is given objects with these methods (the app, the incident bridge) and never
imports the app: the arrows go from the app to the screen, not back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from console.progress import StepStatus
from runbook.model import Procedure, Step

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.widget import Widget

    from runbook.incident.deployments import DeploymentHint
    from runbook.incident.events import GaugeReading
    from runbook.incident.model import Incident


class ChecklistActions(Protocol):
    """Changes to the checklist's progress and the runs of its steps."""

    @property
    def running(self) -> tuple[str, int] | None:
        """(procedure key, step index) of the step whose command runs now."""

    @property
    def session_state(self) -> str:
        """What the status bar says about the session ("session saved", "running step 3")."""

    @property
    def clock_text(self) -> str:
        """The status bar's clock as last drawn ("03:12")."""

    @property
    def cpu_text(self) -> str:
        """The status bar's CPU figure as last measured ("cpu 2%")."""

    def set_status(
        self,
        procedure_key: str,
        step_index: int,
        status: StepStatus,
        reason: str | None = None,
        exit_code: int | None = None,
        by: str | None = None,
    ) -> None:
        """Mark a step (saved, shown, and recorded in an open incident); `by` is who
        did it when not this console's user (who cancelled a run)."""

    def add_note(self, procedure_key: str, step_index: int, note: str) -> None:
        """Keep a note with a step."""

    def start_step(self, procedure: Procedure, step: Step, dry_run: bool) -> object:
        """Ask for values and confirmation, then run the step (or show its dry-run)."""

    def cancel_step(self) -> None:
        """Cancel the running step."""

    def screen_ready(self) -> None:
        """The main screen has mounted: clocks, the status bar and incidents may start."""

    async def live_panes(self) -> Widget | None:
        """The live panes to mount in place of the static dock, or None."""


class IncidentActions(Protocol):
    """The console's open incident (console.incident_bridge)."""

    @property
    def incident(self) -> Incident | None:
        """The open incident, or None."""

    @property
    def hint(self) -> DeploymentHint | None:
        """A recent deployment found for the incident: where its rollback step is."""

    def acknowledge(self, because: str = "") -> None: ...

    def escalate(self, to: str, because: str = "") -> None: ...

    def show_timeline(self) -> None: ...

    def refresh(self) -> None:
        """Follow what happened to the incident while another screen was in front."""

    def follow(self, incident: Incident) -> None:
        """The strip read the incident file again (another console, the CLI)."""

    def deadline_due(self, label: str) -> None: ...

    def health_changed(self, path: str, ok: bool, detail: str, status: int | None) -> None: ...

    def threshold_crossed(
        self, metric: str, state: str, previous: str, value_text: str, source: str
    ) -> None: ...

    def container_restarted(self, container: str, restarts: int | None) -> None: ...

    def gauges_shown(self, values: Sequence[GaugeReading]) -> None:
        """The gauges as the operator sees them now: recorded at open, mitigation, close."""
