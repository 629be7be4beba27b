"""Palette commands for incidents and drills: add `IncidentCommands` to the app's COMMANDS.

"incident: Start P1 …" for each severity of the runbook, "incident: Open current",
"drill: Start SCENARIO" for each scenario whose procedure the runbook has. The app
needs `runbook` (a Runbook) and, optionally, `environment`; both exist on
RunbookConsole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider

from runbook.incident.model import Incident, IncidentError, open_incident
from runbook.incident.store import IncidentStore

if TYPE_CHECKING:
    from runbook.config import Config
    from runbook.model import Runbook

Command = tuple[str, str, Callable[[], object]]


class IncidentBridgeActions(Protocol):
    """The console's incident bridge (`app.incidents`), as far as the palette uses it."""

    @property
    def incident(self) -> Incident | None: ...
    def start(self, level: str) -> None: ...
    def acknowledge(self, because: str = "") -> bool: ...
    def open_current(self) -> None: ...


class IncidentKeys(Protocol):
    """The main screen's incident actions (`app.main_screen`), offered in the palette too."""

    def action_escalate(self) -> None: ...
    def action_incident(self) -> None: ...


class IncidentCommands(Provider):
    """Start an incident at any severity of the runbook, or reopen the current one."""

    def _runbook(self) -> Runbook | None:
        runbook: Runbook | None = getattr(self.app, "runbook", None)
        return runbook

    def _bridge(self) -> IncidentBridgeActions | None:
        bridge: IncidentBridgeActions | None = getattr(self.app, "incidents", None)
        return bridge

    def _commands(self) -> Iterator[Command]:
        runbook = self._runbook()
        if runbook is None:
            return
        for severity in runbook.severities:
            yield (
                f"incident: Start {severity.level} {severity.title}",
                f"Open an incident; deadlines and checklist from {severity.procedure}",
                partial(self._start, severity.level),
            )
        yield ("incident: Open current", "The newest open incident", self._open_current)
        bridge = self._bridge()
        screen: IncidentKeys | None = getattr(self.app, "main_screen", None)
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
        incident = store.load(incident_id)
        runbook = self._runbook()
        procedure = runbook.procedure(incident.procedure) if runbook is not None else None
        # Acknowledging and escalating tick the procedure's steps for them in the timeline.
        self.app.push_screen(IncidentScreen(incident, store, procedure=procedure))

    def _start(self, level: str) -> None:
        # A console with an incident bridge shows the incident beside its checklist.
        bridge = self._bridge()
        if bridge is not None:
            bridge.start(level)
            return
        runbook = self._runbook()
        if runbook is None:
            return
        environment: str | None = getattr(self.app, "environment", None)
        incident = open_incident(runbook, level, environment=environment)
        self._store().save(incident)
        self._push(incident.id)

    def _drill(self, name: str) -> None:
        from pathlib import Path

        from console.incident.drill_screen import DrillScreen
        from runbook.drills.runner import Drill, drills_dir, new_drill_id
        from runbook.drills.sandboxes import open_sandbox
        from runbook.drills.scenarios import find_scenario

        runbook = self._runbook()
        if runbook is None:
            return
        # The console's own config: its state dir and the gauges' hysteresis.
        settings = getattr(self.app, "settings", None)
        config: Config | None = getattr(settings, "config", None)
        drill_id = new_drill_id()
        repo_root = Path(__file__).resolve().parents[2]
        sandbox = open_sandbox(drill_id, repo_root, drills_dir(config) / drill_id)
        drill = Drill(find_scenario(name), runbook, sandbox=sandbox, config=config)
        self.app.push_screen(DrillScreen(drill))

    def _open_current(self) -> None:
        bridge = self._bridge()
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
