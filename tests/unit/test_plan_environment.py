"""What a step acts on: the deploy environment it is told, and the inherited settings it reads.

The confirmation must name every inherited variable that the step's Makefile or scripts
read and that differs from their defaults (issue 12, item 4), and the environment the
console shows must be the one `make` and deploy/*.sh act on (item 5).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from step_helpers import PROCEDURE, Recorder, fast_config, make_runbook

from runbook.config import Config, EnvironmentConfig
from runbook.document.parser import load
from runbook.execution.environment import deploy_env_name, inherited_overrides
from runbook.execution.executor import Executor
from runbook.execution.plan import plan

PROJECT = Path(__file__).resolve().parents[2]

MAKEFILE = """\
PORT ?= 3000
ENGINE_DIR ?= $(CURDIR)/engine
DEPLOY_ENV ?= prod
update-config:
\t@bash deploy/update-config.sh $(DEPLOY_ENV)
history:
\t@tail $${DEPLOY_HISTORY_DIR:-history}/deployments.jsonl
"""
LIB = """\
STATE_DIR="${MONKEYTOWN_STATE_DIR:-/tmp/state}"
WEB_IMAGE="${WEB_IMAGE:-monkeytown-web}"
for variable in $(compgen -e | grep '^DRILL_' || true); do echo "$variable"; done
"""
SCRIPT = """\
#!/usr/bin/env bash
source "$(dirname "$0")/lib.sh"
source_file="${CONFIG_FILE:-deploy/config/$1.json}"
echo "env=$1 deploy_env=$DEPLOY_ENV file=$source_file token=$API_TOKEN"
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a Makefile and a deploy script that sources a library."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "deploy").mkdir()
    (root / "Makefile").write_text(MAKEFILE)
    (root / "deploy" / "lib.sh").write_text(LIB)
    (root / "deploy" / "update-config.sh").write_text(SCRIPT)
    return root


OPERATOR = {
    "CONFIG_FILE": "/tmp/x.json",  # read by the script, no fixed default: listed
    "WEB_IMAGE": "monkeytown-web",  # the script's own default: not listed
    "PORT": "3100",  # Makefile `?=` default differs: listed
    "DRILL_LATENCY_MS": "300",  # read wholesale through compgen: listed
    "DEPLOY_ENV": "prod",  # the console sets it: not inherited
    "API_TOKEN": "s3cret",  # read by the script: listed, masked
    "UNRELATED": "1",  # no script reads it
    "HOME": "/root",
}


def test_deploy_env_mapping_and_config_override() -> None:
    assert deploy_env_name("Development", {}) == "dev"
    assert deploy_env_name("staging", {}) == "staging"
    assert deploy_env_name("PRODUCTION", {}) == "prod"
    assert deploy_env_name("Production", {"DEPLOY_ENV": "prod-eu"}) == "prod-eu"
    assert deploy_env_name("DRILL-x", {}) == ""


def test_inherited_overrides_of_make_and_scripts(repo: Path) -> None:
    found = dict(inherited_overrides(repo, ["make update-config"], OPERATOR, {"DEPLOY_ENV"}))
    assert found == {
        "CONFIG_FILE": "/tmp/x.json",
        "PORT": "3100",
        "DRILL_LATENCY_MS": "300",
        "API_TOKEN": "s3cret",
    }
    direct = dict(inherited_overrides(repo, ["./deploy/update-config.sh dev"], OPERATOR))
    assert "PORT" not in direct, "the Makefile is read only when the command runs make"
    assert direct["CONFIG_FILE"] == "/tmp/x.json" and direct["DEPLOY_ENV"] == "prod"
    assert inherited_overrides(repo, ["docker ps"], OPERATOR) == ()


def test_a_makefile_default_under_curdir_is_the_repository(repo: Path) -> None:
    """`make console` exports the Makefile's own defaults: they are not overrides."""
    same = {"ENGINE_DIR": f"{repo}/engine"}
    assert inherited_overrides(repo, ["make update-config"], same) == ()
    moved = {"ENGINE_DIR": "/elsewhere/engine"}
    assert dict(inherited_overrides(repo, ["make update-config"], moved)) == moved


def test_plan_shows_deploy_env_and_inherited_settings(repo: Path) -> None:
    runbook = make_runbook("make update-config", risk="mutating", path=repo / "runbook.md")
    step_plan = plan(runbook, PROCEDURE, 1, environ=OPERATOR)
    assert step_plan.deploy_env == "dev"
    assert dict(step_plan.env)["DEPLOY_ENV"] == "dev"
    assert step_plan.inherited == (
        ("API_TOKEN", "********"),
        ("CONFIG_FILE", "/tmp/x.json"),
        ("DRILL_LATENCY_MS", "300"),
        ("PORT", "3100"),
    )
    text = step_plan.describe()
    assert "  environment: Development (DEPLOY_ENV=dev)" in text
    assert "  inherited:   CONFIG_FILE=/tmp/x.json" in text
    assert "s3cret" not in text
    production = plan(runbook, PROCEDURE, 1, environment="Production", environ=OPERATOR)
    assert "environment: Production (DEPLOY_ENV=prod) PRODUCTION" in production.describe()
    clean = plan(runbook, PROCEDURE, 1, environ={"HOME": "/root"})
    assert clean.inherited == () and clean.digest != step_plan.digest


