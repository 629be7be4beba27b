"""What every subcommand shares: the one-line error, the config file, JSON Lines listings."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook.config import Config


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
