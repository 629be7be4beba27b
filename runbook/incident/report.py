"""The Markdown incident report: written from the incident's timeline, secrets masked.

Sections: summary, severity and deadlines, durations (time to acknowledge, to
mitigate, to resolve), the timeline in time order, every command with its exit
status and masked output excerpt, the gauges at open, at mitigation and at close
(the incident's `readings` events), and the deployments recorded while the
incident was open.

`build_report` is the one entry point: the TUI's `r` and `runbook-console report`
both call it, so the same incident gives the same report (deployments read from
the runbook repository's history, the operator's masking rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runbook.execution.history import history_file
from runbook.execution.masking import Masker
from runbook.incident.deployments import deployments_between
from runbook.incident.events import READING_MOMENTS, format_reading, masker_for
from runbook.incident.model import Incident
from runbook.incident.timeline import now_utc, ordered, parse_time
from runbook.sources.probe import without_probes
from runbook.storage import paths

if TYPE_CHECKING:
    from runbook.config import Config


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "not yet"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def duration_text(incident: Incident, name: str) -> str:
    """A duration of `Incident.durations`, or why there is none: "not yet" while the
    incident is open, "not recorded" once it closed without it (never invented)."""
    seconds = incident.durations()[name]
    if seconds is None and not incident.is_open:
        return "not recorded"
    return format_duration(seconds)


def build_report(
    incident: Incident,
    *,
    config: Config | None = None,
    history_path: Path | None = None,
    now: datetime | None = None,
) -> str:
    """The incident's report, the same for every caller (the TUI, the CLI).

    Args:
        incident: the incident as its file has it.
        config: the operator's settings (secret names and patterns to mask).
        history_path: the deployments.jsonl; default: the runbook repository's.
        now: the moment an open incident's deadlines are judged at (default: now).
    """
    if history_path is None and not incident.drill:
        history_path = history_file(paths.repository_root(incident.runbook_path))
    return render(incident, masker=masker_for(config), history_path=history_path, now=now)


def _clock(iso_time: str) -> str:
    return parse_time(iso_time).strftime("%Y-%m-%d %H:%M:%S UTC")


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def render(
    incident: Incident,
    *,
    masker: Masker | None = None,
    deployments: Iterable[dict[str, Any]] | None = None,
    history_path: Path | None = None,
    now: datetime | None = None,
) -> str:
    """The report as Markdown (`build_report` finds the history and masking rules).

    Args:
        incident: the incident (open or closed).
        masker: masks secrets in everything written (default: masks nothing extra).
        deployments: deploy records during the incident; read from `history_path` if None.
        history_path: the deployments.jsonl to read when `deployments` is None.
        now: the moment an open incident's deadlines are judged at (default: now).
    """
    mask = (masker or Masker()).mask
    if deployments is None and incident.drill:
        # A drill's deploys are its sandbox's, recorded on its timeline; never the real history.
        start = parse_time(incident.opened_at)
        deployments = [
            e.data for e in ordered(incident.events) if e.kind == "deployment" and e.moment >= start
        ]
    if deployments is None:
        deployments = (
            deployments_between(
                history_path,
                parse_time(incident.opened_at),
                parse_time(incident.closed_at) if incident.closed_at else None,
            )
            if history_path is not None
            else []
        )
    drill = " (DRILL)" if incident.drill else ""
    lines: list[str] = [f"# Incident report: {mask(incident.title)}{drill}", ""]
    if incident.drill:
        lines += [f"> **DRILL** {incident.drill}: a training exercise against a sandbox.", ""]

    lines += [
        "## Summary",
        "",
        f"- **Incident:** {incident.id}",
        f"- **Status:** {incident.status}",
        f"- **Severity:** {incident.severity} {incident.severity_title}",
        f"- **Opened:** {_clock(incident.opened_at)} by {incident.opened_by}",
        f"- **Closed:** {_clock(incident.closed_at) if incident.closed_at else 'still open'}",
        f"- **Resolution:** {mask(incident.resolution or 'none yet')}",
        f"- **Procedure:** {incident.procedure}",
    ]
    if incident.environment:
        lines.append(f"- **Environment:** {incident.environment}")
    if incident.runbook_path:
        lines.append(f"- **Runbook:** {incident.runbook_path} (sha256 {incident.runbook_sha256})")
    if incident.alert:
        labels = ", ".join(f"{k}={v}" for k, v in (incident.alert.get("labels") or {}).items())
        lines.append(f"- **Alert:** {incident.alert.get('name')} {labels}".rstrip())
    lines += ["", "## Durations", "", "| Measure | Time since opened |", "|---|---|"]
    lines += [
        f"| Time to acknowledge | {duration_text(incident, 'acknowledge')} |",
        f"| Time to mitigate | {duration_text(incident, 'mitigate')} |",
        f"| Time to resolve | {duration_text(incident, 'resolve')} |",
    ]

    judged = parse_time(incident.closed_at) if incident.closed_at else (now or now_utc())
    deadlines = incident.deadlines(judged)
    if deadlines:
        lines += ["", "## Deadlines", "", "| Deadline | Due | Outcome |", "|---|---|---|"]
        for deadline in deadlines:
            outcome = _OUTCOMES.get(deadline.state(judged), "counting")
            lines.append(
                f"| {deadline.label} | {deadline.due_at.strftime('%H:%M:%S UTC')} | {outcome} |"
            )

    lines += ["", "## Timeline", "", "| Time (UTC) | Actor | Event |", "|---|---|---|"]
    for event in ordered(incident.events):
        stamp = parse_time(event.time).strftime("%H:%M:%S")
        lines.append(
            f"| {stamp} | {_cell(mask(event.actor))} | {event.kind}: {_cell(mask(event.text))} |"
        )

    commands = [e for e in ordered(incident.events) if e.kind == "command"]
    lines += ["", "## Commands", ""]
    if not commands:
        lines.append("No command was run from the console.")
    for number, event in enumerate(commands, start=1):
        data = event.data
        exit_code = data.get("exit_code")
        status = data.get("status", "?")
        outcome = f"exit {exit_code}" if exit_code is not None else str(status)
        where = f"step {data.get('step')} of {data.get('procedure')}" if data.get("step") else ""
        lines += [
            f"### {number}. {parse_time(event.time).strftime('%H:%M:%S')} "
            f"{outcome} ({status}) by {mask(event.actor)}",
            "",
            f"{where}, environment {data.get('environment') or '?'}"
            + (f", {data.get('reason')}" if data.get("reason") else ""),
            "",
            "```bash",
            *(mask(str(code)) for code in data.get("commands") or []),
            "```",
        ]
        # The console's own probes in a log excerpt are noise (recorded before they were
        # left out at recording time, or by an older console).
        kept, _probes = without_probes(str(line) for line in data.get("output") or [])
        output = [mask(line) for line in kept]
        if output:
            lines += ["", "Output (last lines):", "", "```text", *output, "```"]
        lines.append("")

    lines += ["", "## Gauges", ""]
    lines += _gauge_table(_readings_by_moment(incident))

    lines += ["", "## Deployments during the incident", ""]
    deployment_list = list(deployments)
    if not deployment_list:
        lines.append("None recorded.")
    else:
        lines += [
            "| Time | Action | Environment | Versions | Outcome | By |",
            "|---|---|---|---|---|---|",
        ]
        for r in deployment_list:
            lines.append(
                f"| {_cell(r.get('time'))} | {_cell(r.get('action'))} | "
                f"{_cell(r.get('environment'))} | "
                f"{_cell(r.get('from_version') or '?')} -> {_cell(r.get('to_version') or '?')} | "
                f"{_cell(r.get('outcome'))} | {_cell(r.get('user'))} |"
            )
    return "\n".join(lines).rstrip() + "\n"


_OUTCOMES = {
    "met": "done in time",
    "late": "done late",
    "moot": "not needed: resolved in time",
    "missed": "not done: resolved after the deadline",
    "due": "not done: deadline passed",
}
"""A deadline's outcome in words; one still counting down is "counting"."""


