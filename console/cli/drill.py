"""`runbook-console drill [SCENARIO] [PATH] [--results]`: list, run or review drills.

Without SCENARIO it lists the scenarios. With one, it starts a sandbox of the
reference service (own names, ports, lock and history) on the Docker engine when
one answers, else as local processes (`--runtime` chooses), injects the fault,
names the procedure, and reads the trainee's actions, one a line, from the
terminal (or from stdin when it is not a terminal):

    ack                      acknowledge
    steps                    the procedure's steps
    run N [PROCEDURE]        run step N for real against the sandbox, once confirmed as
                             in a real incident (the next line answers: y, or the name)
    done N | skip N REASON | fail N REASON
    note TEXT
    status                   checks now (endpoints, gauges)
    wait [SECONDS]           wait for the checks to show the fault mitigated (default 60)
    end                      finish: score, save, remove the sandbox

The drill also ends by itself when input ends. `--results` prints saved scores.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from console.cli._common import CliError, load_settings
from console.cli._incident_common import load_runbook, store
from runbook.drills.sandboxes import SandboxError, open_sandbox
from runbook.drills.scenarios import SCENARIOS, find_scenario
from runbook.drills.score import load_results
from runbook.incident.timeline import Event, parse_time

if TYPE_CHECKING:
    from runbook.drills.runner import Drill
    from runbook.execution.plan import Confirmation, Plan

BANNER = "DRILL"

NAME = "drill"
HELP = "Training drills: a fault injected into a sandbox, work the runbook, get a score."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", nargs="?", help="scenario to run")
    parser.add_argument("path", metavar="PATH", nargs="?", help="the runbook")
    parser.add_argument("--results", action="store_true", help="print saved drill results")
    parser.add_argument(
        "--runtime",
        choices=("auto", "docker", "local"),
        default="auto",
        help="where the sandbox runs: the Docker engine, local processes, or auto "
        "(Docker when an engine answers)",
    )
    parser.add_argument(
        "--cleanup",
        action="store_true",
        help="remove drill sandboxes left behind (rbc-drill-* containers and tags, "
        "local drill engines)",
    )
    parser.add_argument("--json", action="store_true", help="results as JSON Lines")
    parser.add_argument("--config", metavar="FILE", help="config file to use")
    parser.add_argument("--as", dest="trainee", metavar="NAME", help="trainee name")


def run(args: argparse.Namespace) -> int:
    # The drill runner pulls in the live sources (httpx); only a drill needs them.
    from runbook.drills.runner import Drill, DrillError, drills_dir, new_drill_id

    settings = load_settings(args.config)
    if args.results:
        return _results(drills_dir(settings), args.json)
    repo_root = Path(__file__).resolve().parents[2]
    if args.cleanup:
        from runbook.drills.sandboxes import remove_leftovers

        containers, images = remove_leftovers(drills_dir(settings), repo_root)
        print(f"removed {len(containers)} sandbox(es) and {len(images)} image tag(s)")
        for name in (*containers, *images):
            print(f"  {name}")
        return 0
    if not args.scenario:
        for scenario in SCENARIOS:
            print(f"{scenario.name:<18} {scenario.severity}  {scenario.title}")
            print(f"{'':<22}{scenario.briefing}")
        print("run one: runbook-console drill SCENARIO; results: runbook-console drill --results")
        return 0
    try:
        scenario = find_scenario(args.scenario)
    except KeyError as error:
        raise CliError(str(error.args[0]), 2) from None
    runbook = load_runbook(args.path)
    if runbook.procedure(scenario.procedure) is None:
        raise CliError(f"the runbook has no procedure {scenario.procedure!r}", 2)
    drill_id = new_drill_id()
    try:
        sandbox = open_sandbox(drill_id, repo_root, drills_dir(settings) / drill_id, args.runtime)
    except SandboxError as error:
        raise CliError(f"{BANNER}: {error}", 3) from None
    out = sys.stdout
    drill = Drill(
        scenario,
        runbook,
        sandbox=sandbox,
        config=settings,
        store=store(settings),
        trainee=args.trainee,
        on_event=lambda event: _print_event(event, out),
    )
    where = "Docker containers" if sandbox.kind == "docker" else "local processes"
    _say(
        out, f"{scenario.title}: starting sandbox {sandbox.prefix} ({where}) on {sandbox.base_url}"
    )
    try:
        drill.start()
    except (DrillError, SandboxError) as error:
        raise CliError(f"{BANNER}: could not start: {error}", 1) from None
    drill.start_polling()
    _say(out, scenario.briefing)
    _say(out, f"procedure: {drill.procedure.key}  (incident {drill.incident_id})")
    _print_steps(drill, out)
    try:
        _repl(drill, sys.stdin, out)
    except KeyboardInterrupt:
        _say(out, "interrupted")
    result = drill.finish()
    _say(out, result.summary())
    _say(out, f"report: runbook-console report {drill.incident_id}")
    return 0 if result.mitigated else 1


def _say(out: TextIO, text: str) -> None:
    print(f"[{BANNER}] {text}", file=out, flush=True)


def _print_event(event: Event, out: TextIO) -> None:
    _say(out, f"{parse_time(event.time):%H:%M:%S} {event.kind}: {event.text}")


def _print_steps(drill: Drill, out: TextIO) -> None:
    for step in drill.procedure.steps:
        codes = "; ".join(c.code for c in step.commands)
        _say(out, f"  {step.index}. {step.title}" + (f"   [{codes}]" if codes else ""))


def _repl(drill: Drill, source: TextIO, out: TextIO) -> None:
    from runbook.drills.runner import DrillError

    interactive = source.isatty()
    while True:
        if interactive:
            print(f"{BANNER}> ", end="", file=out, flush=True)
        line = source.readline()
        if not line:
            return
        words = line.strip().split()
        if not words or words[0].startswith("#"):
            continue
        verb, rest = words[0].casefold(), words[1:]

        def ask(question: str) -> str:
            """The trainee's answer: the next line, as a real incident's prompt reads it."""
            print(f"[{BANNER}] {question}", end="" if interactive else "\n", file=out, flush=True)
            return source.readline().strip()

        try:
            if verb in ("end", "quit", "exit"):
                return
            _act(drill, verb, rest, out, ask)
        except (DrillError, ValueError, IndexError) as error:
            _say(out, f"error: {error}")


def _act(drill: Drill, verb: str, rest: list[str], out: TextIO, ask: Callable[[str], str]) -> None:
    if verb in ("ack", "acknowledge"):
        drill.acknowledge()
    elif verb == "steps":
        _print_steps(drill, out)
    elif verb == "run":
        procedure = " ".join(rest[1:]) or None
        confirmation = _confirm(drill, drill.plan(int(rest[0]), procedure), out, ask)
        result = drill.run_step(int(rest[0]), procedure, confirmation=confirmation)
        for text in result.output_tail[-8:]:
            _say(out, f"    | {text}")
    elif verb in ("done", "skip", "fail"):
        status = {"done": "done", "skip": "skipped", "fail": "failed"}[verb]
        drill.mark(int(rest[0]), status, reason=" ".join(rest[1:]) or None)
    elif verb == "note":
        drill.note(" ".join(rest))
    elif verb == "status":
        state = drill.poll()
        for health in state.health:
            _say(out, f"  {health.path:<9} {'ok' if health.ok else 'FAIL'} {health.detail}")
        for reading in state.readings:
            _say(out, f"  {reading.metric:<24} {reading.display:>9} {reading.state}")
        _say(out, "  mitigated" if drill.mitigated else "  not mitigated yet")
    elif verb == "wait":
        seconds = float(rest[0]) if rest else 60.0
        mitigated = drill.wait_for_mitigation(seconds, interval_s=0.5)
        _say(out, "mitigated" if mitigated else f"not mitigated after {seconds:g}s")
    else:
        raise ValueError(
            f"unknown action {verb!r} (ack, steps, run, done, skip, fail, note, status, wait, end)"
        )


def _confirm(
    drill: Drill, plan: Plan, out: TextIO, ask: Callable[[str], str]
) -> Confirmation | None:
    """The confirmation a real incident asks for, marked DRILL: y/N, or the environment's
    name typed out for production. None when the trainee declines (the step is refused)."""
    from runbook.execution.plan import ConfirmationError

    if not plan.needs_confirmation:
        return None
    for line in plan.describe().splitlines():
        _say(out, f"  {line}")
    try:
        if plan.production:
            typed = ask(f"Type {plan.environment} to run this in production: ")
            return plan.confirm(typed=typed, by=drill.trainee)
        if ask("Run it? [y/N] ").casefold() in ("y", "yes"):
            return plan.confirm(by=drill.trainee)
    except ConfirmationError as error:
        _say(out, f"not confirmed: {error}")
        return None
    _say(out, "declined")
    return None


def _results(directory: Path, as_json: bool) -> int:
    results = load_results(directory)
    if as_json:
        for result in results:
            print(json.dumps(result, ensure_ascii=False))
        return 0
    if not results:
        print(f"no drill results in {directory}")
        return 0
    for r in results:
        first = r.get("time_to_first_action_s")
        mitigation = r.get("time_to_mitigation_s")
        print(
            f"{str(r.get('started_at', '?'))[:19]}  {r.get('scenario', '?'):<18} "
            f"{'mitigated' if r.get('mitigated') else 'NOT mitigated':<13} "
            f"{r.get('points', 0):>3} pts  first action {_secs(first)}  "
            f"mitigation {_secs(mitigation)}  "
            f"followed {r.get('followed', 0)} skipped {r.get('skipped', 0)}"
            f"{'' if r.get('in_order', True) else ' (out of order)'}  "
            f"unhelpful {len(r.get('unhelpful_commands') or [])}  [{r.get('sandbox', '?')}]"
        )
    return 0


def _secs(value: object) -> str:
    return f"{float(value):.0f}s" if isinstance(value, int | float) else "-"
