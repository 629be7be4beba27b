"""The gauges pane: one gauge per threshold row, from Prometheus or the embedded fallback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Unpack

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from console.panes.format import sparkline
from console.panes.messages import (
    GaugesArrived,
    GaugesShown,
    ProcedureOpenRequested,
    ThresholdCrossed,
)
from console.panes.quiet import Line
from console.widgets.key_hint import KeyHint
from runbook.sources.docker.containers import ContainerInfo
from runbook.sources.docker.stats import ContainerStats
from runbook.sources.fallback import fallback_readings
from runbook.sources.gauges import GaugeValue, clock_text
from runbook.sources.live import off_thread

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions
    from runbook.sources.live import LiveSources
    from runbook.sources.prober import Probed, Subscription

StatsProvider = Callable[[], tuple[Iterable[ContainerStats], dict[str, ContainerInfo]]]

_RANK = {"ok": 0, "warning": 1, "critical": 2}
STATE_STYLE = {
    "ok": "$success",
    "warning": "$warning",
    "critical": "$error",
    "stale": "$text-muted",
    "no-data": "$text-muted",
}


def gauge_content(
    value: GaugeValue, selected: bool, width: int = 120, compact: bool = False
) -> Content:
    """Two lines per gauge (one when `compact`); narrow panes move marks to the second line."""
    style = STATE_STYLE[value.state]
    marks = " · ".join(
        part
        for part in (
            f"warn {value.warning_text}" if value.warning_text else "",
            f"crit {value.critical_text}" if value.critical_text else "",
        )
        if part
    )
    state = value.state.upper() if value.state in ("warning", "critical") else value.state
    if value.state in ("no-data", "stale"):
        state = ""  # the value text already says "no data" or "unreachable since T"
    elif value.pending in ("ok", "warning", "critical"):
        # Readings moving to another state that has not held long enough to show.
        state += " ↑" if _RANK[value.pending] > _RANK[value.state] else " ↓"
    source = value.source or "no source yet"
    detail = f" ({value.detail})" if value.detail and value.detail != "no data" else ""
    offer = ""
    if value.procedure:
        offer = f" · o: open “{value.procedure.split(' / ')[-1]}”"
    pointer = ("▶ " if selected else "  ", "$accent")
    if compact:
        shown = value.short_text()
        short_marks = " ".join(
            part
            for part in (
                f"⚠{value.warning_text.replace(' ', '')}" if value.warning_text else "",
                f"✖{value.critical_text.replace(' ', '')}" if value.critical_text else "",
            )
            if part
        )
        return Content.assemble(
            pointer,
            (f"{value.metric[:18]:<18} ", "bold"),
            (f"{shown:>9} ", style),
            (f"{state:<8} ", style),
            (f"{sparkline(value.history, 6):<6} ", style),
            (f"{short_marks} ", "$text-muted"),
            (value.action, "italic"),
            (offer, style),
        )
    if width >= 90:
        first = Content.assemble(
            pointer,
            (f"{value.metric:<22}", "bold"),
            (f"{value.value_text():>18} ", style),
            (f"{state:<8} ", style),
            (f"{sparkline(value.history):<16} ", style),
            (marks, "$text-muted"),
        )
        second = Content.assemble(
            ("    " + value.action, "italic"),
            (f" · {source}{detail}", "$text-muted"),
            (offer, style),
        )
    else:
        shown = value.value_text()
        name_width = max(6, width - 2 - len(shown) - len(state) - 3)
        first = Content.assemble(
            pointer,
            (f"{value.metric[:name_width]:<{name_width}} ", "bold"),
            (f"{shown} ", style),
            (state, style),
        )
        second = Content.assemble(
            (f"  {sparkline(value.history, 8):<8} ", style),
            (value.action, "italic"),
            (offer, style),
            (f" · {marks} · {source}{detail}", "$text-muted"),
        )
    return Content("\n").join([first, second])


class GaugesPane(Vertical, can_focus=True):
    """Threshold gauges; `o` opens the runbook procedure for the selected one."""

    HELP = """
