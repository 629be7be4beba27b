"""The TOML config: environments, secrets, execution; broken files give one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runbook.config import ConfigError, load_config


def write_config(text: str) -> Path:
    path = Path(os.environ["RUNBOOK_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_missing_file_gives_defaults() -> None:
    config = load_config()
    assert config.environments == {}
    assert config.execution.grace_s == 5.0
    assert config.state_dir == Path(os.environ["RUNBOOK_STATE_DIR"])
    assert config.audit_file == config.state_dir / "audit.jsonl"


def test_full_config(tmp_path: Path) -> None:
    write_config(
        """
        [environments.Production]
        production = true
        env = { COMPOSE_PROJECT_NAME = "monkeytown", REPLICAS = 3 }
        docker_host = "ssh://deploy@prod"
        prometheus_url = "http://prom:9090"
        base_url = "https://monkeytown.example"

        [environments.Staging]

        [secrets]
        patterns = ["ghp_[A-Za-z0-9]{36}"]

        [execution]
        default_timeout_s = 120
        grace_s = 2.5
        audit_file = "/var/log/runbook/execution/audit.jsonl"
        lock_dir = "/tmp/locks"
        """
    )
    config = load_config()
    production = config.environment("production")
    assert production.production is True
    assert production.env == {"COMPOSE_PROJECT_NAME": "monkeytown", "REPLICAS": "3"}
    assert production.docker_host == "ssh://deploy@prod"
    assert production.prometheus_url == "http://prom:9090"
    assert production.base_url == "https://monkeytown.example"
    assert config.is_production("Production") and not config.is_production("Staging")
    assert config.secret_patterns == ("ghp_[A-Za-z0-9]{36}",)
    assert config.execution.default_timeout_s == 120.0
    assert config.execution.grace_s == 2.5
    assert config.audit_file == Path("/var/log/runbook/execution/audit.jsonl")


def test_env_overrides_config_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_config('[execution]\naudit_file = "/nowhere/audit.jsonl"\nlock_dir = "/nowhere"\n')
    monkeypatch.setenv("RUNBOOK_AUDIT_FILE", str(tmp_path / "a.jsonl"))
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    config = load_config()
    assert config.audit_file == tmp_path / "a.jsonl"
    assert config.lock_dir == tmp_path / "locks"


@pytest.mark.parametrize(
    "text",
    [
        "[environments.Production\n",
        "environments = 3\n",
        "[environments.Production]\nproduction = 'yes'\n",
        "[secrets]\npatterns = ['(unclosed']\n",
        "[execution]\ngrace_s = -1\n",
        "[execution]\ndefault_timeout_s = 'soon'\n",
    ],
)
def test_broken_config_is_one_line_error(text: str) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as error:
        load_config()
    assert "\n" not in str(error.value).strip()
    assert str(path) in str(error.value)


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
