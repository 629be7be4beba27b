"""All live sources of one environment, built from its settings, stopped together.

`LiveSources.create(runbook, settings)` is what the console (and the benches) use;
`stop()` closes every stream at once (sockets shut, no read waited for).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from runbook.model import Runbook
from runbook.sources.docker.endpoint import preflight, resolve_host
from runbook.sources.docker.engine import Engine
from runbook.sources.docker.fleet import Fleet, HostMonitor, HostStats, host_label, host_sources
from runbook.sources.fallback import ServiceScraper, probe_urls
from runbook.sources.gauges import Gauge, gauges_for
from runbook.sources.health import HealthChecker
from runbook.sources.logs import LogFollower
from runbook.sources.prober import Prober
from runbook.sources.prometheus import PrometheusSource
from runbook.sources.services import ServiceSource
from runbook.sources.settings import SourceSettings

_T = TypeVar("_T")


async def off_thread(function: Callable[[], _T]) -> _T:
    """Await a blocking call made on a daemon thread.

    Unlike `asyncio.to_thread`, an abandoned call (a hung server, the app quitting)
    does not hold up interpreter exit: the default executor is joined at shutdown.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()

    def call() -> None:
        try:
            result: _T | None = function()
            error: BaseException | None = None
        except BaseException as raised:  # noqa: BLE001 - handed to the awaiting task
            result, error = None, raised
        # The loop is gone when the app quit meanwhile: nobody waits for the answer.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, future, result, error)

    threading.Thread(target=call, name="off-thread call", daemon=True).start()
    return await future


def _settle(future: asyncio.Future[_T], result: _T | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


@dataclass
class LiveSources:
    settings: SourceSettings
    fleet: Fleet
    """Every Docker engine of the environment (one unless `docker_hosts` names several)."""
    health: HealthChecker
    scraper: ServiceScraper
    gauges: list[Gauge]
    prometheus: PrometheusSource | None = None
    followers: list[LogFollower] = field(default_factory=list)
    services: ServiceSource | None = None
    """The orchestrator's services (`orchestrator = "swarm"`); None for bare containers."""
    prober: Prober = field(default_factory=Prober)
    """One GET per URL per interval for every reader of the service (health, gauges, the
    serving strip)."""

    @classmethod
    def create(cls, runbook: Runbook, settings: SourceSettings) -> LiveSources:
        fleet = Fleet(
            [
                host_sources(
                    host,
                    timeout_s=settings.docker_timeout_s,
                    stats_interval_s=settings.stats_interval_s,
                    name_filter=settings.containers,
                )
                for host in settings.resolved_docker_hosts
            ]
        )
        prometheus = (
            PrometheusSource(
                settings.prometheus_url,
                timeout_s=settings.prometheus_timeout_s,
                retries=settings.prometheus_retries,
                settings=settings,
            )
            if settings.prometheus_url
            else None
        )
        services = None
        if settings.orchestrator == "swarm":
            from runbook.sources.docker.services import ServiceMonitor

            services = ServiceMonitor(
                fleet.primary.engine,
                node_engines=[sources.engine for sources in fleet.hosts],
                name_filter=settings.containers,
            )
        return cls(
            services=services,
            settings=settings,
            fleet=fleet,
            health=HealthChecker(
                runbook.endpoints, settings.base_url, deadline_s=settings.health_timeout_s
            ),
            scraper=ServiceScraper(
                settings.resolved_metrics_url,
                timeout_s=settings.health_timeout_s,
                probe_urls=probe_urls(runbook, settings.base_url),
            ),
            gauges=gauges_for(
                runbook, stale_after_s=settings.stale_after_s, hysteresis=settings.hysteresis
            ),
            prometheus=prometheus,
        )

    @property
    def engine(self) -> Engine:
        """The first engine configured (the only one, unless `docker_hosts` names several)."""
        return self.fleet.primary.engine

    @property
    def monitor(self) -> HostMonitor:
        return self.fleet.primary.monitor

    @property
    def stats(self) -> HostStats:
        return self.fleet.primary.stats

    @property
    def local_disk_path(self) -> str | None:
        """The host path for the disk fallback, only when the first engine is on this machine."""
        try:
            host = resolve_host(self.fleet.primary.host)
        except Exception:  # noqa: BLE001 - an unknown context is not local
            return None
        return self.settings.disk_path if host.startswith(("unix://", "/")) else None

    def start_problem(self) -> str | None:
        """A start-up problem of each engine (its host named when there are several)."""
        problems = []
        for sources in self.fleet.hosts:
            try:
                problem = preflight(resolve_host(sources.host))
            except Exception as error:  # noqa: BLE001 - an unknown context, named
                problem = str(error)
            if problem:
                several = len(self.fleet) > 1
                problems.append(f"{host_label(sources.host)}: {problem}" if several else problem)
        return "; ".join(problems) or None

    def follow(self, containers: list[str], tail: int = 200, host: str = "") -> LogFollower:
        """Follow these containers' logs on `host` (by default: the engine running the first)."""
        host = host or (self.fleet.host_of(containers[0]) if containers else "")
        follower = LogFollower(self.fleet.sources_for(host).engine, containers, tail=tail)
        self.followers.append(follower)
        return follower

    def follow_services(self, services: list[str], tail: int = 200) -> LogFollower:
        """Follow these services' logs (every task's) through the manager engine."""
        from runbook.sources.docker.service_logs import ServiceLogFollower

        known = self.services

        def task_name(task_id: str) -> str:
            for service in list(known.services.values()) if known else ():
                for task in service.tasks:
                    if task.id == task_id:
                        return task.name
            return task_id[:12]

        follower = ServiceLogFollower(self.engine, services, tail=tail, task_name=task_name)
        self.followers.append(follower)
        return follower

    def stop(self) -> None:
        """Close everything; returns at once."""
        for follower in self.followers:
            follower.stop()
        self.fleet.stop()
        self.prober.close()
        if self.prometheus is not None:
            self.prometheus.close()
