"""`runbook-console incident ...`: open, acknowledge, escalate, note, close and list incidents.

    runbook-console incident start --severity P1 [--title T] [--env ENV] [--base-url URL] [PATH]
    runbook-console incident status [ID]        deadlines as countdowns, recent-deploy hint
    runbook-console incident ack [ID]           acknowledge (timestamped)
    runbook-console incident escalate [ID] [--to WHO]
    runbook-console incident severity [ID] LEVEL
    runbook-console incident note [ID] TEXT
    runbook-console incident step [ID] N done|skipped|failed [--reason R]
    runbook-console incident run [ID] N [--env ENV] [--confirm ENV] [--var K=V]
    runbook-console incident mitigated [ID] [--base-url URL]
    runbook-console incident close [ID] --resolution TEXT [--base-url URL]
    runbook-console incident list
    runbook-console incident timeline [ID] [--kind K ...] [--actor A] [--grep TEXT] [--json]

ID defaults to the newest open incident; a unique prefix is enough. `start`,
`mitigated` and `close` record the gauges at that moment when the service answers.
`ack` ticks the checklist's acknowledge step, and ticking that step acknowledges.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.cli._common import CliError, load_settings
from console.cli._incident_common import load_runbook, store
from runbook.incident import actions
from runbook.incident.deployments import deployment_hint
from runbook.incident.model import Incident, IncidentError, find_severity, open_incident
from runbook.incident.report import duration_text
from runbook.incident.store import IncidentStore
from runbook.incident.timeline import EVENT_KINDS, Event, filter_events, now_utc, parse_time
from runbook.model import Procedure, Runbook, Step

if TYPE_CHECKING:
    from runbook.drills.checks import ContainerFigures
    from runbook.sources.docker.containers import ContainerInfo
    from runbook.sources.docker.stats import ContainerStats
    from runbook.sources.settings import SourceSettings

NAME = "incident"
HELP = "Incident mode: start, acknowledge, escalate, note, close; deadlines and timeline."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="config file to use")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    start = actions.add_parser("start", help="open an incident at a severity of the runbook")
    start.add_argument("path", metavar="PATH", nargs="?", help="the runbook")
    start.add_argument("--severity", "-s", required=True, help="P1, P2, ... as the runbook says")
    start.add_argument("--title", "-t", help="one line saying what is wrong")
    start.add_argument("--env", "-e", metavar="ENV", help="affected environment")
    start.add_argument(
        "--base-url",
        metavar="URL",
        help="take gauges at open from URL/metrics (default: the environment's base URL)",
    )

    for name, text in (
        ("status", "deadlines, countdowns and the recent-deployment hint"),
        ("ack", "acknowledge the incident (ticks the checklist's acknowledge step)"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("id", metavar="ID", nargs="?")
    mitigated = actions.add_parser("mitigated", help="record that the impact is mitigated")
    mitigated.add_argument("id", metavar="ID", nargs="?")
    mitigated.add_argument(
        "--base-url", metavar="URL", help="take gauges at mitigation from URL/metrics"
    )
    escalate = actions.add_parser("escalate", help="record an escalation")
    escalate.add_argument("id", metavar="ID", nargs="?")
    escalate.add_argument("--to", metavar="WHO", help="who it went to")

    severity = actions.add_parser("severity", help="change the severity")
    severity.add_argument("args", nargs="+", metavar="[ID] LEVEL")

    note = actions.add_parser("note", help="add an operator note to the timeline")
    note.add_argument("args", nargs="+", metavar="[ID] TEXT")

    step = actions.add_parser("step", help="record a checklist step as done, skipped or failed")
    step.add_argument("args", nargs="+", metavar="[ID] N STATUS")
    step.add_argument("--reason", help="why it was skipped or failed")

    run_step = actions.add_parser(
        "run", help="run a step of the incident's checklist; the command joins the timeline"
    )
    run_step.add_argument("args", nargs="+", metavar="[ID] N")
    run_step.add_argument("--env", "-e", metavar="ENV", help="target environment")
    run_step.add_argument("--confirm", metavar="ENV", help="confirm without a terminal")
    run_step.add_argument("--var", action="append", default=[], metavar="K=V")

    close = actions.add_parser("close", help="close with a resolution")
    close.add_argument("id", metavar="ID", nargs="?")
    close.add_argument("--resolution", "-r", required=True)
    close.add_argument("--base-url", metavar="URL", help="take gauges at close from URL/metrics")

    listing = actions.add_parser("list", help="every incident, newest last")
    listing.add_argument("--json", action="store_true")

    timeline = actions.add_parser("timeline", help="print the timeline, filtered")
    timeline.add_argument("id", metavar="ID", nargs="?")
    timeline.add_argument(
        "--kind", action="append", metavar="KIND", help=f"one of {', '.join(EVENT_KINDS)}"
    )
    timeline.add_argument("--actor")
    timeline.add_argument("--grep", metavar="TEXT")
    timeline.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    incidents = store(settings)
    try:
        handler = _HANDLERS[args.action]
        return handler(args, incidents)
    except IncidentError as error:
        raise CliError(str(error), 1) from None


def _start(args: argparse.Namespace, incidents: IncidentStore) -> int:
    runbook = load_runbook(args.path)
    incident = open_incident(runbook, args.severity, title=args.title, environment=args.env)
    readings = _gauges(runbook, args.base_url, args.env, args.config)
    if readings:
        incident.record_readings("open", readings)
    incidents.save(incident)
    level = f"{incident.severity} {incident.severity_title}"
    suffix = "" if incident.title == level else f" ({level})"
    print(f"{incident.id} opened: {incident.title}{suffix}")
    print(f"checklist: {incident.procedure}")
    _print_deadlines(incident, now_utc())
    hint = deployment_hint(runbook, incident.procedure, now_utc())
    if hint:
        print(f"hint: {hint.text}")
    return 0


def _gauges(
    runbook: Runbook, base_url: str | None, environment: str | None, config_file: str | None
) -> list[dict[str, Any]]:
    """The gauges now, from the sources the console's gauges pane reads: the environment's
    Prometheus when it has one, else the service's /metrics and probes (the given URL, else
    the environment's when it answers) and, for the environment's own service, CPU and
    memory from its engines' containers (a swarm's services are not summed here: no data)."""
    from runbook.config import ConfigError
    from runbook.drills.embedded import service_reachable
    from runbook.sources.settings import load_source_settings

    try:
        settings = load_source_settings(environment, config_file)
    except ConfigError:
        settings = None
    if settings is not None and settings.prometheus_url and base_url is None:
        return _prometheus_gauges(runbook, settings)
    if base_url is None:
        if settings is None:
            return []
        base_url = settings.base_url
        if not service_reachable(base_url):
            print(f"gauges: no service answers at {base_url}; none recorded")
            return []
    from runbook.drills.checks import gauge_snapshot

    figures = None
    if settings is not None and base_url == settings.base_url and settings.orchestrator != "swarm":
        figures = _container_figures(settings)
    return list(gauge_snapshot(runbook, base_url, container_figures=figures))


def _container_figures(settings: SourceSettings) -> ContainerFigures:
    """CPU and memory as the containers pane gives them to the gauges: every running container
    of the environment's engines that its name filter keeps, read once."""
    from runbook.sources.docker.engine import Engine
    from runbook.sources.docker.stats import read_once

    def figures() -> tuple[list[ContainerStats], dict[str, ContainerInfo]]:
        stats: list[ContainerStats] = []
        rows: dict[str, ContainerInfo] = {}
        for host in settings.resolved_docker_hosts:
            engine = Engine(host, timeout_s=settings.docker_timeout_s)
            found, listed = read_once(engine, settings.containers, settings.docker_timeout_s)
            stats += found
            rows.update(listed)
        return stats, rows

    return figures


