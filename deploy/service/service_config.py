"""Configuration of the reference web service: parse, validate, apply drill overrides.

Standard library only, so `deploy/update-config.sh` can validate a file on a box without
prometheus_client. Run as a script to validate: `python3 service_config.py FILE` prints one
line and exits 0 (valid) or 1 (refused).

The file is JSON (see deploy/config/*.json):

    {
      "environment": "prod",          # shown on / and in build info
      "message": "Welcome",           # shown on /; the visible setting for reload checks
      "warmup_seconds": 1.0,          # /ready answers 503 until this has passed
      "drain_seconds": 2.0,           # on SIGTERM, /ready answers 503 this long before exit
      "drills": {                     # all off unless enabled here or by environment
        "latency_ms": 0,              # DRILL_LATENCY_MS: added to every / request
        "error_ratio": 0.0,           # DRILL_ERROR_RATIO: share of / requests answered 500
        "crash_on_start": false,      # DRILL_CRASH_ON_START: exit 1 at start
        "crash_after_s": 0,           # DRILL_CRASH_AFTER_S: serve this long, then exit 1;
                                      #   every later start (same $TMPDIR) exits at once
        "memory_growth_mb_per_minute": 0,   # DRILL_MEMORY_GROWTH_MB_PER_MINUTE
        "fail_readiness": false       # DRILL_FAIL_READINESS: /ready always 503
      }
    }
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field, replace
from typing import Any


class ConfigError(ValueError):
    """The configuration file is missing, not JSON, or holds a bad value."""


@dataclass(frozen=True)
class Drills:
    """Failure switches for game days; every one is off by default."""

    latency_ms: int = 0
    error_ratio: float = 0.0
    crash_on_start: bool = False
    crash_after_s: float = 0.0
    memory_growth_mb_per_minute: float = 0.0
    fail_readiness: bool = False


@dataclass(frozen=True)
class ServiceConfig:
    """Settings the service reads at start and again on SIGHUP."""

    environment: str = "development"
    message: str = "Welcome to Monkeytown"
    warmup_seconds: float = 1.0
    drain_seconds: float = 2.0
    drills: Drills = field(default_factory=Drills)


DRILL_ENV_PREFIX = "DRILL_"
"""Environment variables DRILL_<NAME> override the matching drill switch."""

_TOP_LEVEL_KEYS = {"environment", "message", "warmup_seconds", "drain_seconds", "drills"}
_DRILL_KEYS = set(Drills.__dataclass_fields__)


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be a non-empty string, got {value!r}")
    return value


def parse_drills(raw: Any) -> Drills:
    """Validate the `drills` object."""
    if not isinstance(raw, dict):
        raise ConfigError("drills must be an object")
    unknown = sorted(set(raw) - _DRILL_KEYS)
    if unknown:
        raise ConfigError(f"unknown drill {unknown[0]!r}")
    defaults = Drills()
    return Drills(
        latency_ms=int(
            _number(raw.get("latency_ms", defaults.latency_ms), "drills.latency_ms", 0, 60_000)
        ),
        error_ratio=_number(
            raw.get("error_ratio", defaults.error_ratio), "drills.error_ratio", 0, 1
        ),
        crash_on_start=_flag(raw.get("crash_on_start", False), "drills.crash_on_start"),
        crash_after_s=_number(raw.get("crash_after_s", 0), "drills.crash_after_s", 0, 3600),
        memory_growth_mb_per_minute=_number(
            raw.get("memory_growth_mb_per_minute", 0), "drills.memory_growth_mb_per_minute", 0, 1024
        ),
        fail_readiness=_flag(raw.get("fail_readiness", False), "drills.fail_readiness"),
    )


def parse_config(text: str) -> ServiceConfig:
    """Parse and validate the JSON text of a config file.

    Args:
        text: the file's content.

    Returns:
        The validated configuration, before environment overrides.
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"not valid JSON: {error.msg} at line {error.lineno}") from None
    if not isinstance(raw, dict):
        raise ConfigError("top level must be a JSON object")
    unknown = sorted(set(raw) - _TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}")
    defaults = ServiceConfig()
    return ServiceConfig(
        environment=_text(raw.get("environment", defaults.environment), "environment"),
        message=_text(raw.get("message", defaults.message), "message"),
        warmup_seconds=_number(
            raw.get("warmup_seconds", defaults.warmup_seconds), "warmup_seconds", 0, 600
        ),
        drain_seconds=_number(
            raw.get("drain_seconds", defaults.drain_seconds), "drain_seconds", 0, 60
        ),
        drills=parse_drills(raw.get("drills", {})),
    )


def apply_drill_env(config: ServiceConfig, environ: dict[str, str]) -> ServiceConfig:
    """Override drill switches from DRILL_* environment variables that are set."""
    overrides: dict[str, Any] = {}
    for name in _DRILL_KEYS:
        value = environ.get(DRILL_ENV_PREFIX + name.upper())
        if value is None or value == "":
            continue
        if name in ("crash_on_start", "fail_readiness"):
            overrides[name] = value.strip().lower() in ("1", "true", "yes", "on")
        else:
            try:
                overrides[name] = float(value)
            except ValueError:
                raise ConfigError(f"{DRILL_ENV_PREFIX}{name.upper()} must be a number") from None
    if not overrides:
        return config
    merged = {**config.drills.__dict__, **overrides}
    return replace(config, drills=parse_drills(merged))


def load_config(path: str | None, environ: dict[str, str] | None = None) -> ServiceConfig:
    """Read the config file (defaults when path is None) and apply drill overrides."""
    config = ServiceConfig()
    if path:
        try:
            with open(path, encoding="utf-8") as config_file:
                config = parse_config(config_file.read())
        except OSError as error:
            raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    return apply_drill_env(config, dict(os.environ if environ is None else environ))


def main(argv: list[str]) -> int:
    """Validate one config file; print one line."""
    if len(argv) != 2:
        print("usage: service_config.py FILE", file=sys.stderr)
        return 2
    try:
        load_config(argv[1], environ={})
    except ConfigError as error:
        print(f"invalid config {argv[1]}: {error}", file=sys.stderr)
        return 1
    print(f"valid config {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
