"""`runbook-console runs [RUN_ID]`: steps run by any console, running or finished, with output."""

from __future__ import annotations

import argparse
import json

from console.cli._common import CliError, load_settings
from runbook.execution.runs import find_run, list_runs, read_output

NAME = "runs"
HELP = "List step runs (also those whose console is gone), or print one run's output."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", metavar="RUN_ID", nargs="?", help="print this run's output")
    parser.add_argument("--json", action="store_true", help="print as JSON")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="at most N runs")
    parser.add_argument("--config", metavar="FILE", help="config file to use")


def run(args: argparse.Namespace) -> int:
    config = load_settings(args.config)
    runs = list_runs(config.runs_dir)
    if args.run_id:
        info = find_run(runs, args.run_id)
        if info is None:
            raise CliError(f"no single run matches {args.run_id!r}")
        for line in read_output(info.directory):
            if args.json:
                print(json.dumps({"t": line.time, "stream": line.stream, "text": line.text}))
            else:
                print(f"{line.time} {line.stream:<6} {line.text}")
        return 0
    for info in runs[: args.limit]:
        spec = info.spec
        if args.json:
            print(json.dumps({"run_id": info.run_id, "status": info.status, **info.state}))
            continue
        print(
            f"{info.run_id}  {info.status:<9} {spec.get('environment')}  "
            f"{spec.get('procedure_title')} step {spec.get('step')}: "
            f"{' ; '.join(str(spec.get('code', '')).splitlines())}"
        )
    return 0
