"""Settings of the live sources, read from the same TOML file as runbook.config.

```toml
[sources]
health_interval_s = 5        # endpoint checks
health_timeout_s = 2         # per-check deadline
prometheus_interval_s = 5
prometheus_timeout_s = 2     # per-request timeout given to prometheus-api-client
prometheus_retries = 1       # prometheus-api-client retries 3 times with backoff by default
stale_after_s = 15           # a value older than this shows as stale
breach_for_s = 4             # a gauge shows a worse state once it held this long
clear_for_s = 15             # ... and a better one once it held this long,
clear_margin = 0.1           # below the bound by this share of it
stats_interval_s = 2         # one-shot docker stats reads of the rows on screen
docker_timeout_s = 3         # non-streaming Docker API calls
log_buffer_lines = 5000

[environments.Production.sources]
query_preset = "cadvisor"    # "node" (node-exporter, default) or "cadvisor"
metrics_url = "https://monkeytown.example/metrics"   # scraped when there is no Prometheus
disk_path = "/"              # host path for the disk fallback
containers = "monkeytown-"   # show only containers whose name contains this (default: all)

[environments.Production.queries]  # PromQL per threshold metric (the runbook's wording)
"CPU Usage" = '100 * max(rate(container_cpu_usage_seconds_total{name=~"monkeytown-.*"}[1m]))'
```
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.config import DEFAULT_ENVIRONMENT, ConfigError, load_config
from runbook.sources.gauges import Hysteresis
from runbook.storage import paths

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
DEFAULT_BASE_URL = "http://localhost:3000"
"""Development defaults: the local socket and the service on port 3000, no Prometheus."""


@dataclass(frozen=True)
class SourceSettings:
    """Everything the live panes need to know about one environment."""

    environment: str = DEFAULT_ENVIRONMENT
    docker_host: str | None = None
    """None means DOCKER_HOST, else the local socket."""
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
    breach_for_s: float = Hysteresis.breach_for_s
    """A gauge shows a worse state once the readings held it this long (0: at once)."""
    clear_for_s: float = Hysteresis.clear_for_s
    """A gauge shows a better state once the readings held it this long."""
    clear_margin: float = Hysteresis.clear_margin
    """Readings count towards clearing only below the bound by this share of it."""
    stats_interval_s: float = 2.0
    docker_timeout_s: float = 3.0
    log_buffer_lines: int = 5000

    @property
    def hysteresis(self) -> Hysteresis:
        return Hysteresis(self.breach_for_s, self.clear_for_s, self.clear_margin)

    @property
    def resolved_docker_host(self) -> str:
        return self.docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST

    @property
    def resolved_metrics_url(self) -> str:
        return self.metrics_url or self.base_url.rstrip("/") + "/metrics"

    def query_for(self, metric: str) -> str | None:
        """The configured PromQL for a threshold metric, if any."""
        for key, value in self.queries.items():
            if key.casefold() == metric.casefold():
                return value
        return None


_NUMBERS = (
    "health_interval_s health_timeout_s prometheus_interval_s prometheus_timeout_s "
    "stale_after_s stats_interval_s docker_timeout_s".split()
)


def load_source_settings(
    environment: str | None = None, explicit: str | os.PathLike[str] | None = None
) -> SourceSettings:
    """Read the sources settings for one environment (defaults when the file is absent).

    Raises:
        ConfigError: the file is unreadable or a value has the wrong type.
    """
    environment = environment or DEFAULT_ENVIRONMENT
    config = load_config(explicit)
    env = config.environment(environment)
    data: dict[str, Any] = {}
    path = paths.config_file(explicit)
    if path.exists():
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    try:
        return _settings(data, environment, env.docker_host, env.prometheus_url, env.base_url)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"config {path}: {error}") from None


def _settings(
    data: dict[str, Any],
    environment: str,
    docker_host: str | None,
    prometheus_url: str | None,
    base_url: str | None,
) -> SourceSettings:
    common = _table(data.get("sources", {}), "sources")
    env_table: dict[str, Any] = {}
    for key, value in _table(data.get("environments", {}), "environments").items():
        if key.casefold() == environment.casefold():
            env_table = _table(value, f"environments.{key}")
    own = _table(env_table.get("sources", {}), f"environments.{environment}.sources")
    queries = _table(env_table.get("queries", {}), f"environments.{environment}.queries")
    merged = {**common, **own}
    values: dict[str, Any] = {}
    for key in _NUMBERS:
        if key in merged:
            values[key] = _positive(merged[key], key)
    for key in ("breach_for_s", "clear_for_s", "clear_margin"):
        if key in merged:
            number = merged[key]
            if isinstance(number, bool) or not isinstance(number, int | float) or number < 0:
                raise TypeError(f"sources.{key} must be a number >= 0")
            values[key] = float(number)
    if values.get("clear_margin", 0.0) >= 1:
        raise ValueError("sources.clear_margin must be below 1 (a share of the bound)")
    for key in ("prometheus_retries", "log_buffer_lines"):
        if key in merged:
            number = merged[key]
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise TypeError(f"sources.{key} must be a whole number >= 0")
            values[key] = number
    for key in ("metrics_url", "query_preset", "disk_path", "containers"):
        if key in merged:
            if not isinstance(merged[key], str):
                raise TypeError(f"sources.{key} must be a string")
            values[key] = merged[key]
    if values.get("query_preset", "node") not in ("node", "cadvisor"):
        raise ValueError('sources.query_preset must be "node" or "cadvisor"')
    if not all(isinstance(v, str) for v in queries.values()):
        raise TypeError(f"environments.{environment}.queries values must be PromQL strings")
    return SourceSettings(
        environment=environment,
        docker_host=docker_host,
        prometheus_url=prometheus_url,
        base_url=base_url or DEFAULT_BASE_URL,
        queries={str(k): str(v) for k, v in queries.items()},
        **values,
    )


def _table(value: object, label: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"[{label}] must be a table")
    return value


def _positive(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise TypeError(f"sources.{key} must be a positive number")
    return float(value)
