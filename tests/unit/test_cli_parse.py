"""`show` and `check` from a shell: exit codes, one-line errors, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli.show import outline
from runbook.document.parser import parse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], path: str, code: int) -> None:
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert path in lines[0]


def test_show_json_schema_keys() -> None:
    result = cli("show", str(FIXTURES / "seed_runbook.md"), "--json")
    assert result.returncode == 0, result.stderr
    model = json.loads(result.stdout)
    for key in (
        "title",
        "sha256",
        "procedures",
        "thresholds",
        "endpoints",
        "environments",
        "severities",
        "references",
    ):
        assert key in model
    step = model["procedures"][3]["steps"][3]
    assert (step["index"], step["kind"], step["wait_s"]) == (4, "wait", 300)
    command = model["procedures"][10]["steps"][1]["commands"][0]
    assert command["variables"] == ["previous-sha"]
    assert command["risk"] == "mutating"
    assert model["thresholds"][2]["warning"] == {"op": ">", "value": 0.5, "unit": "s"}


def test_show_outline() -> None:
    result = cli("show", str(FIXTURES / "seed_runbook.md"))
    assert result.returncode == 0
    assert "Zero-Downtime Deployment (Blue-Green)" in result.stdout
    assert "(wait 300 s)" in result.stdout


@pytest.mark.parametrize("command", ["show", "check"])
def test_missing_path(command: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.md")
    assert_one_line_error(cli(command, missing), missing, 2)


def test_directory(tmp_path: Path) -> None:
    assert_one_line_error(cli("show", str(tmp_path)), str(tmp_path), 2)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    assert_one_line_error(cli("check", str(path)), str(path), 2)


def test_twenty_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    path.write_text("- step `kubectl get pods`\n" * 800_000)
    assert path.stat().st_size > 20_000_000
    assert_one_line_error(cli("show", str(path)), str(path), 2)


def test_non_utf8_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("## Fix\n\n1. Redémarrer `systemctl restart x`\n".encode("latin-1"))
    result = cli("check", str(path))
    assert result.returncode == 1
    assert "UTF-8" in result.stdout
    assert cli("show", str(path)).returncode == 0


def test_empty_file_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_text("")
    result = cli("check", str(path))
    assert result.returncode == 1
    assert "empty" in result.stdout


@pytest.mark.parametrize(
    "text",
    [
        "".join("  " * i + "- a\n" for i in range(300)),
        "- " * 5000 + "x\n",
        "> " * 5000 + "x\n",
        "1. " * 5000 + "x\n",
        "[" * 5000 + "x" + "]" * 5000 + "\n",
    ],
)
def test_deep_nesting_never_hangs_or_crashes(text: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.md"
    path.write_text(text)
    result = cli("check", str(path), timeout=30)
    assert result.returncode in (0, 1)
    assert "Traceback" not in result.stderr


def test_ragged_table(tmp_path: Path) -> None:
    path = tmp_path / "ragged.md"
    path.write_text("| A | B |\n|---|---|\n| 1 | 2 | 3 |\n| 4 |\n")
    result = cli("check", str(path))
    assert result.returncode == 1
    assert "cells" in result.stdout


def test_check_drift_and_thresholds(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "ok.sh").write_text("#!/bin/sh\n")
    (tmp_path / "Makefile").write_text("status:\n\t@true\ndeploy rollback: build\n\t@true\n")
    runbook = tmp_path / "runbook.md"
    runbook.write_text(
        "## Ops\n\n```bash\nmake status\nmake deploy\nmake missing-target\n"
        "./deploy/ok.sh\n./deploy/gone.sh prod\ndocker compose -f deploy/compose.yml up -d\n```\n\n"
        "| Metric | Warning | Critical | Action |\n|---|---|---|---|\n| CPU | > 95% | > 90% | x |\n"
    )
    result = cli("check", str(runbook), "--json")
    assert result.returncode == 1
    messages = [p["message"] for p in json.loads(result.stdout)[0]["problems"]]
    assert any("missing-target" in m for m in messages)
    assert any("deploy/gone.sh" in m for m in messages)
    assert any("deploy/compose.yml" in m for m in messages)
    assert any("warning > 95% is beyond critical > 90%" in m for m in messages)
    assert len(messages) == 4, messages


def test_check_npm_scripts(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "package.json").write_text('{"scripts": {"build": "vite build"}}')
    runbook = tmp_path / "runbook.md"
    runbook.write_text("## Build\n\n```bash\nnpm run build\nnpm run dev\n```\n")
    result = cli("check", str(runbook))
    assert result.returncode == 1
    assert "npm script 'dev' is not defined" in result.stdout
    assert "'build'" not in result.stdout


def test_check_many_files_worst_exit_code(tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("## Fix\n\n1. Check `kubectl get pods`\n")
    assert cli("check", str(good)).returncode == 0
    assert cli("check", str(good), str(tmp_path / "missing.md")).returncode == 2


def test_show_outline_marks_the_runbooks_warnings() -> None:
    shown = outline(
        parse(
            "## Prune\n\n```sh\ntouch listed\n```\n\n**DO NOT RUN THE FOLLOWING ON A POOL**\n\n"
            "```sh\nrm -f pruned\n```\n\n> [!NOTE]\n> Pruning again is harmless.\n"
        )
    ).splitlines()
    step = shown.index("   2. [command] Run rm -f pruned")
    assert shown[step + 1] == "      ⚠ Warning from the runbook: DO NOT RUN THE FOLLOWING ON A POOL"
    assert "  at the end: Note from the runbook: Pruning again is harmless." in shown
    assert not any("Warning" in line for line in shown[:step])


def test_check_takes_variable_values_from_the_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    runbook = tmp_path / "runbook.md"
    runbook.write_text("## Fix\n\n```sh\nkubectl -n $NAMESPACE get pods\n```\n")
    config = tmp_path / "config.toml"
    config.write_text('[environments.Staging]\nenv = { NAMESPACE = "web-staging" }\n')
    result = cli("check", str(runbook))
    assert result.returncode == 1
    assert "$NAMESPACE is used but never assigned" in result.stdout
    assert cli("check", str(runbook), "--config", str(config)).returncode == 0
    config.write_text("[environments.Staging\n")
    assert_one_line_error(cli("check", str(runbook), "--config", str(config)), str(config), 2)
