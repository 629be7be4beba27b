"""The place for live panes (containers, health, gauges, logs: issue 5).

Until the live sources land, it lists what the runbook says to watch: its endpoints
and alerting thresholds, marked as not connected, so the operator still sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from runbook.model import Runbook

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions


class LiveDock(VerticalScroll, can_focus=True):
    """Docked beside the checklist on large terminals, a tab at 80x24."""

    HELP = "What the runbook says to watch. Live values arrive with the live panes."
    DEFAULT_CSS = """
    LiveDock { padding: 0 1; }
    LiveDock .live-heading { text-style: bold; color: $text-accent; margin-top: 1; }
    """

    def __init__(self, runbook: Runbook, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self.runbook = runbook

    def compose(self) -> ComposeResult:
        yield Static(
            Content.styled(
                "Live panes not connected: values appear here once they are.", "$text-muted"
            ),
            id="live-status",
            markup=False,
        )
        if self.runbook.endpoints:
            yield Static("Endpoints", classes="live-heading", markup=False)
            lines = [
                Content.assemble((f"{endpoint.path:<10}", "bold"), " ", endpoint.expect_text)
                for endpoint in self.runbook.endpoints
            ]
            yield Static(Content("\n").join(lines), id="live-endpoints", markup=False)
        if self.runbook.thresholds:
            yield Static("Thresholds", classes="live-heading", markup=False)
            lines = []
            for threshold in self.runbook.thresholds:
                warning = threshold.warning.text if threshold.warning else "-"
                critical = threshold.critical.text if threshold.critical else "-"
                lines.append(
                    Content.assemble(
                        (threshold.metric, "bold"),
                        ("  warn ", "$text-muted"),
                        (warning, "$warning"),
                        ("  crit ", "$text-muted"),
                        (critical, "$error"),
                    )
                )
                lines.append(Content.styled(f"  → {threshold.action}", "$text-muted"))
            yield Static(Content("\n").join(lines), id="live-thresholds", markup=False)

    def mount_pane(self, pane: Widget) -> AwaitComplete:
        """Add a live pane (containers, health, gauges, logs) above the runbook's lists.

        The first pane replaces the "not connected" line. Panes stack in this dock; at
        80x24 the dock is the Live tab, from 160x45 it shows beside the other panes.
        """
        status = self.query("#live-status")

        async def mount() -> None:
            await status.remove()
            if self.is_attached:  # else the console is quitting: nothing to show it in
                await self.mount(pane, before=0)

        return AwaitComplete(mount())
