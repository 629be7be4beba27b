"""The config's sections as frozen dataclasses, one per TOML table; `Config` holds them all."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from runbook.storage import paths

DEFAULT_ENVIRONMENT = "Development"
"""Chosen when the operator names none; never production."""
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
DEFAULT_BASE_URL = "http://localhost:3000"
ORCHESTRATORS = ("docker", "swarm")
"""What runs an environment's service: bare containers on its engines, or Docker Swarm."""
"""Development defaults: the local socket and the service on port 3000, no Prometheus."""


def host_label(host: str) -> str:
    """A short name for an engine (a host column, a roll's host): its address without the
    scheme; a Docker context name as it is."""
    for scheme in ("unix://", "tcp://", "ssh://", "http://", "https://"):
        if host.startswith(scheme):
            return host.removeprefix(scheme)
    return host


class ConfigError(Exception):
    """The config file cannot be read or is malformed; the message is one line."""


if TYPE_CHECKING:
    from runbook.sources.gauges import Hysteresis


@dataclass(frozen=True)
class EnvironmentConfig:
    """One `[environments.NAME]` table."""

    name: str
    production: bool | None = None
    """None means "decide from the name" (Production/prod are production)."""
    env: dict[str, str] = field(default_factory=dict)
    """Variables given to every command run against this environment."""
    docker_host: str | None = None
    docker_hosts: tuple[str, ...] = ()
    """Several engines (URLs or Docker context names); exclusive with `docker_host`."""
    prometheus_url: str | None = None
    base_url: str | None = None
    orchestrator: str = "docker"
    """One of ORCHESTRATORS: "swarm" shows the services of the engine, a swarm manager."""

    @property
    def engines(self) -> tuple[str, ...]:
        """The engines named for this environment, in the config's order (none: the default)."""
        if self.docker_hosts:
            return self.docker_hosts
        return (self.docker_host,) if self.docker_host else ()


@dataclass(frozen=True)
class SecretsConfig:
    """The `[secrets]` table."""

    patterns: tuple[str, ...] = ()
    """Regexes masked wherever they appear in output (each one compiles)."""
    names: tuple[str, ...] = ()
    """Extra name fragments marking environment variables as secret."""


@dataclass(frozen=True)
class ExecutionConfig:
    """The `[execution]` table."""

    default_timeout_s: float = 600.0
    grace_s: float = 5.0
    """Seconds between SIGTERM and SIGKILL on cancel or timeout."""
    audit_file: str | None = None
    state_dir: str | None = None
    lock_dir: str | None = None
    verify_timeout_s: float = 60.0
    """Longest an `rb-verify` command may run; the step's own timeout caps it further."""
    keep_runs: int = 500
    """The newest runs kept however old; older finished runs are pruned after `keep_runs_days`."""
    keep_runs_days: float = 30.0
    """Finished runs younger than this are kept, however many there are."""


@dataclass(frozen=True)
class SourceSettings:
    """Everything the live panes need to know about one environment."""

    environment: str = DEFAULT_ENVIRONMENT
    docker_host: str | None = None
    """None means DOCKER_HOST, else the local socket."""
    docker_hosts: tuple[str, ...] = ()
    """Several engines shown side by side; when set, `docker_host` is not used."""
    orchestrator: str = "docker"
    """"swarm": the live panes show the services of the first engine (a swarm manager)."""
    prometheus_url: str | None = None
    base_url: str = DEFAULT_BASE_URL
    metrics_url: str | None = None
    """The service's /metrics for the fallback; defaults to base_url + /metrics."""
    query_preset: str = "node"
    queries: dict[str, str] = field(default_factory=dict)
    """PromQL overrides keyed by the threshold's metric text (case-insensitive)."""
    disk_path: str = "/"
    containers: str = ""
    """Only containers whose name contains this are listed (empty: all of the engine's)."""
    health_interval_s: float = 5.0
    health_timeout_s: float = 2.0
    prometheus_interval_s: float = 5.0
    prometheus_timeout_s: float = 2.0
    prometheus_retries: int = 1
    stale_after_s: float = 15.0
    breach_for_s: float = 4.0
    """A gauge shows a worse state once the readings held it this long (0: at once)."""
    clear_for_s: float = 15.0
    """A gauge shows a better state once the readings held it this long."""
    clear_margin: float = 0.1
    """Readings count towards clearing only below the bound by this share of it."""
    stats_interval_s: float = 2.0
    docker_timeout_s: float = 3.0
    log_buffer_lines: int = 5000

    @property
    def hysteresis(self) -> Hysteresis:
        from runbook.sources.gauges import Hysteresis  # the gauges' type; config stays a leaf

        return Hysteresis(self.breach_for_s, self.clear_for_s, self.clear_margin)

    @property
    def resolved_docker_host(self) -> str:
        return self.docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST

    @property
    def resolved_docker_hosts(self) -> tuple[str, ...]:
        """Every engine of the environment, in order; one (the default) when none is named."""
        return self.docker_hosts or (self.resolved_docker_host,)

    @property
    def explicit_hosts(self) -> bool:
        """Whether the config names the engines (commands then name them too)."""
        return bool(self.docker_hosts or self.docker_host)

    @property
    def resolved_metrics_url(self) -> str:
        return self.metrics_url or self.base_url.rstrip("/") + "/metrics"

    def query_for(self, metric: str) -> str | None:
        """The configured PromQL for a threshold metric, if any."""
        for key, value in self.queries.items():
            if key.casefold() == metric.casefold():
                return value
        return None