def _prometheus_gauges(runbook: Runbook, settings: SourceSettings) -> list[dict[str, Any]]:
    """One round of the gauges pane's Prometheus queries (errors read as no data, never 0)."""
    from runbook.incident.events import reading_record
    from runbook.sources.gauges import gauges_for
    from runbook.sources.prometheus import PrometheusSource

    assert settings.prometheus_url
    source = PrometheusSource(
        settings.prometheus_url,
        timeout_s=settings.prometheus_timeout_s,
        retries=settings.prometheus_retries,
        settings=settings,
    )
    try:
        readings = source.read(runbook.thresholds)
    finally:
        source.close()
    gauges = gauges_for(runbook, hysteresis=settings.hysteresis)
    return [
        reading_record(gauge.update(reading))
        for gauge, reading in zip(gauges, readings, strict=True)
    ]


def _print_deadlines(incident: Incident, now: datetime) -> None:
    for deadline in incident.deadlines(now):
        print(f"  {deadline.label:<45} {deadline.state(now):<6} {deadline.countdown(now)}")


def _status(args: argparse.Namespace, incidents: IncidentStore) -> int:
    now = now_utc()
    incident = incidents.update(args.id, lambda i: i.check_deadlines(now))
    print(f"{incident.id}  {incident.status}  {incident.severity} {incident.severity_title}")
    print(f"  {incident.title}")
    print(f"  checklist: {incident.procedure}")
    _print_deadlines(incident, now)
    for name in incident.durations():
        print(f"  time to {name}: {duration_text(incident, name)}")
    if incident.is_open and incident.runbook_path and Path(incident.runbook_path).is_file():
        runbook = load_runbook(incident.runbook_path)
        hint = deployment_hint(runbook, incident.procedure, now)
        if hint:
            print(f"  hint: {hint.text}")
    return 0


