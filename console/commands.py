"""The command palette's runbook commands, named "area: verb" and offered only where they apply."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.screens.main import MainScreen
from console.text import literal

Command = tuple[str, str, Callable[[], object]]
"""(title, help, callback)."""


def incident_commands() -> type[Provider]:
    """The incident palette provider, imported when the palette first opens (not for the
    first frame)."""
    from console.incident.commands import IncidentCommands

    return IncidentCommands


class RunbookCommands(Provider):
    """Step, runbook, procedure and view commands for the main screen."""

    def _commands(self) -> Iterator[Command]:
        main = self.screen
        if not isinstance(main, MainScreen):
            return
        run_action = self.app.run_action
        step = main.step_list.current_step
        if step is not None:
            mutating = step.risk != "read-only"
            if step.commands and not (main.read_only and mutating):
                yield (
                    "step: Run selected",
                    f"Run step {step.index}: {step.title}",
                    main.action_run,
                )
            if step.commands:
                yield (
                    "step: Dry-run selected",
                    "Show the resolved commands; start nothing",
                    main.action_dry_run,
                )
            yield ("step: Tick or untick", "Mark the step done, or pending again", main.action_tick)
            yield ("step: Skip with reason", "Skip the step and say why", main.action_skip)
            yield ("step: Add note", "Keep a note with the step", main.action_note)
        if main.actions.running is not None:
            yield (
                "step: Cancel running",
                "SIGTERM the running step, SIGKILL after grace",
                main.action_cancel,
            )
        yield ("runbook: Search", "Search every step and command", main.action_search)
        yield ("runbook: Jump to procedure", "Pick a procedure by name", main.action_jump)
        for name in ("detail", "output", "live"):
            yield (
                f"view: Show {name} pane",
                f"Bring the {name} pane to the front",
                partial(main.action_show_pane, name),
            )
        yield (
            "runbook: Reload from disk",
            "Read the runbook file again, and show what changed in this procedure",
            partial(run_action, "reload_runbook"),
        )
        yield (
            "session: Start fresh",
            "Discard this runbook's saved ticks, notes and outputs",
            partial(run_action, "start_fresh"),
        )
        yield ("view: Help", "Every key binding", partial(run_action, "help"))
        yield (
            "view: Toggle reduced colour",
            "The terminal's 16 colours, for poor terminals",
            partial(run_action, "toggle_reduced_colour"),
        )
        yield (
            "console: Quit",
            "Quit (asks first while a step runs)",
            partial(run_action, "quit_console"),
        )
        for procedure in main.runbook.procedures:
            yield (
                f"procedure: Open {procedure.title}",
                " / ".join(procedure.path),
                partial(main.jump_to, procedure.key),
            )

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            if not title.startswith("procedure: "):
                yield DiscoveryHit(literal(title), callback, help=literal(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(literal(title)),
                    callback,
                    text=title,
                    help=literal(help_text),
                )
