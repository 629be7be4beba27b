"""`runbook-console audit`: the audit trail of executed steps."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli._common import load_settings, print_records
from runbook.execution.audit import read_records

NAME = "audit"
HELP = "Print the audit trail: who ran which command where, and how it ended."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print records as JSON Lines")
    parser.add_argument("--limit", type=int, default=0, metavar="N", help="only the last N")
    parser.add_argument("--config", metavar="FILE", help="config file to use")


def run(args: argparse.Namespace) -> int:
    config = load_settings(args.config)
    return print_records(
        read_records(config.audit_file), args, f"no records in {config.audit_file}", _line
    )


def _line(r: dict[str, Any]) -> str:
    where = f"{r.get('environment', '?')}{' (PROD)' if r.get('production') else ''}"
    step = f"{r.get('procedure', '?')} step {r.get('step', '?')}"
    outcome = ""
    if r.get("event") == "end":
        outcome = f" -> {r.get('status')} exit={r.get('exit_code')} {r.get('duration_s')}s"
    elif r.get("event") == "roll":
        hosts = r.get("hosts")
        count = len(hosts) if isinstance(hosts, list) else 0
        outcome = f" -> {r.get('status')}: {len(r.get('ok') or [])} of {count} hosts ok"
        for state in ("failed", "cancelled", "running", "unknown", "skipped"):
            if r.get(state):
                outcome += f"; {state}: {', '.join(map(str, r[state]))}"
    command = " ; ".join(str(r.get("command", "")).splitlines())
    return (
        f"{r.get('time', '?')} {r.get('event', '?'):<5} {r.get('user', '?')} {where} "
        f"{step}: {command}{outcome}"
    )
