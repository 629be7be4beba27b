"""Incident and drill widgets the main screen can mount: countdowns, timeline, DRILL banner.

- `DrillBanner`: full-width, unmistakable "DRILL" line while a drill runs.
- `DeadlineCountdown` / `DeadlineBar`: the severity's deadlines as live countdowns
  (ok, amber, red, due), posting `DeadlineDue` (console.messages) once per deadline.
- `TimelinePane`: the incident's timeline with a filter (`kind:step- actor:bob text`).
- `IncidentPanel`: the three together, following an incident file in the state dir.
- `IncidentScreen` (console.incident.screen): the panel full screen with the actions
  (a acknowledge, e escalate, n note, m mitigated, c close, r report).
- `IncidentCommands` (console.incident.commands): palette provider, "incident: Start P1 …".
- `DrillScreen` (console.incident.drill_screen): a drill from start to score, DRILL banner on top.
"""

from console.incident.banner import DrillBanner
from console.incident.deadlines import DeadlineBar, DeadlineCountdown
from console.incident.panel import IncidentPanel
from console.incident.timeline import TimelinePane, parse_filter

__all__ = [
    "DeadlineBar",
    "DeadlineCountdown",
    "DrillBanner",
    "IncidentPanel",
    "TimelinePane",
    "parse_filter",
]