@dataclass(frozen=True)
class SourcesConfig:
    """`[sources]` merged with each `[environments.NAME.sources]` and `.queries`.

    Only the keys of those tables: the environment's hosts and URLs come from its
    `[environments.NAME]` table, joined by `runbook.sources.settings.source_settings`.
    A broken table does not break the whole file: its problem is kept here and raised
    only when that environment's settings are asked for, so the live panes can fall
    back to defaults and say why.
    """

    environments: Mapping[str, SourceSettings | ConfigError] = field(default_factory=dict)
    """Keyed by the environment's name as written in the file."""
    other: SourceSettings | ConfigError = field(default_factory=SourceSettings)
    """For an environment without a table of its own: `[sources]` alone."""

    def for_environment(self, name: str) -> SourceSettings:
        """The source-table settings of one environment (case-insensitive), named as asked.

        Raises:
            ConfigError: that environment's tables (or `[sources]`) hold a bad value.
        """
        found = self.other
        for key, settings in self.environments.items():
            if key.casefold() == name.casefold():
                found = settings
                break
        if isinstance(found, ConfigError):
            raise ConfigError(str(found))
        return replace(found, environment=name)


@dataclass(frozen=True)
class KeymapConfig:
    """The `[keymap]` table: binding id → keys, as written (the console checks the ids)."""

    bindings: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None
    """Why the table was ignored (one line), if it was."""


@dataclass(frozen=True)
class Config:
    """The whole config file, one section per table; every section defaults when absent."""

    environments: dict[str, EnvironmentConfig] = field(default_factory=dict)
    secrets: SecretsConfig = field(default_factory=SecretsConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    keymap: KeymapConfig = field(default_factory=KeymapConfig)
    source: Path | None = None
    """The file this was read from, if any."""

    def environment(self, name: str) -> EnvironmentConfig:
        """The settings for an environment (case-insensitive); empty settings if unknown."""
        for key, value in self.environments.items():
            if key.casefold() == name.casefold():
                return value
        return EnvironmentConfig(name=name)

    def is_production(self, name: str) -> bool:
        """Config decides; otherwise an environment called Production (or prod) is production."""
        configured = self.environment(name).production
        if configured is not None:
            return configured
        return name.strip().casefold() in ("production", "prod")

    @property
    def state_dir(self) -> Path:
        return paths.state_dir(self.execution.state_dir)

    @property
    def audit_file(self) -> Path:
        return paths.audit_file(self.execution.audit_file, self.state_dir)

    @property
    def lock_dir(self) -> Path:
        return paths.lock_dir(self.execution.lock_dir, self.state_dir)

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / "runs"

    @property
    def rolls_dir(self) -> Path:
        """Rolls in progress (runbook.execution.rolls): found again if their console dies."""
        return self.state_dir / "rolls"

    @property
    def sessions_dir(self) -> Path:
        return self.state_dir / "sessions"
