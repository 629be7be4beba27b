"""The reference web service's config (deploy/service/service_config.py): the shipped files,
defaults, one-line refusals and the drill environment. The running service is tested in
tests/integration/test_service.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICE_DIR = REPO / "deploy" / "service"
sys.path.insert(0, str(SERVICE_DIR))

from service_config import (  # noqa: E402
    ConfigError,
    ServiceConfig,
    apply_drill_env,
    load_config,
    parse_config,
)

# --- config parsing -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_shipped_configs_are_valid_with_every_drill_off(name: str) -> None:
    config = load_config(str(REPO / "deploy" / "config" / f"{name}.json"), environ={})
    assert config.environment == name
    assert config.drills == ServiceConfig().drills


def test_defaults_when_keys_are_missing() -> None:
    assert parse_config("{}") == ServiceConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"message": "x"', "not valid JSON"),
        ("[]", "top level must be a JSON object"),
        ('{"colour": "blue"}', "unknown setting 'colour'"),
        ('{"message": ""}', "message must be a non-empty string"),
        ('{"warmup_seconds": "1"}', "warmup_seconds must be a number"),
        ('{"drain_seconds": 999}', "drain_seconds must be between 0 and 60"),
        ('{"drills": {"error_ratio": 1.5}}', "drills.error_ratio must be between 0 and 1"),
        ('{"drills": {"crash_on_start": 1}}', "drills.crash_on_start must be true or false"),
        ('{"drills": {"explode": true}}', "unknown drill 'explode'"),
        ('{"drills": []}', "drills must be an object"),
    ],
)
def test_broken_config_is_refused_with_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(text)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_drill_environment_overrides_the_file() -> None:
    config = apply_drill_env(
        parse_config('{"environment": "test"}'),
        {"DRILL_LATENCY_MS": "250", "DRILL_FAIL_READINESS": "true", "DRILL_ERROR_RATIO": ""},
    )
    assert config.drills.latency_ms == 250
    assert config.drills.fail_readiness is True
    assert config.drills.error_ratio == 0.0


def test_bad_drill_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="DRILL_ERROR_RATIO must be a number"):
        apply_drill_env(ServiceConfig(), {"DRILL_ERROR_RATIO": "lots"})


def test_validator_script_prints_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"drills": {"error_ratio": 7}}')
    result = subprocess.run(
        [sys.executable, str(SERVICE_DIR / "service_config.py"), str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "drills.error_ratio must be between 0 and 1" in result.stderr
