"""`check`: everything wrong with a runbook file, as data ready for JSON.

The parser's own problems, thresholds that contradict themselves, drift
(scripts, files and make targets the commands name but the repository lacks), and
variables a procedure reads that nothing gives a value.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from runbook.document.assignments import unassigned_problems
from runbook.document.drift import find_drift, repository_root, threshold_problems
from runbook.document.parser import LoadError, load
from runbook.model import Problem


def check_file(path: str, root: str | None = None, known: Collection[str] = ()) -> dict[str, Any]:
    """Problems of one runbook as a JSON-ready dict: {path, readable, problems[]}.

    Args:
        path: the runbook file.
        root: the repository its commands run in (default: the nearest `.git` above it).
        known: variable names the config gives a value (its environments' `env` tables).

    Returns:
        `{path, readable: False, error, problems: []}` when the file cannot be read, else
        `{path, readable: True, procedures, problems: [{line, severity, message}]}`, the
        problems sorted by line.
    """
    try:
        runbook = load(path)
    except LoadError as error:
        return {"path": path, "readable": False, "error": str(error), "problems": []}
    repository = repository_root(path) if root is None else Path(root)
    problems: list[Problem] = [
        *runbook.problems,
        *threshold_problems(runbook),
        *find_drift(runbook, repository, _text(path)),
        *unassigned_problems(runbook.procedures, known),
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


def _text(path: str) -> str:
    """The runbook's Markdown (its prose may introduce files); load() has read it already."""
    return Path(path).read_text(encoding="utf-8", errors="replace")
