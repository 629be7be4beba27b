"""`runbook-console rolls [--close ROLL_ID|all]`: rolls whose console stopped mid-roll.

A roll is driven by the console that started it (runbook.execution.rolls); if that console
dies, its hosts' runs carry on or never start, and no closing `roll` record is written. This
lists such rolls with every host's state and, with `--close`, writes that record truthfully
(hosts finished, still running, unknown, never started). A console opened on the same
runbook and environment does the same, following the running hosts to their end first.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from console.cli._common import CliError, load_settings
from runbook.execution.audit import AuditTrail, operator_identity
from runbook.execution.rollout import HostOutcome
from runbook.execution.rolls import OpenRoll, open_rolls, running_rolls

NAME = "rolls"
HELP = "List rolls whose console stopped mid-roll (each host's state); --close records them."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--close",
        metavar="ROLL_ID",
        help="write the closing audit record of this open roll (or 'all'), as things stand",
    )
    parser.add_argument("--json", action="store_true", help="print as JSON Lines")
    parser.add_argument("--config", metavar="FILE", help="config file to use")


def run(args: argparse.Namespace) -> int:
    config = load_settings(args.config)
    found = open_rolls(config.rolls_dir)
    try:
        if args.close:
            return _close(args, found, config.runs_dir, AuditTrail(config.audit_file))
        for roll in found:
            _print(args, roll, roll.host_outcomes(config.runs_dir), "open")
        for roll_id, start in running_rolls(config.rolls_dir):
            if args.json:
                print(json.dumps({"roll_id": roll_id, "state": "driven", **_where(start)}))
            else:
                print(f"{roll_id}  driven by a live console: {_title(start)}")
        if not found and not args.json:
            print("no open roll: every roll's console closed it")
        return 0
    finally:
        for roll in found:
            roll.release()


def _close(
    args: argparse.Namespace,
    found: list[OpenRoll],
    runs_dir: Path,
    trail: AuditTrail,
) -> int:
    chosen = [r for r in found if args.close == "all" or r.roll_id.startswith(args.close)]
    if not chosen or (args.close != "all" and len(chosen) > 1):
        raise CliError(
            f"no single open roll matches {args.close!r} (runbook-console rolls lists them)", 1
        )
    user = str(operator_identity().get("user", "?"))
    for roll in chosen:
        hosts = roll.host_outcomes(runs_dir)
        outcome = roll.close(trail, hosts, user)
        _print(args, roll, outcome.hosts, "closed")
        if not args.json:
            print(f"  recorded: {outcome.status}: {outcome.summary()}")
    return 0


def _print(
    args: argparse.Namespace, roll: OpenRoll, hosts: tuple[HostOutcome, ...], state: str
) -> None:
    if args.json:
        record = {
            "roll_id": roll.roll_id,
            "state": state,
            **_where(roll.start),
            "hosts": [
                {
                    "host": o.host.name,
                    "engine": o.host.engine,
                    "state": o.state,
                    "exit_code": o.exit_code,
                    "run_id": o.run_id,
                    "reason": o.reason,
                }
                for o in hosts
            ],
        }
        print(json.dumps(record, ensure_ascii=False))
        return
    print(f"{roll.roll_id}  {state}: {_title(roll.start)}")
    width = max(len(o.host.name) for o in hosts) if hosts else 0
    for o in hosts:
        detail = f"exit {o.exit_code}" if o.exit_code is not None else ""
        if o.reason:
            detail = f"{detail}: {o.reason}" if detail else o.reason
        run = f"  run {o.run_id}" if o.run_id else ""
        print(f"  {o.host.name:<{width}}  {o.state:<9}{run}{'  ' + detail if detail else ''}")


def _where(start: dict[str, object]) -> dict[str, object]:
    keys = ("environment", "user", "runbook", "procedure", "step", "step_title", "time")
    return {key: start.get(key) for key in keys}


def _title(start: dict[str, object]) -> str:
    return (
        f"{start.get('environment')}  {start.get('procedure')} step {start.get('step')}"
        f" ({start.get('user')}, started {start.get('time')})"
    )
