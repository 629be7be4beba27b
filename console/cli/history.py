"""`runbook-console history [PATH]`: the deployment history (deploys and rollbacks)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from console.cli._common import print_records
from runbook.execution.history import history_file_for, read_history

NAME = "history"
HELP = "Print the deployment history (deploys and rollbacks), newest last."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        help="a runbook or directory in the repository (default: the current directory)",
    )
    parser.add_argument("--json", action="store_true", help="print records as JSON Lines")
    parser.add_argument("--limit", type=int, default=0, metavar="N", help="only the last N")


def run(args: argparse.Namespace) -> int:
    path = history_file_for(Path(args.path or "."))
    return print_records(read_history(path), args, f"no deployments recorded in {path}", _line)


def _line(r: dict[str, Any]) -> str:
    versions = f"{r.get('from_version') or '?'} -> {r.get('to_version') or '?'}"
    colour = f" [{r['colour']}]" if r.get("colour") else ""
    return (
        f"{r.get('time', '?'):<25} {r.get('action', '?'):<12} {r.get('environment', '?'):<12} "
        f"{versions}{colour}  by {r.get('user', '?')}@{r.get('host', '?')}  "
        f"{r.get('outcome', '?')}  run {r.get('run_id') or '-'}"
    )