def _readings_by_moment(incident: Incident) -> dict[str, list[Mapping[str, Any]]]:
    """The gauges at open, mitigation and close: the last `readings` event of each moment
    (incidents recorded before those events keep theirs in gauges_open/gauges_close)."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for event in ordered(incident.events):
        if event.kind == "readings":
            found[str(event.data.get("moment"))] = list(event.data.get("readings") or [])
    if "open" not in found and incident.gauges_open:
        found["open"] = list(incident.gauges_open)
    if "close" not in found and incident.gauges_close:
        found["close"] = list(incident.gauges_close)
    return found


def _gauge_table(by_moment: dict[str, list[Mapping[str, Any]]]) -> list[str]:
    if not any(by_moment.values()):
        return ["No gauge readings were taken."]
    moments = [m for m in READING_MOMENTS if m in by_moment]
    moments += [m for m in by_moment if m not in moments]
    metrics: list[str] = []
    for moment in moments:
        for reading in by_moment[moment]:
            if str(reading.get("metric")) not in metrics:
                metrics.append(str(reading.get("metric")))
    indexed = {m: {str(r.get("metric")): r for r in by_moment[m]} for m in moments}
    header = " | ".join(f"At {moment}" for moment in moments)
    rows = [f"| Metric | {header} | Source |", "|---" * (len(moments) + 2) + "|"]
    for metric in metrics:
        cells = [indexed[m].get(metric) for m in moments]
        source = next((c.get("source") for c in reversed(cells) if c and c.get("source")), "")
        shown = " | ".join(format_reading(c) if c else "-" for c in cells)
        rows.append(f"| {_cell(metric)} | {shown} | {_cell(source)} |")
    return rows
