"""`runbook-console check PATH...`: is each runbook sound and in step with its repository?

Exit 0 when every file is sound, 1 when problems were found, 2 when a file
cannot be read at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from console.cli._common import load_settings
from runbook.document.check import check_file

if TYPE_CHECKING:
    from runbook.config import Config

NAME = "check"
HELP = "Check runbooks for problems and drift (missing scripts, files, make targets)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", metavar="PATH", nargs="+", help="runbook markdown files")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--root", metavar="DIR", help="repository the commands run in (default: nearest .git)"
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="config file whose environments give variables values; its engines"
        " (docker_host, docker_hosts) are checked too",
    )


def run(args: argparse.Namespace) -> int:
    config = load_settings(args.config)
    engines_bad = _engine_problems(config) if args.config else []
    for line in engines_bad:
        print(f"runbook-console: {line}", file=sys.stderr)
    known = {name for environment in config.environments.values() for name in environment.env}
    results = [check_file(path, args.root, known) for path in args.paths]
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
    return 1 if engines_bad or any(r["problems"] for r in results) else 0


def _engine_problems(config: Config) -> list[str]:
    """One line per engine of the config that cannot be right (nothing is connected to)."""
    from runbook.sources.docker.endpoint import address_problem

    where = f"{config.source}: " if config.source else ""
    lines = []
    for name, environment in config.environments.items():
        named = [("docker_host", environment.docker_host)] if environment.docker_host else []
        named += [
            (f"docker_hosts[{index}]", engine)
            for index, engine in enumerate(environment.docker_hosts)
        ]
        for key, engine in named:
            problem = address_problem(engine)
            if problem is not None:
                lines.append(f"{where}environments.{name}.{key} {engine!r}: {problem}")
    return lines
