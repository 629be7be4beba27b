"""`runbook-console open PATH --alert NAME --label k=v ... | --payload FILE`.

Headless, it prints the procedure the alert opens and every command with the
labels' values filled in (resolved as a run would, nothing is executed). PATH
may be a directory of runbooks named after alerts (the prometheus-operator
layout): the file named after the alert is used.

Exit codes: 0 a procedure matched, 1 none did, 2 usage or file problems.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from console.cli._common import CliError
from console.cli._incident_common import load_runbook, runbook_path
from runbook.document.alerts import (
    Alert,
    AlertError,
    AlertTarget,
    load_payload,
    match,
    pick_alert,
    runbook_for_alert,
)
from runbook.execution.plan import PlanError, plan_procedure
from runbook.model import Runbook

NAME = "open"
HELP = "Open a runbook at the procedure for an alert; labels fill variables ($NAMESPACE, $POD)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", metavar="PATH", nargs="?", help="a runbook, or a directory of alert runbooks"
    )
    parser.add_argument("--alert", "-a", metavar="NAME", help="the alert name")
    parser.add_argument(
        "--label", "-l", action="append", default=[], metavar="K=V", help="an alert label"
    )
    parser.add_argument("--payload", metavar="FILE", help="an Alertmanager webhook payload (JSON)")
    parser.add_argument("--json", action="store_true", help="print the resolution as JSON")


def resolve_alert(args: argparse.Namespace) -> Alert:
    try:
        if args.payload:
            return pick_alert(load_payload(Path(args.payload)), args.alert, args.label)
        if not args.alert:
            raise CliError("give --alert NAME (with --label k=v ...) or --payload FILE", 2)
        return Alert.from_args(args.alert, args.label)
    except AlertError as error:
        raise CliError(str(error), 2) from None


def open_for_alert(path: str | None, alert: Alert) -> tuple[Runbook, AlertTarget]:
    """The runbook (a directory resolves to the alert's file) and the matched target."""
    given = runbook_path(path)
    found = runbook_for_alert(given, alert.name) if given.is_dir() else given
    if found is None:
        raise CliError(f"no runbook named after {alert.name} under {given}", 1)
    runbook = load_runbook(str(found))
    return runbook, match(runbook, alert)


def run(args: argparse.Namespace) -> int:
    alert = resolve_alert(args)
    runbook, target = open_for_alert(args.path, alert)
    try:
        plans = (
            plan_procedure(runbook, target.procedure, values=target.values)
            if target.procedure is not None
            else []
        )
    except PlanError as error:
        raise CliError(str(error), 2) from None
    resolved = [
        {
            "step": step_plan.step_index,
            "title": step_plan.step_title,
            "commands": list(step_plan.resolved_commands),
            "missing": list(step_plan.missing),
        }
        for step_plan in plans
    ]
    if args.json:
        print(
            json.dumps(
                {
                    "runbook": runbook.path,
                    "alert": alert.to_dict(),
                    "procedure": target.procedure.key if target.procedure else None,
                    "reason": target.reason,
                    "severity": target.severity,
                    "variables": target.used,
                    "missing": target.missing,
                    "steps": resolved,
                },
                indent=2,
            )
        )
        return 0 if target.procedure else 1
    print(f"runbook:   {runbook.path}")
    print(f"alert:     {alert.name} {' '.join(f'{k}={v}' for k, v in alert.labels.items())}")
    if target.procedure is None:
        print(f"procedure: none ({target.reason})")
        return 1
    print(f"procedure: {target.procedure.key} ({target.reason})")
    if target.severity:
        print(f"severity:  {target.severity}")
    for name, value in target.used.items():
        print(f"  ${name} = {value}")
    for name in target.missing:
        print(f"  ${name} = (not in the labels; asked for at run time)")
    for step_plan in plans:
        print(f"step {step_plan.step_index}: {step_plan.step_title}")
        for code in step_plan.resolved_commands:
            print(f"    {code}")
    return 0