## Gauges
One per row of the runbook's alerting thresholds. A failed read shows **unreachable since
T**, an old value **no data since T**: never a number, never a made-up 0. A state changes
once it held a few seconds (↑ or ↓ beside the state: moving, not yet held). Each gauge
names its source.
- **up/down** select, **o** open the procedure that applies
"""
    BINDINGS = [
        Binding(
            "o,enter",
            "open_procedure",
            "Open procedure",
            show=False,
            id="gauges-open",
            tooltip="Open the runbook procedure for the selected gauge",
        ),
        Binding(
            "up,k",
            "move(-1)",
            "Up",
            show=False,
            id="gauges-up",
            tooltip="Select the previous gauge",
        ),
        Binding(
            "down,j",
            "move(1)",
            "Down",
            show=False,
            id="gauges-down",
            tooltip="Select the next gauge",
        ),
    ]
    DEFAULT_CSS = """
    GaugesPane { height: auto; }
    GaugesPane > #gauges-title { color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    GaugesPane > .gauge { height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    GaugesPane.-compact > .gauge { height: 1; }
    GaugesPane:focus-within > #gauges-title { color: $primary; }
    """

    selected: reactive[int] = reactive(0)
    """Index of the selected gauge."""
    compact: reactive[bool] = reactive(False)
    """One line per gauge, for short docks (80x24)."""

    def __init__(
        self,
        sources: LiveSources,
        stats_provider: StatsProvider | None = None,
        **kwargs: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**kwargs)
        self.sources = sources
        self.stats_provider = stats_provider
        self.values: list[GaugeValue] = [gauge.current() for gauge in sources.gauges]
        self._title_text = self._title()
        self._texts: dict[int, str] = {}
        self._announced: dict[str, str] = {}
        self._subscription: Subscription | None = None
        self.source_name = ""

    def compose(self) -> ComposeResult:
        yield Static(self._title_text, id="gauges-title", markup=False)
        yield KeyHint(type(self))
        for index, _ in enumerate(self.sources.gauges):
            yield Line(classes="gauge", id=f"gauge-{index}")
        if not self.sources.gauges:
            yield Static("The runbook has no alerting thresholds.", markup=False)

    def _title(self, values: list[GaugeValue] | None = None) -> str:
        """The source; when Prometheus fails every read, since when (else every gauge
        would only say it has nothing, which reads like no traffic)."""
        prometheus = self.sources.prometheus
        if prometheus is None:
            return "Gauges · no Prometheus: fallback (docker stats, /metrics, disk)"
        down = [v for v in values or () if v.unreachable]
        if values and len(down) == len(values):
            since = min((v.since for v in down if v.since is not None), default=None)
            when = f" since {clock_text(since)}" if since is not None else ""
            return f"Gauges · Prometheus unreachable{when}: {prometheus.name}"
        return f"Gauges · {prometheus.name}"

    def on_mount(self) -> None:
        self._render_all()
        if not self.sources.gauges:
            return
        if self.sources.prometheus is not None:
            self.read_gauges()
            return
        # The environment's prober reads /metrics (and the public endpoints when /metrics
        # fails) once for every reader: the health pane probes the same endpoints.
        scraper = self.sources.scraper
        self._subscription = self.sources.prober.subscribe(
            (scraper.metrics_url,),
            self.sources.settings.prometheus_interval_s,
            scraper.timeout_s,
            self._scraped,
            on_error=self._failed,
        )

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()

    def _failed(self, error: Exception) -> None:
        self.notify(f"Reading gauges failed: {error}", severity="error")

    async def _scraped(self, answers: dict[str, Probed]) -> None:
        """A round of the fallback: /metrics, the probes if it failed, Docker stats, disk."""
        scraper = self.sources.scraper
        if scraper.needs_probes(answers[scraper.metrics_url]):
            prober, interval = self.sources.prober, self.sources.settings.prometheus_interval_s
            probed = await asyncio.gather(
                *(prober.fetch(url, scraper.timeout_s, interval / 2) for url in scraper.probe_urls)
            )
            answers = {**answers, **dict(zip(scraper.probe_urls, probed, strict=True))}
        p99, error_rate, scrape_error = scraper.from_answers(answers)
        stats, containers = self.stats_provider() if self.stats_provider else ((), {})
        readings = fallback_readings(
            [gauge.threshold for gauge in self.sources.gauges],
            stats=stats,
            containers=containers,
            p99_s=p99,
            error_rate=error_rate,
            scrape_source=scraper.source,
            scrape_error=scrape_error,
            disk_path=self.sources.local_disk_path,
            error_rate_source=scraper.error_rate_source,
        )
        self.post_message(GaugesArrived(tuple(readings), "fallback"))

    @work(exclusive=True, group="gauges", exit_on_error=False, description="Reading gauges")
    async def read_gauges(self) -> None:
        """A round from Prometheus (its client blocks: a daemon thread, so a hung server
        never holds up quitting)."""
        prometheus = self.sources.prometheus
        assert prometheus is not None
        thresholds = [gauge.threshold for gauge in self.sources.gauges]
        readings = await off_thread(lambda: prometheus.read(thresholds))
        self.post_message(GaugesArrived(tuple(readings), prometheus.name))

    @on(Worker.StateChanged)
    def _rearm(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "gauges" and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
        ):
            if event.state == WorkerState.ERROR:
                self._failed(event.worker.error)  # type: ignore[arg-type]
            self.set_timer(self.sources.settings.prometheus_interval_s, self.read_gauges)

    @on(GaugesArrived)
    def _arrived(self, message: GaugesArrived) -> None:
        self.source_name = message.source
        by_metric = {reading.metric: reading for reading in message.readings}
        values = []
        for gauge in self.sources.gauges:
            reading = by_metric.get(gauge.threshold.metric)
            values.append(gauge.update(reading) if reading else gauge.current())
        self.values = values
        title = self._title(values)
        if title != self._title_text:  # repaint only a change
            self._title_text = title
            self.query_one("#gauges-title", Static).update(title)
        self._render_all()
        self._announce()
        self.post_message(GaugesShown(tuple(values)))

    def _announce(self) -> None:
        """Say once, on crossing, which procedure applies."""
        for value in self.values:
            previous = self._announced.get(value.metric, "ok")
            if value.state in ("warning", "critical") and value.state != previous:
                where = value.procedure.split(" / ")[-1] if value.procedure else "no procedure"
                self.notify(
                    f"{value.metric} {value.state}: {value.value_text()} · {value.action}. "
                    f"Procedure: {where} (o on the gauge opens it)",
                    severity="error" if value.state == "critical" else "warning",
                    timeout=8,
                )
            if value.state in ("ok", "warning", "critical") and value.state != previous:
                if value.state != "ok" or previous != "ok":
                    self.post_message(
                        ThresholdCrossed(
                            value.metric,
                            value.state,
                            previous,
                            value.value_text(),
                            value.source,
                            value.procedure,
                        )
                    )
                self._announced[value.metric] = value.state

    def _render_all(self) -> None:
        for index, value in enumerate(self.values):
            content = gauge_content(
                value,
                self.has_focus_within and index == self.selected,
                self.size.width,
                self.compact,
            )
            if self._texts.get(index) != content.plain:
                self._texts[index] = content.plain
                row = self.query_one(f"#gauge-{index}", Line)
                row.set(content)
                for state in STATE_STYLE:
                    row.set_class(state == value.state, f"-{state}")

    def on_resize(self) -> None:
        self._render_all()

    def watch_selected(self) -> None:
        self._render_all()

    def watch_compact(self, compact: bool) -> None:
        self.set_class(compact, "-compact")
        self._texts.clear()
        self._render_all()

    def on_focus(self) -> None:
        self._render_all()

    def on_blur(self) -> None:
        self._render_all()

    def action_move(self, delta: int) -> None:
        if self.values:
            self.selected = (self.selected + delta) % len(self.values)

    def action_open_procedure(self) -> None:
        if not self.values:
            return
        value = self.values[self.selected]
        key = value.procedure or value.severity_procedure
        if key is None:
            worst = [v for v in self.values if v.procedure and v.state in ("critical", "warning")]
            key = worst[0].procedure if worst else None
        if key is None:
            self.notify("No procedure applies: this gauge is not in warning or critical.")
            return
        self.post_message(ProcedureOpenRequested(key))