def _checklist(incident: Incident) -> Procedure | None:
    """The incident's procedure as its runbook has it now (None when the file is gone)."""
    if not incident.runbook_path or not Path(incident.runbook_path).is_file():
        return None
    return load_runbook(incident.runbook_path).procedure(incident.procedure)


def _ack(args: argparse.Namespace, incidents: IncidentStore) -> int:
    procedure = _checklist(incidents.load(incidents.resolve_id(args.id)))
    recorded: list[Event] = []
    incident = incidents.update(
        args.id, lambda i: recorded.extend(actions.acknowledge(i, procedure))
    )
    print(f"{incident.id} acknowledged at {incident.acknowledged_at} by {incident.acknowledged_by}")
    _print_ticked(incident, recorded)
    return 0


def _escalate(args: argparse.Namespace, incidents: IncidentStore) -> int:
    procedure = _checklist(incidents.load(incidents.resolve_id(args.id)))
    recorded: list[Event] = []
    incident = incidents.update(
        args.id, lambda i: recorded.extend(actions.escalate(i, procedure, to=args.to))
    )
    print(f"{incident.id} escalated{' to ' + args.to if args.to else ''}")
    _print_ticked(incident, recorded)
    return 0


def _print_ticked(incident: Incident, recorded: list[Event]) -> None:
    for event in recorded[1:]:
        print(f"{incident.id}: {event.text}")


def _split_id(values: list[str], rest: int) -> tuple[str | None, list[str]]:
    """`[ID] A B`: the optional leading id and the `rest` required values."""
    if len(values) > rest:
        return values[0], values[1:]
    if len(values) < rest:
        raise CliError(f"expected {rest} value(s), got {len(values)}", 2)
    return None, values


def _numbered_step(procedure: Procedure | None, number: str) -> Step | None:
    """The step whose number the operator typed, if the procedure has one."""
    if procedure is None or not number.isdecimal():
        return None
    return procedure.step_at(int(number))


def _severity(args: argparse.Namespace, incidents: IncidentStore) -> int:
    incident_id, (level,) = _split_id(args.args, 1)
    current = incidents.load(incidents.resolve_id(incident_id))
    if not current.runbook_path:
        raise CliError("this incident has no runbook to take severities from", 2)
    severity = find_severity(load_runbook(current.runbook_path), level)
    incident = incidents.update(current.id, lambda i: i.change_severity(severity))
    print(f"{incident.id} is now {incident.severity}; checklist: {incident.procedure}")
    return 0


def _note(args: argparse.Namespace, incidents: IncidentStore) -> int:
    if len(args.args) >= 2 and args.args[0].startswith("INC-"):
        incident_id, text = args.args[0], " ".join(args.args[1:])
    else:
        incident_id, text = None, " ".join(args.args)
    incident = incidents.update(incident_id or "current", lambda i: i.note(text))
    print(f"{incident.id}: note recorded")
    return 0


def _step(args: argparse.Namespace, incidents: IncidentStore) -> int:
    incident_id, (number, status) = _split_id(args.args, 2)
    current = incidents.load(incidents.resolve_id(incident_id))
    if not number.isdecimal():
        raise CliError(f"not a step number: {number!r}", 2)
    procedure = _checklist(current)
    recorded: list[Event] = []
    try:
        incidents.update(
            current.id,
            lambda i: recorded.extend(
                actions.mark_step(i, procedure, int(number), status, reason=args.reason)
            ),
        )
    except ValueError as error:
        if isinstance(error, IncidentError):
            raise
        raise CliError(str(error), 2) from None
    for event in recorded:
        print(f"{current.id}: {event.text}")
    return 0


