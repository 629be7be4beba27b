"""Sources settings: the config's sources section, per environment."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from runbook.config import ConfigError, EnvironmentConfig, load_config
from runbook.sources.gauges import Hysteresis
from runbook.sources.settings import DEFAULT_BASE_URL, load_source_settings, source_settings


def write_config(text: str) -> None:
    path = Path(os.environ["RUNBOOK_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    settings = load_source_settings()
    assert settings.environment == "Development"
    assert settings.base_url == DEFAULT_BASE_URL and settings.prometheus_url is None
    assert settings.resolved_docker_host == "unix:///var/run/docker.sock"
    assert settings.resolved_metrics_url == "http://localhost:3000/metrics"


def test_environment_sources_and_queries() -> None:
    write_config(
        """
        [sources]
        health_interval_s = 3
        prometheus_retries = 0

        [environments.Production]
        docker_host = "tcp://127.0.0.1:2375"
        prometheus_url = "http://127.0.0.1:9090"
        base_url = "http://127.0.0.1:3001"

        [environments.Production.sources]
        query_preset = "cadvisor"
        health_interval_s = 1.5

        [environments.Production.queries]
        "CPU Usage" = "my_cpu_query"
        """
    )
    config = load_config()
    settings = source_settings(config, "production")
    assert settings.docker_host == "tcp://127.0.0.1:2375"
    assert settings.prometheus_url == "http://127.0.0.1:9090"
    assert settings.health_interval_s == 1.5 and settings.prometheus_retries == 0
    assert settings.query_preset == "cadvisor"
    assert settings.query_for("cpu usage") == "my_cpu_query"
    assert source_settings(config, "Staging").health_interval_s == 3
    assert load_source_settings("production") == settings


def test_bad_values_are_one_line_errors() -> None:
    write_config("[sources]\nhealth_interval_s = -1\n")
    with pytest.raises(ConfigError, match="health_interval_s"):
        load_source_settings()
    write_config('[environments.Dev.sources]\nquery_preset = "datadog"\n')
    with pytest.raises(ConfigError, match="query_preset"):
        load_source_settings("Dev")


def test_sources_import_without_the_tui_or_pandas() -> None:
    import json
    import subprocess
    import sys

    names = "docker logs health prometheus fallback gauges settings live rawstream".split()
    program = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module('runbook.sources.' + name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert not loaded & {"textual", "rich", "console", "pandas", "numpy"}


def test_hosts_come_from_the_config_s_environments_even_when_added_later() -> None:
    write_config("[environments.Drill.sources]\nhealth_interval_s = 0.5\n")
    loaded = load_config()
    # A drill adds its sandbox environment to a loaded config (runbook.drills.runner).
    sandbox = EnvironmentConfig("Drill", base_url="http://127.0.0.1:4100")
    config = replace(loaded, environments={**loaded.environments, "Drill": sandbox})
    settings = source_settings(config, "drill")
    assert settings.base_url == "http://127.0.0.1:4100" and settings.health_interval_s == 0.5
    assert source_settings(loaded, "drill").base_url == DEFAULT_BASE_URL


def test_gauge_hysteresis_is_configurable() -> None:
    assert load_source_settings().hysteresis == Hysteresis()
    write_config("[sources]\nbreach_for_s = 0\nclear_for_s = 30\nclear_margin = 0.2\n")
    assert load_source_settings().hysteresis == Hysteresis(0.0, 30.0, 0.2)
    write_config("[sources]\nclear_margin = 1.5\n")
    with pytest.raises(ConfigError, match="clear_margin"):
        load_source_settings()
    write_config('[sources]\nbreach_for_s = "soon"\n')
    with pytest.raises(ConfigError, match="breach_for_s"):
        load_source_settings()
