"""`runbook-console show PATH [--json]`: print the model of a runbook."""

from __future__ import annotations

import argparse
import json

from console.cli._common import CliError
from runbook.document.parser import LoadError, load
from runbook.model import Runbook

NAME = "show"
HELP = "Print a runbook's procedures, steps, commands and tables (--json: see docs/schema.md)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="the runbook markdown file")
    parser.add_argument("--json", action="store_true", help="print the model as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        runbook = load(args.path)
    except LoadError as error:
        raise CliError(str(error), error.exit_code) from None
    if args.json:
        print(json.dumps(runbook.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(outline(runbook))
    return 0


def outline(runbook: Runbook) -> str:
    """A plain-text outline of the runbook, for a terminal."""
    lines = [f"{runbook.title}  (sha256 {runbook.sha256[:12]})", ""]
    for procedure in runbook.procedures:
        lines.append(f"{procedure.key}  [line {procedure.line}]")
        for step in procedure.steps:
            extra = ""
            if step.wait_s is not None:
                extra = f" (wait {step.wait_s:g} s)"
            elif step.deadline_s is not None:
                extra = f" (within {step.deadline_s:g} s)"
            lines.append(f"  {step.index:>2}. [{step.kind}] {step.title}{extra}")
            lines += [f"      {admonition.describe()}" for admonition in step.admonitions]
            for command in step.commands:
                variables = (
                    f"  vars: {', '.join(command.variable_names)}" if command.variables else ""
                )
                for number, code_line in enumerate(command.code.split("\n")):
                    prefix = "      $ " if number == 0 else "        "
                    lines.append(f"{prefix}{code_line}")
                lines.append(f"        risk: {command.risk}{variables}")
                lines += [f"        carried: {carried}" for carried in command.carried]
        lines += [f"  at the end: {admonition.describe()}" for admonition in procedure.admonitions]
        lines.append("")
    for threshold in runbook.thresholds:
        warning = threshold.warning.text if threshold.warning else "-"
        critical = threshold.critical.text if threshold.critical else "-"
        lines.append(f"threshold  {threshold.metric}: warning {warning}, critical {critical}")
    for endpoint in runbook.endpoints:
        lines.append(f"endpoint   {endpoint.path}: {endpoint.expect_text}")
    for environment in runbook.environments:
        lines.append(
            f"env        {environment.name}: {environment.url or '-'} ({environment.status})"
        )
    for severity in runbook.severities:
        lines.append(
            f"severity   {severity.level}: acknowledge {_seconds(severity.acknowledge_s)}, "
            f"escalate {_seconds(severity.escalate_s)}"
        )
    return "\n".join(lines).rstrip()


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:g} s"
