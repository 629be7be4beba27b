"""The live panes' settings: the config's sources section, for one environment.

The config file is read by runbook.config alone; this module only picks the section
(`[sources]` merged with `[environments.NAME.sources]` and `.queries`, docs/config.md).
"""

from __future__ import annotations

import os

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
    """The sources settings of one environment from a loaded config.

    Raises:
        ConfigError: the environment's sources tables hold a bad value (one line).
    """
    return config.sources.for_environment(environment or DEFAULT_ENVIRONMENT)


def load_source_settings(
    environment: str | None = None, explicit: str | os.PathLike[str] | None = None
) -> SourceSettings:
    """Load the config file, then take one environment's sources settings (defaults when absent).

    For callers holding no `Config` yet, such as a one-shot CLI command.

    Raises:
        ConfigError: the file is unreadable or a value has the wrong type.
    """
    return source_settings(load_config(explicit), environment)
