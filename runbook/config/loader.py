"""The one reader of the config file: TOML in, a frozen `Config` out, each table checked once."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from runbook.config.sections import (
    ORCHESTRATORS,
    Config,
    ConfigError,
    EnvironmentConfig,
    ExecutionConfig,
    KeymapConfig,
    SecretsConfig,
    SourcesConfig,
    SourceSettings,
)
from runbook.storage import paths


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file; a missing file (not named explicitly) gives the defaults.

    Environments, secrets and execution must be right or nothing loads. A bad
    `[sources]` or `[keymap]` table is kept as a problem in its section instead, so
    the console still starts and says what it ignored.

    Raises:
        ConfigError: the file is unreadable, not TOML, or has wrongly typed values.
    """
    path = paths.config_file(explicit)
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist")
        return Config()
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config {path} is not valid TOML: {error}") from None
    try:
        environments = _environments(data)
        secrets = _secrets(_table(data, "secrets"))
        execution = _execution(_table(data, "execution"))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"config {path}: {error}") from None
    return Config(
        environments=environments,
        secrets=secrets,
        execution=execution,
        sources=_sources(data, path),
        keymap=_keymap(data, path),
        source=path,
    )


def _environments(data: dict[str, Any]) -> dict[str, EnvironmentConfig]:
    environments: dict[str, EnvironmentConfig] = {}
    for name, table in _table(data, "environments").items():
        if not isinstance(table, dict):
            raise TypeError(f"[environments.{name}] must be a table")
        env = _table(table, "env", f"environments.{name}.env")
        production = table.get("production")
        if production is not None and not isinstance(production, bool):
            raise TypeError(f"environments.{name}.production must be true or false")
        docker_host = _opt_str(table, "docker_host", name)
        docker_hosts = _docker_hosts(table, name)
        if docker_host is not None and docker_hosts:
            raise ValueError(f"environments.{name}: set docker_host or docker_hosts, not both")
        environments[name] = EnvironmentConfig(
            name=name,
            production=production,
            env={str(k): str(v) for k, v in env.items()},
            docker_host=docker_host,
            docker_hosts=docker_hosts,
            prometheus_url=_opt_str(table, "prometheus_url", name),
            base_url=_opt_str(table, "base_url", name),
            orchestrator=_orchestrator(table, name),
        )
    return environments


def _orchestrator(table: dict[str, Any], name: str) -> str:
    value = table.get("orchestrator", "docker")
    if value not in ORCHESTRATORS:
        choices = " or ".join(f'"{choice}"' for choice in ORCHESTRATORS)
        raise ValueError(f"environments.{name}.orchestrator must be {choices}, not {value!r}")
    return str(value)


def _docker_hosts(table: dict[str, Any], name: str) -> tuple[str, ...]:
    """`docker_hosts`: a list of distinct, non-empty engine URLs or context names."""
    value = table.get("docker_hosts", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TypeError(f"environments.{name}.docker_hosts must be a list of non-empty strings")
    hosts = tuple(v.strip() for v in value)
    repeated = sorted({host for host in hosts if hosts.count(host) > 1})
    if repeated:
        raise ValueError(f"environments.{name}.docker_hosts names {repeated[0]!r} twice")
    return hosts


def _secrets(table: dict[str, Any]) -> SecretsConfig:
    patterns = _str_list(table, "patterns")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"secrets.patterns: bad regex {pattern!r}: {error}") from None
    return SecretsConfig(patterns=patterns, names=_str_list(table, "names"))


def _execution(table: dict[str, Any]) -> ExecutionConfig:
    return ExecutionConfig(
        default_timeout_s=_number(table, "default_timeout_s", 600.0),
        grace_s=_number(table, "grace_s", 5.0),
        audit_file=_opt_str(table, "audit_file", "execution"),
        state_dir=_opt_str(table, "state_dir", "execution"),
        lock_dir=_opt_str(table, "lock_dir", "execution"),
        verify_timeout_s=_number(table, "verify_timeout_s", 60.0),
        keep_runs=_whole(table, "keep_runs", 500),
        keep_runs_days=_non_negative(table, "keep_runs_days", 30.0),
    )


_SOURCE_NUMBERS = (
    "health_interval_s health_timeout_s prometheus_interval_s prometheus_timeout_s "
    "stale_after_s stats_interval_s docker_timeout_s".split()
)


def _sources(data: dict[str, Any], path: Path) -> SourcesConfig:
    """Each environment's source tables; a bad table becomes that lookup's error."""

    def settled(name: str, table: dict[str, Any]) -> SourceSettings | ConfigError:
        try:
            return _source_settings(data.get("sources", {}), name, table)
        except (TypeError, ValueError) as error:
            return ConfigError(f"config {path}: {error}")

    tables: dict[str, Any] = data.get("environments", {})
    return SourcesConfig(
        environments={name: settled(name, table) for name, table in tables.items()},
        other=settled("", {}),
    )


def _source_settings(common_value: object, name: str, env_table: dict[str, Any]) -> SourceSettings:
    common = _checked_table(common_value, "sources")
    own = _checked_table(env_table.get("sources", {}), f"environments.{name}.sources")
    queries = _checked_table(env_table.get("queries", {}), f"environments.{name}.queries")
    merged = {**common, **own}
    values: dict[str, Any] = {}
    for key in _SOURCE_NUMBERS:
        if key in merged:
            values[key] = _positive_source(merged[key], key)
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
        raise TypeError(f"environments.{name}.queries values must be PromQL strings")
    return SourceSettings(
        environment=name,
        queries={str(k): str(v) for k, v in queries.items()},
        **values,
    )


def _keymap(data: dict[str, Any], path: Path) -> KeymapConfig:
    table = data.get("keymap", {})
    if not isinstance(table, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in table.items()
    ):
        return KeymapConfig(problem=f"[keymap] in {path} must map binding ids to key strings")
    return KeymapConfig(bindings=dict(table))


def _table(data: dict[str, Any], key: str, label: str | None = None) -> dict[str, Any]:
    return _checked_table(data.get(key, {}), label or key)


def _checked_table(value: object, label: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"[{label}] must be a table")
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


def _positive_source(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise TypeError(f"sources.{key} must be a positive number")
    return float(value)
