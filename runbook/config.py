"""The operator's TOML config: environments, secret patterns, execution settings.

```toml
[environments.Production]
production = true            # operators type the name to confirm
env = { COMPOSE_PROJECT_NAME = "monkeytown" }
docker_host = "ssh://deploy@prod"
prometheus_url = "http://prom:9090"
base_url = "https://monkeytown.example"

[secrets]
patterns = ["ghp_[A-Za-z0-9]{36}"]   # regexes masked wherever they appear in output
names = ["DSN"]                      # extra name fragments marking env vars as secret

[execution]
default_timeout_s = 600
grace_s = 5
audit_file = "/var/log/runbook/execution/audit.jsonl"
state_dir = "~/.local/state/runbook-console"
lock_dir = "/run/lock/runbook-console"
verify_timeout_s = 60            # cap for an `rb-verify` command (never above the step's timeout)
keep_runs = 500                  # run directories kept whatever their age
keep_runs_days = 30              # and finished runs younger than this are kept too
```
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.storage import paths

DEFAULT_ENVIRONMENT = "Development"
"""Chosen when the operator names none; never production."""


class ConfigError(Exception):
    """The config file cannot be read or is malformed; the message is one line."""


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    production: bool | None = None
    """None means "decide from the name" (Production/prod are production)."""
    env: dict[str, str] = field(default_factory=dict)
    """Variables given to every command run against this environment."""
    docker_host: str | None = None
    prometheus_url: str | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class ExecutionConfig:
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
class Config:
    environments: dict[str, EnvironmentConfig] = field(default_factory=dict)
    secret_patterns: tuple[str, ...] = ()
    secret_names: tuple[str, ...] = ()
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
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
    def sessions_dir(self) -> Path:
        return self.state_dir / "sessions"


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file; a missing file (not named explicitly) gives the defaults.

    Raises:
        ConfigError: the file is unreadable, not TOML, or has wrongly typed values.
    """
    path = paths.config_file(explicit)
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist")
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config {path} is not valid TOML: {error}") from None
    try:
        return _from_dict(data, path)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"config {path}: {error}") from None


def _from_dict(data: dict[str, Any], source: Path) -> Config:
    environments: dict[str, EnvironmentConfig] = {}
    for name, table in _table(data, "environments").items():
        if not isinstance(table, dict):
            raise TypeError(f"[environments.{name}] must be a table")
        env = _table(table, "env", f"environments.{name}.env")
        production = table.get("production")
        if production is not None and not isinstance(production, bool):
            raise TypeError(f"environments.{name}.production must be true or false")
        environments[name] = EnvironmentConfig(
            name=name,
            production=production,
            env={str(k): str(v) for k, v in env.items()},
            docker_host=_opt_str(table, "docker_host", name),
            prometheus_url=_opt_str(table, "prometheus_url", name),
            base_url=_opt_str(table, "base_url", name),
        )
    secrets = _table(data, "secrets")
    patterns = _str_list(secrets, "patterns")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"secrets.patterns: bad regex {pattern!r}: {error}") from None
    execution = _table(data, "execution")
    return Config(
        environments=environments,
        secret_patterns=patterns,
        secret_names=_str_list(secrets, "names"),
        execution=ExecutionConfig(
            default_timeout_s=_number(execution, "default_timeout_s", 600.0),
            grace_s=_number(execution, "grace_s", 5.0),
            audit_file=_opt_str(execution, "audit_file", "execution"),
            state_dir=_opt_str(execution, "state_dir", "execution"),
            lock_dir=_opt_str(execution, "lock_dir", "execution"),
            verify_timeout_s=_number(execution, "verify_timeout_s", 60.0),
            keep_runs=_whole(execution, "keep_runs", 500),
            keep_runs_days=_non_negative(execution, "keep_runs_days", 30.0),
        ),
        source=source,
    )


def _table(data: dict[str, Any], key: str, label: str | None = None) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TypeError(f"[{label or key}] must be a table")
    return value


def _opt_str(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{where}.{key} must be a string")
    return value


def _str_list(table: dict[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"secrets.{key} must be a list of strings")
    return tuple(value)


def _whole(table: dict[str, Any], key: str, default: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"execution.{key} must be zero or a positive whole number")
    return value


def _non_negative(table: dict[str, Any], key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise TypeError(f"execution.{key} must be zero or a positive number")
    return float(value)


def _number(table: dict[str, Any], key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise TypeError(f"execution.{key} must be a positive number")
    return float(value)