def test_config_names_the_deploy_env(repo: Path) -> None:
    runbook = make_runbook("make update-config", risk="mutating", path=repo / "runbook.md")
    config = Config(
        environments={"Canary": EnvironmentConfig(name="Canary", env={"DEPLOY_ENV": "staging"})}
    )
    step_plan = plan(runbook, PROCEDURE, 1, environment="Canary", config=config, environ={})
    assert step_plan.target == "Canary (DEPLOY_ENV=staging)"


def test_the_step_acts_on_the_shown_environment(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real process: the shell's DEPLOY_ENV=prod does not win over the console's dev,
    and an inherited CONFIG_FILE that reaches the script is the one the plan listed."""
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("DEPLOY_ENV", "prod")
    monkeypatch.setenv("CONFIG_FILE", "/tmp/x.json")
    executor = Executor(fast_config())
    runbook = make_runbook("make -s update-config", risk="mutating", path=repo / "runbook.md")
    step_plan = executor.plan(runbook, PROCEDURE, 1)
    assert ("CONFIG_FILE", "/tmp/x.json") in step_plan.inherited
    recorder = Recorder()
    result = executor.run(step_plan, recorder, step_plan.confirm())
    assert result.status == "succeeded", recorder.texts()
    assert recorder.texts("stdout") == [
        "env=dev deploy_env=dev file=/tmp/x.json token=",
    ]


def test_project_runbook_names_no_fixed_environment() -> None:
    """Every command of the project's runbook that deploys or changes config acts on
    DEPLOY_ENV, never on an environment written into the command."""
    runbook = load(PROJECT / ".monkeytown" / "devops" / "runbook.md")
    codes = [c.code for p in runbook.procedures for s in p.steps for c in s.commands]
    assert "make update-config" in codes
    names = {"prod", "dev", "staging"}
    for code in codes:
        words = code.split()
        scripts = [i for i, word in enumerate(words) if word.endswith(".sh")]
        assert not any(set(words[i + 1 :]) & names for i in scripts), code
        assert not any(word.split("=", 1)[-1] in names for word in words if "ENV=" in word), code


def test_project_history_records_the_deploy_env(tmp_path: Path) -> None:
    """deploy/lib.sh's record_history writes the DEPLOY_ENV it was given (a real bash)."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "DEPLOY_ENV"},
        "DEPLOY_ENV": "dev",
        "DEPLOY_HISTORY_DIR": str(tmp_path / "history"),
        "MONKEYTOWN_STATE_DIR": str(tmp_path / "state"),
    }
    subprocess.run(
        ["bash", "-c", "source deploy/lib.sh && record_history rollback v2 v1 blue succeeded"],
        cwd=PROJECT,
        env=env,
        check=True,
        capture_output=True,
    )
    line = (tmp_path / "history" / "deployments.jsonl").read_text().splitlines()[-1]
    assert json.loads(line)["environment"] == "dev"


def test_a_configured_secret_name_stays_a_variable_reference(tmp_path: Path) -> None:
    """With `[secrets] names = ["DSN"]` the value never enters the command text (it would
    show in /proc/<pid>/cmdline, `runs`, spec.json, the dry-run and the confirmation)."""
    from runbook.config import SecretsConfig
    from runbook.document.parser import parse

    dsn = "postgres://app:hunter22@db.internal/app"
    config = Config(secrets=SecretsConfig(names=("DSN",)))
    text = (
        "# R\n\n## Query\n\n```bash\n# Ask the database\n"
        "psql \"$APP_DSN\" -c 'select 1'\n```\n\n## Typed\n\n```bash\n# Ask it by hand\n"
        "psql <db-dsn> -c 'select 1'\n```\n"
    )
    runbook = parse(text, path=str(tmp_path / "runbook.md"))
    step_plan = plan(runbook, "Query", 1, config=config, environ={"APP_DSN": dsn})
    assert step_plan.resolved_commands == ("psql \"$APP_DSN\" -c 'select 1'",)
    assert dsn not in step_plan.describe()
    typed = plan(runbook, "Typed", 1, config=config, values={"db-dsn": dsn}, environ={})
    assert dsn not in " ".join(typed.resolved_commands)
    assert "RUNBOOK_SECRET_DB_DSN" in typed.resolved_commands[0]
    plain = plan(runbook, "Query", 1, environ={"APP_DSN": dsn})  # DSN not configured
    assert dsn in plain.resolved_commands[0], "only configured names are kept out"
