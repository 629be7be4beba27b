"""Entry point of `runbook-console`.

`runbook-console [PATH] [options]` opens the TUI; `runbook-console COMMAND ...`
runs a headless subcommand from `runbook.cli` without importing textual.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a headless subcommand or to the TUI; returns the exit code."""
    arguments = sys.argv[1:] if argv is None else argv
    from runbook.cli import CliError, build_parser, subcommand_names

    try:
        if arguments[:1] in (["-h"], ["--help"]):
            from console.launch import build_parser as console_parser

            console_parser().print_help()  # console.launch imports no textual at module level
            print()
            build_parser().print_help()
            return 0
        if arguments and arguments[0] in subcommand_names():
            args = build_parser().parse_args(arguments)
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


if __name__ == "__main__":
    sys.exit(main())
