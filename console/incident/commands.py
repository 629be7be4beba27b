"""Palette commands for incidents and drills: add `IncidentCommands` to the app's COMMANDS.

"incident: Start P1 …" for each severity of the runbook, "incident: Open current",
"drill: Start SCENARIO" for each scenario whose procedure the runbook has. The app
needs `runbook` (a Runbook) and, optionally, `environment`; both exist on
RunbookConsole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from runbook.incident.model import IncidentError, open_incident
from runbook.incident.store import IncidentStore

Command = tuple[str, str, Callable[[], object]]


class IncidentCommands(Provider):
    """Start an incident at any severity of the runbook, or reopen the current one."""

    def _commands(self) -> Iterator[Command]:
        runbook = getattr(self.app, "runbook", None)
        if runbook is None:
            return
        for severity in runbook.severities:
            yield (
                f"incident: Start {severity.level} {severity.title}",
                f"Open an incident; deadlines and checklist from {severity.procedure}",
                partial(self._start, severity.level),
            )
        yield ("incident: Open current", "The newest open incident", self._open_current)
        bridge = getattr(self.app, "incidents", None)
        screen = getattr(self.app, "main_screen", None)
        if bridge is not None and bridge.incident is not None and screen is not None:
            yield (
                "incident: Acknowledge",
                "Stop the acknowledge countdown (a)",
                bridge.acknowledge,
            )
            yield ("incident: Escalate…", "Record an escalation (e)", screen.action_escalate)
            yield (
                "incident: Timeline",
                "Timeline, note, mitigated, close, report (i)",
                screen.action_incident,
            )
        from runbook.drills.scenarios import SCENARIOS

        for scenario in SCENARIOS:
            if runbook.procedure(scenario.procedure) is not None:
                yield (
                    f"drill: Start {scenario.name}",
                    f"DRILL in a sandbox: {scenario.title}",
                    partial(self._drill, scenario.name),
                )

    def _store(self) -> IncidentStore:
        return IncidentStore()

    def _push(self, incident_id: str) -> None:
        from console.incident.screen import IncidentScreen

        store = self._store()
        self.app.push_screen(IncidentScreen(store.load(incident_id), store))

    def _start(self, level: str) -> None:
        # A console with an incident bridge shows the incident beside its checklist.
        bridge = getattr(self.app, "incidents", None)
        if bridge is not None:
            bridge.start(level)
            return
        runbook = getattr(self.app, "runbook", None)
        if runbook is None:
            return
        incident = open_incident(runbook, level, environment=getattr(self.app, "environment", None))
        self._store().save(incident)
        self._push(incident.id)

    def _drill(self, name: str) -> None:
        from pathlib import Path

        from console.incident.drill_screen import DrillScreen
        from runbook.drills.runner import Drill, drills_dir, new_drill_id
        from runbook.drills.sandboxes import open_sandbox
        from runbook.drills.scenarios import find_scenario

        drill_id = new_drill_id()
        repo_root = Path(__file__).resolve().parents[2]
        sandbox = open_sandbox(drill_id, repo_root, drills_dir() / drill_id)
        drill = Drill(find_scenario(name), self.app.runbook, sandbox=sandbox)  # type: ignore[attr-defined]
        self.app.push_screen(DrillScreen(drill))

    def _open_current(self) -> None:
        bridge = getattr(self.app, "incidents", None)
        if bridge is not None:
            bridge.open_current()
            return
        try:
            self._push(self._store().resolve_id(None))
        except IncidentError as error:
            self.app.notify(str(error), severity="warning")

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
