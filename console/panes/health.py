"""The health pane: each endpoint of the runbook, checked against the environment's base URL."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Unpack

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from console.panes.messages import HealthArrived, HealthChanged
from console.panes.quiet import Line
from runbook.sources.health import CheckResult

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions
    from runbook.sources.live import LiveSources
    from runbook.sources.prober import Subscription


def row_content(result: CheckResult) -> Content:
    mark, style = ("✔", "$success") if result.ok else ("✘", "$error")
    latency = "" if result.latency_s is None else f"{result.latency_s * 1000:.0f} ms"
    since = datetime.fromtimestamp(result.changed_at).strftime("%H:%M:%S")
    status = str(result.status) if result.status is not None else "---"
    detail = "" if result.ok else f"  {result.detail}"
    return Content.assemble(
        (f"{mark} ", style),
        (f"{result.path:<10}", "bold"),
        f" {status:>3} {latency:>7}",
        (f"  since {since}", "$text-muted"),
        (detail, style),
    )


class HealthPane(Vertical):
    """One line per endpoint; a line is repainted only when its text changes."""

    HELP = "Endpoints from the runbook, checked on an interval against the base URL."
    DEFAULT_CSS = """
    HealthPane { height: auto; }
    HealthPane > .health-title { color: $text-muted; }
    HealthPane > .health-row { height: 1; }
    """

    def __init__(self, sources: LiveSources, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self.sources = sources
        self._texts: dict[str, str] = {}
        self._ok: dict[str, bool] = {}
        self._subscription: Subscription | None = None

    def compose(self) -> ComposeResult:
        base = self.sources.settings.base_url
        yield Static(f"Health · {base}", classes="health-title", markup=False)
        for index, endpoint in enumerate(self.sources.health.endpoints):
            yield Line(
                Content.styled(f"… {endpoint.path}", "$text-muted"),
                classes="health-row",
                id=f"health-{index}",
            )
        if not self.sources.health.endpoints:
            yield Static("The runbook lists no endpoints.", classes="health-row", markup=False)

    def on_mount(self) -> None:
        health = self.sources.health
        if health.endpoints:
            # The environment's prober: URLs the gauges or the serving strip read too are
            # fetched once for all of them.
            self._subscription = self.sources.prober.subscribe(
                health.urls,
                self.sources.settings.health_interval_s,
                health.deadline_s,
                lambda answers: self.post_message(HealthArrived(health.results(answers))),
                on_error=self._failed,
            )

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()

    def _failed(self, error: Exception) -> None:
        self.notify(f"Health checks failed: {error}", severity="error")

    @on(HealthArrived)
    def _results(self, message: HealthArrived) -> None:
        paths = [endpoint.path for endpoint in self.sources.health.endpoints]
        for result in message.results:
            index = paths.index(result.path)
            previous = self._ok.get(result.path)
            if previous is not None and previous != result.ok:
                self.post_message(
                    HealthChanged(result.path, result.ok, result.detail, result.status)
                )
            self._ok[result.path] = result.ok
            content = row_content(result)
            if self._texts.get(result.path) != content.plain:
                self._texts[result.path] = content.plain
                self.query_one(f"#health-{index}", Line).set(content)
