"""`LivePanes`: gauges, health, containers and logs in one widget, to replace LiveDock.

    LivePanes(runbook, settings, sources, id="pane-live")
    live_panes_for(console.runbook, console.environment, console.settings.config, id="pane-live")

`settings` is the environment's `SourceSettings`; `sources` defaults to
`LiveSources.create(runbook, settings)`. Messages going up (console/panes/messages.py):

- requests: `ProcedureOpenRequested(key)` (the main screen opens it) and
  `ContainerActionRequested(plan, title)` (the console's step runner, console.runner,
  confirms, runs, audits and records it like a step; the panes run nothing themselves).
- observations, for an incident timeline (runbook.incident.events builds the events):
  `HealthChanged`, `ThresholdCrossed`, `ContainerRestarted`.

Unmounting LivePanes closes every stream at once (`LiveSources.stop`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from console.panes.containers import ContainersPane
from console.panes.gauges import GaugesPane
from console.panes.health import HealthPane
from console.panes.logs import LogsPane
from console.panes.messages import FollowLogsRequested
from console.panes.observations import ServiceWatched
from console.panes.services import ServicesPane
from runbook.config import Config, ConfigError
from runbook.model import Runbook
from runbook.sources.docker.containers import ContainerInfo
from runbook.sources.docker.stats import ContainerStats
from runbook.sources.live import LiveSources
from runbook.sources.settings import SourceSettings, source_settings


def live_panes_for(
    runbook: Runbook,
    environment: str,
    config: Config,
    *,
    base_url: str | None = None,
    metrics_url: str | None = None,
    notice: str = "",
    **kwargs: Any,
) -> LivePanes:
    """LivePanes for the console's environment, settings read from the console's config file.

    A broken [sources] table does not stop the console: defaults are used and the
    pane says why. `base_url` and `metrics_url` replace the configured ones (the
    embedded sandbox, console.embedded); `notice` is shown on top, saying so.
    """
    problem = ""
    try:
        settings = source_settings(config, environment)
    except ConfigError as error:
        env = config.environment(environment)
        settings = SourceSettings(
            environment=environment,
            docker_host=env.docker_host,
            docker_hosts=env.docker_hosts,
            orchestrator=env.orchestrator,
            prometheus_url=env.prometheus_url,
            base_url=env.base_url or SourceSettings().base_url,
        )
        problem = f"{error} (using defaults)"
    if base_url:
        settings = replace(settings, base_url=base_url, metrics_url=metrics_url)
    panes = LivePanes(runbook, settings, None, config=config, **kwargs)
    panes.config_problem = problem
    panes.notice = notice
    return panes


class LivePanes(VerticalScroll, can_focus=False):
    """What is happening now, next to what to do about it."""

    HELP = "Live panes: gauges, endpoint health, containers and their logs."
    DEFAULT_CSS = """
    LivePanes { height: 1fr; }
    LivePanes > ContainersPane { min-height: 8; }
    LivePanes > ServicesPane { min-height: 12; }
    LivePanes > LogsPane { min-height: 8; }
    LivePanes > LogsPane.-empty { min-height: 1; }
    LivePanes > #live-problem, LivePanes > #live-config-problem { color: $warning; height: auto; }
    LivePanes > #live-notice { background: $warning; color: $background; height: auto; }
    LivePanes > GaugesPane, LivePanes > HealthPane { border-bottom: solid $panel; }
    LivePanes:focus-within { border: none; }
    """

    def __init__(
        self,
        runbook: Runbook,
        settings: SourceSettings,
        sources: LiveSources | None = None,
        *,
        config: Config | None = None,
        docker: bool = True,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.runbook = runbook
        self.settings = settings
        self.sources = sources or LiveSources.create(runbook, settings)
        self.config = config
        self.docker = docker
        """False: no containers and logs panes (what is watched is not on a Docker engine)."""
        self.config_problem = ""
        self.notice = ""
        """Shown on top: what these panes watch when it is not the configured service."""

    def compose(self) -> ComposeResult:
        if self.notice:
            yield Static(self.notice, id="live-notice", markup=False)
        problem = self.sources.start_problem() if self.docker else None
        if problem:
            yield Static(f"Docker: {problem}", id="live-problem", markup=False)
        if self.config_problem:
            yield Static(self.config_problem, id="live-config-problem", markup=False)
        yield GaugesPane(self.sources, self._stats_snapshot, id="live-gauges")
        yield HealthPane(self.sources, id="live-health")
        if not self.docker:
            return
        swarm = self.sources.services is not None
        pane = ServicesPane if swarm else ContainersPane
        yield pane(
            self.sources,
            environment=self.settings.environment,
            config=self.config,
            runbook_sha256=self.runbook.sha256,
            runbook_path=self.runbook.path,
            id=f"live-{pane.TABLE_ID}",
        )
        yield LogsPane(self.sources, services=swarm, id="live-logs")

    def _stats_snapshot(self) -> tuple[list[ContainerStats], dict[str, ContainerInfo]]:
        services = next(iter(self.query(ServicesPane)), None)
        if services is not None:
            return list(services.stats.values()), dict(services.watched)
        pane = next(iter(self.query(ContainersPane)), None)
        return (list(pane.stats.values()), dict(pane.containers)) if pane else ([], {})

    COMPACT_BELOW = 30
    """Docks shorter than this show one line per gauge."""

    def on_mount(self) -> None:
        self.post_message(
            ServiceWatched(
                self.settings.base_url, self.settings.health_timeout_s, self.sources.prober
            )
        )

    def on_resize(self) -> None:
        self.query_one(GaugesPane).compact = self.size.height < self.COMPACT_BELOW

    def on_unmount(self) -> None:
        self.sources.stop()

    def stop(self) -> None:
        """Close every stream now (returns at once)."""
        self.sources.stop()

    @on(FollowLogsRequested)
    def _follow(self, message: FollowLogsRequested) -> None:
        message.stop()
        logs = self.query_one(LogsPane)
        wanted = message.containers
        if message.add:
            wanted = logs.following + tuple(c for c in wanted if c not in logs.following)
        logs.follow(wanted, services=message.services)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        # Sources report trouble as state ("engine unreachable"); an error here is a bug,
        # shown instead of silently leaving a pane without updates.
        if event.state == WorkerState.ERROR and (event.worker.group or "").startswith("docker"):
            self.notify(
                f"{event.worker.description} failed: {event.worker.error}", severity="error"
            )
