"""`runbook-console report INCIDENT [-o FILE]`: the incident's Markdown report, secrets masked."""

from __future__ import annotations

import argparse
from pathlib import Path

from console.cli._common import CliError, load_settings
from console.cli._incident_common import store
from runbook.incident.model import IncidentError
from runbook.incident.report import build_report
from runbook.storage.atomic_file import write_atomic

NAME = "report"
HELP = "Write an incident's Markdown report (timeline, commands, durations, gauges)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "incident",
        metavar="INCIDENT",
        nargs="?",
        default="latest",
        help="incident id or unique prefix (default: the newest)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--config", metavar="FILE", help="config file to use")


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    incidents = store(settings)
    try:
        incident = incidents.load(incidents.resolve_id(args.incident))
    except IncidentError as error:
        raise CliError(str(error), 1) from None
    text = build_report(incident, config=settings)
    if args.output:
        write_atomic(Path(args.output), text.encode(), 0o644)
        print(f"report for {incident.id} written to {args.output}")
    else:
        print(text, end="")
    return 0
