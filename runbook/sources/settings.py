"""The live panes' settings: the config's sources section joined with the environment's hosts.

The config file is read by runbook.config alone; this module picks one environment's
`[sources]`/`[environments.NAME.sources]`/`.queries` values and adds its `docker_host`
(or `docker_hosts`), `prometheus_url` and `base_url` (docs/config.md).
"""

from __future__ import annotations

import os
from dataclasses import replace

from runbook.config import (
    DEFAULT_BASE_URL,
    DEFAULT_DOCKER_HOST,
    DEFAULT_ENVIRONMENT,
    Config,
    SourceSettings,
    load_config,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_DOCKER_HOST",
    "SourceSettings",
    "load_source_settings",
    "source_settings",
]


def source_settings(config: Config, environment: str | None = None) -> SourceSettings:
    """One environment's sources tables joined with its hosts and URLs, from a loaded config.

    Raises:
        ConfigError: the environment's sources tables hold a bad value (one line).
    """
    name = environment or DEFAULT_ENVIRONMENT
    hosts = config.environment(name)
    return replace(
        config.sources.for_environment(name),
        docker_host=hosts.docker_host,
        docker_hosts=hosts.docker_hosts,
        orchestrator=hosts.orchestrator,
        prometheus_url=hosts.prometheus_url,
        base_url=hosts.base_url or DEFAULT_BASE_URL,
    )


def load_source_settings(
    environment: str | None = None, explicit: str | os.PathLike[str] | None = None
) -> SourceSettings:
    """Load the config file, then take one environment's sources settings (defaults when absent).

    For callers holding no `Config` yet, such as a one-shot CLI command.

    Raises:
        ConfigError: the file is unreadable or a value has the wrong type.
    """
    return source_settings(load_config(explicit), environment)
