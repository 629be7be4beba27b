"""The TOML config: one loader, one parse, a section per table; one-line errors."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from runbook.config import Config, ConfigError, KeymapConfig, SecretsConfig, load_config
from runbook.sources.settings import source_settings

REPO = Path(__file__).resolve().parents[2]


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
    assert config.secrets.patterns == ("ghp_[A-Za-z0-9]{36}",)
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
    ("text", "says"),
    [
        ("[environments.Production\n", "is not valid TOML"),
        ("environments = 3\n", "[environments] must be a table"),
        ("[environments.Production]\nproduction = 'yes'\n", "production must be true or false"),
        ("[environments.Production]\nenv = 3\n", "[environments.Production.env] must be"),
        ("[environments.Staging]\nbase_url = 3000\n", "Staging.base_url must be a string"),
        ("[secrets]\npatterns = ['(unclosed']\n", "secrets.patterns: bad regex"),
        ("[secrets]\nnames = 'DSN'\n", "secrets.names must be a list of strings"),
        ("secrets = []\n", "[secrets] must be a table"),
        ("[execution]\ngrace_s = -1\n", "execution.grace_s must be a positive number"),
        ("[execution]\ndefault_timeout_s = 'soon'\n", "execution.default_timeout_s must be"),
        ("[execution]\nlock_dir = 1\n", "execution.lock_dir must be a string"),
        (
            "[environments.Prod]\norchestrator = 'kubernetes'\n",
            'environments.Prod.orchestrator must be "docker" or "swarm", not \'kubernetes\'',
        ),
    ],
)
def test_broken_config_is_one_line_error(text: str, says: str) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as error:
        load_config()
    assert "\n" not in str(error.value).strip()
    assert str(path) in str(error.value)
    assert says in str(error.value)


def test_unreadable_bytes_are_one_line_error() -> None:
    path = Path(os.environ["RUNBOOK_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"[keymap]\nstep-tick = '\xff'\n")
    with pytest.raises(ConfigError, match="cannot read config") as error:
        load_config()
    assert "\n" not in str(error.value).strip()


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


EVERY_SECTION = """
[environments.Production]
production = true
env = { COMPOSE_PROJECT_NAME = "monkeytown" }
base_url = "https://monkeytown.example"
prometheus_url = "http://prom:9090"

[environments.Production.sources]
query_preset = "cadvisor"

[environments.Production.queries]
"CPU Usage" = "my_cpu_query"

[environments.Staging]
docker_host = "tcp://staging:2375"

[secrets]
patterns = ["ghp_[A-Za-z0-9]{36}"]
names = ["DSN"]

[execution]
grace_s = 2
keep_runs = 20

[sources]
health_interval_s = 3

[keymap]
step-tick = "t"
step-run = "ctrl+r,f9"
"""


def test_every_section_from_one_read_of_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(EVERY_SECTION)
    parses: list[object] = []
    real_load = tomllib.load

    def counting_load(file: BinaryIO) -> dict[str, Any]:
        parses.append(file)
        return real_load(file)

    monkeypatch.setattr(tomllib, "load", counting_load)
    config = load_config()

    assert config.source == path
    assert config.is_production("Production") and not config.is_production("Staging")
    assert config.environment("staging").docker_host == "tcp://staging:2375"
    assert config.secrets == SecretsConfig(patterns=("ghp_[A-Za-z0-9]{36}",), names=("DSN",))
    assert (config.execution.grace_s, config.execution.keep_runs) == (2.0, 20)
    production = source_settings(config, "production")
    assert production.environment == "production"
    assert production.base_url == "https://monkeytown.example"
    assert production.prometheus_url == "http://prom:9090"
    assert production.query_preset == "cadvisor" and production.health_interval_s == 3
    assert production.query_for("cpu usage") == "my_cpu_query"
    staging = source_settings(config, "Staging")
    assert staging.docker_host == "tcp://staging:2375" and staging.query_preset == "node"
    assert source_settings(config).health_interval_s == 3  # Development: [sources] alone
    assert config.keymap == KeymapConfig(bindings={"step-tick": "t", "step-run": "ctrl+r,f9"})
    assert len(parses) == 1


def test_a_broken_sources_table_fails_only_its_lookup() -> None:
    path = write_config(
        """
        [environments.Production]
        base_url = "https://monkeytown.example"
        [environments.Production.sources]
        health_interval_s = 0
        [environments.Staging.queries]
        "CPU Usage" = 3
        [sources]
        stale_after_s = 30
        """
    )
    config = load_config()
    for environment, says in (
        ("Production", "sources.health_interval_s must be a positive number"),
        ("staging", "environments.Staging.queries values must be PromQL strings"),
    ):
        with pytest.raises(ConfigError) as error:
            source_settings(config, environment)
        assert str(error.value) == f"config {path}: {says}"
    assert source_settings(config, "Development").stale_after_s == 30
    # The rest of the file is still in force.
    assert config.environment("Production").base_url == "https://monkeytown.example"


def test_a_broken_common_sources_table_fails_every_lookup() -> None:
    path = write_config('sources = "fast"\n[environments.Production]\nproduction = true\n')
    config = load_config()
    for environment in ("Production", "Development"):
        with pytest.raises(ConfigError, match=r"\[sources\] must be a table") as error:
            source_settings(config, environment)
        assert str(path) in str(error.value)
    assert config.is_production("Production")


@pytest.mark.parametrize("table", ['keymap = ["t"]\n', "[keymap]\nstep-tick = 3\n"])
def test_a_broken_keymap_is_a_problem_not_an_error(table: str) -> None:
    path = write_config(table + "[execution]\ngrace_s = 2\n")
    config = load_config()
    assert config.execution.grace_s == 2.0
    assert config.keymap.bindings == {}
    assert config.keymap.problem == f"[keymap] in {path} must map binding ids to key strings"


def test_defaults_have_every_section() -> None:
    config = Config()
    assert config.secrets == SecretsConfig()
    assert config.keymap == KeymapConfig(bindings={}, problem=None)
    assert source_settings(config, "Staging").environment == "Staging"


def test_tomllib_is_used_by_the_loader_alone() -> None:
    importers = sorted(
        str(path.relative_to(REPO))
        for package in ("runbook", "console")
        for path in (REPO / package).rglob("*.py")
        if "tomllib" in path.read_text(encoding="utf-8")
    )
    assert importers == ["runbook/config/loader.py"]


def test_orchestrator_reaches_the_source_settings() -> None:
    write_config(
        '[environments.Production]\norchestrator = "swarm"\n'
        'docker_host = "tcp://127.0.0.1:2377"\n[environments.Staging]\n'
    )
    config = load_config()
    swarm = source_settings(config, "production")
    assert (swarm.orchestrator, swarm.docker_host) == ("swarm", "tcp://127.0.0.1:2377")
    assert source_settings(config, "Staging").orchestrator == "docker"
    assert source_settings(config, "Unknown").orchestrator == "docker"
