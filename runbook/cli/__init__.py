"""Headless subcommands of `runbook-console`.

Each module here exposes `NAME` (equal to its module name), `HELP`,
`add_arguments(parser)` and `run(args) -> int`; `console.cli` discovers them,
so a subcommand never pulls in the TUI.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook.config import Config


def subcommand_modules() -> list[ModuleType]:
    """Every subcommand module in this package, sorted by name."""
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            modules.append(importlib.import_module(f"{__name__}.{info.name}"))
    return modules


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit code attached."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_settings(explicit: str | None = None) -> Config:
    """The config file (`--config` or the default); a broken one is a one-line CliError."""
    from runbook.config import ConfigError, load_config

    try:
        return load_config(explicit)
    except ConfigError as error:
        raise CliError(str(error)) from None


def print_records(
    records: list[dict[str, Any]],
    args: argparse.Namespace,
    empty: str,
    line: Callable[[dict[str, Any]], str],
) -> int:
    """Print JSON Lines records: the last `--limit`, as JSON with `--json`, else one line each."""
    if args.limit > 0:
        records = records[-args.limit :]
    if args.json:
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
        return 0
    if not records:
        print(empty)
    for record in records:
        print(line(record))
    return 0


def build_parser(prog: str = "runbook-console") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Guided runbook checklists with live panes. "
        "Without a subcommand, opens the console on PATH.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in subcommand_modules():
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def subcommand_names() -> set[str]:
    """Names of the subcommands, read from the package without importing any of them.

    The TUI asks this on every start; importing each module (and what they pull
    in) would cost tens of milliseconds before the first frame.
    """
    return {info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}
