"""The headless core never loads the TUI: importing runbook pulls in no textual or rich."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import runbook


def test_runbook_imports_no_textual() -> None:
    modules = [m.name for m in pkgutil.walk_packages(runbook.__path__, prefix="runbook.")]
    program = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "runbook.document.parser" in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("textual", "rich", "console")]


def test_headless_cli_imports_no_textual() -> None:
    program = (
        "import sys, json\nfrom console.cli import main\n"
        "code = main(['show', 'tests/fixtures/seed_runbook.md', '--json'])\n"
        "print(json.dumps([m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]),"
        " file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []


def test_subcommand_names_match_their_modules() -> None:
    """`subcommand_names` reads module names; each module's NAME must agree."""
    from console.cli import subcommand_modules, subcommand_names

    assert {module.NAME for module in subcommand_modules()} == subcommand_names()
