"""The Markdown incident report: written from the incident's timeline, secrets masked.

Sections: summary, severity and deadlines, durations (time to acknowledge, to
mitigate, to resolve), the timeline in time order, every command with its exit
status and masked output excerpt, gauges at open and at close, and the
deployments recorded while the incident was open.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runbook.execution.masking import Masker
from runbook.incident.deployments import deployments_between
from runbook.incident.model import Incident
from runbook.incident.timeline import ordered, parse_time


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
) -> str:
    """The report as Markdown.

    Args:
        incident: the incident (open or closed).
        masker: masks secrets in everything written (default: masks nothing extra).
        deployments: deploy records during the incident; read from `history_path` if None.
        history_path: the deployments.jsonl to read when `deployments` is None.
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

    durations = incident.durations()
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
        f"| Time to acknowledge | {format_duration(durations['acknowledge'])} |",
        f"| Time to mitigate | {format_duration(durations['mitigate'])} |",
        f"| Time to resolve | {format_duration(durations['resolve'])} |",
    ]

    end = parse_time(incident.closed_at) if incident.closed_at else None
    deadlines = incident.deadlines(end) if end else incident.deadlines()
    if deadlines:
        lines += ["", "## Deadlines", "", "| Deadline | Due | Outcome |", "|---|---|---|"]
        for deadline in deadlines:
            outcome = str(deadline.state(end) if end else deadline.state(deadline.due_at))
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
        output = [mask(str(line)) for line in data.get("output") or []]
        if output:
            lines += ["", "Output (last lines):", "", "```text", *output, "```"]
        lines.append("")

    lines += ["", "## Gauges", ""]
    lines += _gauge_table(incident.gauges_open, incident.gauges_close)

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


def _gauge_table(at_open: list[dict[str, Any]], at_close: list[dict[str, Any]]) -> list[str]:
    if not at_open and not at_close:
        return ["No gauge readings were taken."]
    metrics: list[str] = []
    for reading in (*at_open, *at_close):
        if reading.get("metric") not in metrics:
            metrics.append(str(reading.get("metric")))
    opened = {r.get("metric"): r for r in at_open}
    closed = {r.get("metric"): r for r in at_close}
    rows = ["| Metric | At open | At close | Source |", "|---|---|---|---|"]
    for metric in metrics:
        first, last = opened.get(metric), closed.get(metric)
        source = (last or first or {}).get("source", "")
        rows.append(f"| {metric} | {_reading(first)} | {_reading(last)} | {_cell(source)} |")
    return rows


def _reading(reading: dict[str, Any] | None) -> str:
    if not reading:
        return "-"
    value, unit = reading.get("value"), reading.get("unit", "")
    if value is None:
        return "no data"
    shown = f"{value * 1000:.0f}ms" if unit == "s" else f"{value:.1f}{unit}"
    return f"{shown} ({reading.get('state')})"
