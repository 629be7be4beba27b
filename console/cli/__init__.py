"""Entry point of `runbook-console`.

`runbook-console [PATH] [options]` opens the TUI; `runbook-console COMMAND ...`
runs a headless subcommand without importing textual. Each subcommand is a
module of this package exposing `NAME` (equal to its module name), `HELP`,
`add_arguments(parser)` and `run(args) -> int`; modules whose name starts with
an underscore hold what the subcommands share. A subcommand parses arguments,
asks the core (`runbook`) for data and prints it: the core itself never prints.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any, TextIO

from console.cli._common import CliError
from runbook.terminal import neutralise


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a headless subcommand or to the TUI; returns the exit code."""
    arguments = sys.argv[1:] if argv is None else argv
    try:
        if arguments[:1] in (["-h"], ["--help"]):
            from console.launch import build_parser as console_parser

            console_parser().print_help()  # console.launch imports no textual at module level
            print()
            build_parser().print_help()
            return 0
        if arguments and arguments[0] in subcommand_names():
            args = build_parser().parse_args(arguments)
            with terminal_safe_output():
                exit_code: int = args.handler(args)
            return exit_code
        from console.launch import launch

        return launch(arguments)
    except CliError as error:
        print(f"runbook-console: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("runbook-console: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as error:  # the state directory or a file it needs: one line, no traceback
        where = f": {error.filename}" if error.filename else ""
        print(f"runbook-console: {error.strerror or error}{where}", file=sys.stderr)
        return 1


class _Neutralised:
    """A text stream whose writes reach the terminal with nothing it would act on. When
    its reader goes away (`run ... | head -1`), the rest is dropped: a closed pipe is not
    a failed step, and the step goes on and is recorded as it ends."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                self._stream.write(neutralise(text))
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        self._gone = True
        with contextlib.suppress(OSError, ValueError):  # later flushes, at exit too, go nowhere
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def terminal_safe_output() -> Iterator[None]:
    """While a subcommand prints step output, logs, notes and reports: escape sequences
    and control characters in them never drive the operator's terminal."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Neutralised(out), _Neutralised(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def subcommand_modules() -> list[ModuleType]:
    """Every subcommand module in this package, sorted by name."""
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            modules.append(importlib.import_module(f"{__name__}.{info.name}"))
    return modules


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
