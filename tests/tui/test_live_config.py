"""The live panes take their settings from the config's sources section; a broken one degrades."""

from __future__ import annotations

import os
from pathlib import Path

from console.panes.dock import live_panes_for
from runbook.config import load_config
from runbook.document.parser import load
from runbook.sources.settings import SourceSettings

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed_runbook.md"


def write_config(text: str) -> Path:
    path = Path(os.environ["RUNBOOK_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_configured_sources_reach_the_panes(tmp_path: Path) -> None:
    write_config(
        f'[environments.Staging]\ndocker_host = "unix://{tmp_path}/no.sock"\n'
        '[environments.Staging.sources]\nhealth_interval_s = 7\ncontainers = "web-"\n'
    )
    panes = live_panes_for(load(str(SEED)), "Staging", load_config())
    assert panes.config_problem == ""
    assert panes.settings.health_interval_s == 7 and panes.settings.containers == "web-"
    assert panes.settings.docker_host == f"unix://{tmp_path}/no.sock"


def test_a_broken_sources_table_gives_defaults_and_says_why(tmp_path: Path) -> None:
    path = write_config(
        f'[environments.Staging]\ndocker_host = "unix://{tmp_path}/no.sock"\n'
        'base_url = "http://staging.test"\n'
        '[environments.Staging.sources]\nhealth_interval_s = "often"\n'
    )
    panes = live_panes_for(load(str(SEED)), "Staging", load_config())
    assert panes.config_problem == (
        f"config {path}: sources.health_interval_s must be a positive number (using defaults)"
    )
    assert panes.settings == SourceSettings(
        environment="Staging",
        docker_host=f"unix://{tmp_path}/no.sock",
        base_url="http://staging.test",
    )
