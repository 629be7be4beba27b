"""`runbook-console check PATH...`: is each runbook sound and in step with its repository?

Exit 0 when every file is sound, 1 when problems were found, 2 when a file
cannot be read at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from runbook.document.drift import find_drift, repository_root, threshold_problems
from runbook.document.parser import LoadError, load
from runbook.model import Problem

NAME = "check"
HELP = "Check runbooks for problems and drift (missing scripts, files, make targets)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", metavar="PATH", nargs="+", help="runbook markdown files")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--root", metavar="DIR", help="repository the commands run in (default: nearest .git)"
    )


def check_file(path: str, root: str | None = None) -> dict[str, Any]:
    """Problems of one runbook as a JSON-ready dict: {path, readable, problems[]}."""
    try:
        runbook = load(path)
    except LoadError as error:
        return {"path": path, "readable": False, "error": str(error), "problems": []}
    repository = repository_root(path) if root is None else Path(root)
    problems: list[Problem] = [
        *runbook.problems,
        *threshold_problems(runbook),
        *find_drift(runbook, repository),
    ]
    return {
        "path": path,
        "readable": True,
        "procedures": len(runbook.procedures),
        "problems": [
            {"line": p.line, "severity": p.severity, "message": p.message}
            for p in sorted(problems, key=lambda p: p.line)
        ],
    }


def run(args: argparse.Namespace) -> int:
    results = [check_file(path, args.root) for path in args.paths]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            if not result["readable"]:
                print(f"runbook-console: {result['error']}", file=sys.stderr)
                continue
            for problem in result["problems"]:
                where = f"{result['path']}:{problem['line']}"
                print(f"{where}: {problem['severity']}: {problem['message']}")
            if not result["problems"]:
                print(f"{result['path']}: ok ({result['procedures']} procedures)")
    if any(not r["readable"] for r in results):
        return 2
    return 1 if any(r["problems"] for r in results) else 0
