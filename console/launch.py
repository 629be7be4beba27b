"""`runbook-console [PATH] [--env ENV] [--read-only] [--config FILE] [--reduced-colour]`: the TUI.

`--alert NAME --label k=v ...` (or `--payload FILE`, an Alertmanager webhook) opens at
the alert's procedure with its variables prefilled from the labels, as
`runbook-console open` resolves them (runbook.document.alerts); PATH may then be a directory
of runbooks named after alerts.

Reached from `console.cli.main` when no headless subcommand is named.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.widget import Widget

    from console.settings import ConsoleSettings, LivePanesHost
    from runbook.document.alerts import Alert, AlertTarget
    from runbook.model import Runbook

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
PROJECT_RUNBOOK = REPOSITORY_ROOT / ".monkeytown" / "devops" / "runbook.md"
SEED_RUNBOOK = REPOSITORY_ROOT.parent / "shared" / "seed" / "runbook.md"

NOT_A_TERMINAL = (
    "runbook-console: the console needs a terminal; without one use "
    "`runbook-console show|check|run PATH ...` (see `runbook-console --help`)"
)


def default_runbook_path(cwd: Path | None = None) -> Path:
    """./runbook.md when present, else the project's own runbook, else the team's seed."""
    local = (cwd or Path.cwd()) / "runbook.md"
    if local.is_file():
        return local
    if PROJECT_RUNBOOK.is_file():
        return PROJECT_RUNBOOK
    return SEED_RUNBOOK


def is_terminal() -> bool:
    """Whether both stdin and stdout are terminals (the TUI needs both)."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def forget_terminal_size() -> None:
    """Drop `LINES` and `COLUMNS` from the environment, so the size comes from the terminal.

    Textual (through `shutil.get_terminal_size` and Rich) prefers those variables to
    the terminal's real size, and some shells and make export them: a stale size
    paints the frame at the wrong rows. Done before the app is built, as Rich copies
    the environment then, and before anything is started, so no child inherits them.
    """
    from runbook.execution.environment import TERMINAL_SIZE_VARIABLES

    for name in TERMINAL_SIZE_VARIABLES:
        os.environ.pop(name, None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runbook-console",
        description="Open a runbook as guided checklists.",
    )
    parser.add_argument(
        "path", nargs="?", help="the runbook (default: ./runbook.md or the project's)"
    )
    parser.add_argument("--env", dest="environment", help="environment to act on")
    parser.add_argument("--read-only", action="store_true", help="hide every mutating action")
    parser.add_argument("--config", help="config file (default: the XDG config dir)")
    parser.add_argument(
        "--reduced-colour",
        "--reduced-color",
        dest="reduced_colour",
        action="store_true",
        help="use the terminal's 16 colours only",
    )
    parser.add_argument(
        "--no-live", action="store_true", help="no live panes (containers, health, gauges, logs)"
    )
    parser.add_argument("--alert", metavar="NAME", help="open at the procedure for this alert")
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="K=V",
        help="an alert label; fills $K (namespace -> $NAMESPACE)",
    )
    parser.add_argument("--payload", metavar="FILE", help="an Alertmanager webhook payload (JSON)")
    parser.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="start a fresh checklist instead of the saved session",
    )
    return parser


def _live_panes(console: LivePanesHost) -> Widget:
    """The live panes for the console's environment (imported here: they pull in the
    Docker and Prometheus clients, which only a real console needs)."""
    from console.panes.dock import live_panes_for

    embedded = console.embedded
    return live_panes_for(
        console.runbook,
        console.environment,
        console.settings.config,
        base_url=embedded.base_url,
        metrics_url=embedded.metrics_url,
        notice=embedded.notice,
        id="pane-live",
    )


@dataclass
class AlertContext:
    """What an alert opens: the runbook, the procedure and the values its labels give."""

    runbook: Runbook
    target: AlertTarget
    alert: Alert

    def apply(self, settings: ConsoleSettings) -> None:
        """Open at the alert's procedure with its variables prefilled."""
        target, alert = self.target, self.alert
        settings.variables = dict(target.values)
        settings.alert = alert.to_dict()
        labels = " ".join(f"${name}={value}" for name, value in target.used.items())
        if target.procedure is None:
            settings.notice = f"{alert.name}: no procedure matched ({target.reason})"
            return
        settings.open_procedure = target.procedure.key
        settings.notice = (
            f"{alert.name} → {target.procedure.title} ({target.reason})"
            + (f"; {labels}" if labels else "")
            + (f"; severity {target.severity}: ctrl+p incident: Start" if target.severity else "")
        )


def alert_context_for(args: argparse.Namespace, path: Path) -> AlertContext:
    """Resolve `--alert/--label/--payload` as `runbook-console open` does.

    Raises:
        CliError: a bad label or payload, or no runbook for the alert.
    """
    from console.cli.open import open_for_alert, resolve_alert

    alert = resolve_alert(args)
    runbook, target = open_for_alert(str(path), alert)
    return AlertContext(runbook, target, alert)


def launch(argv: list[str]) -> int:
    """Parse the TUI's arguments, load the runbook and run the console; returns the exit code."""
    args = build_parser().parse_args(argv)
    if not is_terminal():
        print(NOT_A_TERMINAL, file=sys.stderr)
        return 2
    forget_terminal_size()
    # Start-up creates tens of thousands of objects that live as long as the console, and
    # the cycle collector would only walk them (some 30 ms before the first frame). The
    # console turns it back on once its first frame is drawn (RunbookConsole.on_mount).
    gc.disable()
    try:
        return open_console(args)
    finally:
        gc.enable()


def open_console(args: argparse.Namespace) -> int:
    """Load the runbook and config that `args` name and run the console on them."""
    from runbook.config import ConfigError, load_config
    from runbook.document.parser import LoadError, load

    path = Path(args.path) if args.path else default_runbook_path()
    alert_context: AlertContext | None = None
    if args.alert or args.payload:
        from console.cli._common import CliError

        try:
            alert_context = alert_context_for(args, path)
        except CliError as error:
            print(f"runbook-console: {error}", file=sys.stderr)
            return error.exit_code
        path = Path(alert_context.runbook.path or path)
    try:
        runbook = alert_context.runbook if alert_context else load(path)
    except LoadError as error:
        print(f"runbook-console: {error}", file=sys.stderr)
        return error.exit_code or 2
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"runbook-console: {error}", file=sys.stderr)
        return 2
    environment = args.environment
    if environment is not None:
        known = [env.name for env in runbook.environments] + list(config.environments)
        match = [name for name in known if name.casefold() == environment.casefold()]
        if known and not match:
            print(
                f"runbook-console: unknown environment {environment!r} "
                f"(known: {', '.join(dict.fromkeys(known))})",
                file=sys.stderr,
            )
            return 2
        environment = match[0] if match else environment

    from console.app import RunbookConsole
    from console.settings import ConsoleSettings

    settings = ConsoleSettings(
        runbook_path=str(path),
        environment=environment,
        read_only=args.read_only,
        reduced_colour=args.reduced_colour,
        config=config,
        resume=args.resume,
        live_panes=None if args.no_live else _live_panes,
    )
    if alert_context is not None:
        alert_context.apply(settings)
    app = RunbookConsole(runbook, settings)
    result = app.run()
    return app.return_code or int(result or 0)  # 1 after a crash