def _run(args: argparse.Namespace, incidents: IncidentStore) -> int:
    """The `run` subcommand's walker (confirmation, streaming, audit) with a recording reporter."""
    from console.cli import run as run_cli
    from runbook.incident.events import IncidentReporter, masker_for

    incident_id, (number,) = _split_id(args.args, 1)
    current = incidents.load(incidents.resolve_id(incident_id))
    if not current.runbook_path:
        raise CliError("this incident has no runbook", 2)
    runbook = load_runbook(current.runbook_path)
    procedure = runbook.procedure(current.procedure)
    step = _numbered_step(procedure, number)
    if procedure is None or step is None:
        raise CliError(f"{current.procedure!r} has no step {number}", 2)
    if not step.commands:
        raise CliError(
            f"step {number} has no command; record it with: incident step {number} done", 2
        )
    options = argparse.Namespace(
        path=current.runbook_path,
        procedure=procedure.key,
        step=step.index,
        env=args.env or current.environment,
        dry_run=False,
        var=args.var,
        confirm=args.confirm,
        resume=False,
        config=args.config,
    )
    walker = run_cli._Walker(
        options, load_settings(args.config), runbook, procedure, run_cli.parse_vars(args.var)
    )
    walker.reporter = IncidentReporter(
        lambda event: incidents.append(current.id, event),
        inner=walker.reporter,
        masker=masker_for(walker.config),
    )
    code = walker.walk([step])
    if code in (0, 1):
        status = "done" if code == 0 else "failed"
        incidents.update(current.id, lambda i: actions.mark_step(i, procedure, step.index, status))
    return code


def _readings_now(incident: Incident, base_url: str | None, config: str | None) -> list[Any]:
    """The gauges for the incident's runbook and environment, if a service answers."""
    if not incident.runbook_path or not Path(incident.runbook_path).is_file():
        return []
    runbook = load_runbook(incident.runbook_path)
    return _gauges(runbook, base_url, incident.environment, config)


def _mitigated(args: argparse.Namespace, incidents: IncidentStore) -> int:
    current = incidents.load(incidents.resolve_id(args.id))
    readings = _readings_now(current, args.base_url, args.config) if current.is_open else []

    def mitigate(incident: Incident) -> None:
        first = incident.mitigated_at is None
        incident.mitigate()
        if first and readings:
            incident.record_readings("mitigation", readings)

    incident = incidents.update(current.id, mitigate)
    print(f"{incident.id} mitigated at {incident.mitigated_at}")
    return 0


def _close(args: argparse.Namespace, incidents: IncidentStore) -> int:
    current = incidents.load(incidents.resolve_id(args.id))
    if not args.resolution.strip():
        raise CliError("closing needs a resolution", 2)
    readings = _readings_now(current, args.base_url, args.config) if current.is_open else []

    def close(incident: Incident) -> None:
        if incident.is_open and readings:
            incident.record_readings("close", readings)
        incident.close(args.resolution)

    incident = incidents.update(current.id, close)
    print(
        f"{incident.id} closed: {incident.resolution} "
        f"(acknowledged {duration_text(incident, 'acknowledge')}, "
        f"mitigated {duration_text(incident, 'mitigate')}, "
        f"resolved {duration_text(incident, 'resolve')})"
    )
    print(f"report: runbook-console report {incident.id}")
    return 0


def _list(args: argparse.Namespace, incidents: IncidentStore) -> int:
    found = incidents.list()
    if args.json:
        for incident in found:
            summary = {k: v for k, v in incident.to_dict().items() if k != "events"}
            print(json.dumps(summary, ensure_ascii=False))
        return 0
    if not found:
        print(f"no incidents in {incidents.directory}")
    for incident in found:
        drill = " DRILL" if incident.drill else ""
        print(
            f"{incident.id}  {incident.status:<9} {incident.severity:<3} "
            f"{parse_time(incident.opened_at):%Y-%m-%d %H:%M}{drill}  {incident.title}"
        )
    return 0


def _timeline(args: argparse.Namespace, incidents: IncidentStore) -> int:
    incident = incidents.load(incidents.resolve_id(args.id or "latest"))
    events = filter_events(incident.events, kinds=args.kind, actor=args.actor, text=args.grep)
    for event in events:
        if args.json:
            print(json.dumps(event.to_dict(), ensure_ascii=False))
        else:
            stamp = f"{parse_time(event.time):%H:%M:%S}"
            print(f"{stamp}  {event.actor:<12} {event.kind:<18} {event.text}")
    return 0


_HANDLERS = {
    "start": _start,
    "status": _status,
    "ack": _ack,
    "escalate": _escalate,
    "severity": _severity,
    "note": _note,
    "step": _step,
    "run": _run,
    "mitigated": _mitigated,
    "close": _close,
    "list": _list,
    "timeline": _timeline,
}
