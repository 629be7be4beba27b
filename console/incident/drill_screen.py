"""The drill screen: DRILL banner, the scenario's procedure, its timeline, live panes, score.

Push it with a `runbook.drills.runner.Drill` that has not started; the screen starts it
(sandbox, traffic, fault) in a worker and removes the sandbox when it closes. Once
it runs, the live panes (gauges, endpoint health and, on Docker, the sandbox's
containers and logs) watch the sandbox, never the configured environment.
`enter` runs the selected step for real against the sandbox (through the console's step
runner, console.runner, like every run), `d` marks it done,
`s` skips it with a reason, `a` acknowledges, `f` finishes and shows the score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.incident.banner import DrillBanner
from console.incident.panel import IncidentPanel
from console.messages import DrillStepRan, DrillStepRequested
from console.panes.dock import LivePanes
from console.panes.messages import ContainerActionRequested
from console.screens.prompt import TextPromptScreen
from console.widgets.key_footer import KeyFooter
from runbook.sources.settings import SourceSettings

if TYPE_CHECKING:
    from runbook.drills.runner import Drill
    from runbook.drills.score import Score
    from runbook.incident.model import Incident


class DrillScreen(Screen[None]):
    """One drill, start to score."""

    BINDING_GROUP_TITLE = "Drill"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "run_step", "Run step", id="drill-run", tooltip="Run it in the sandbox"),
        Binding("d", "mark_done", "Done", id="drill-done", tooltip="Mark the step done"),
        Binding("s", "skip", "Skip", id="drill-skip", tooltip="Skip the step, with a reason"),
        Binding("a", "acknowledge", "Ack", id="drill-ack", tooltip="Acknowledge the alert"),
        Binding("f", "finish", "Finish", id="drill-finish", tooltip="End the drill: score"),
        Binding("escape", "leave", "Back", id="drill-back", tooltip="Leave (removes the sandbox)"),
    ]
    DEFAULT_CSS = """
    DrillScreen #drill-status { height: auto; padding: 0 1; background: $panel; }
    DrillScreen #drill-steps { height: auto; max-height: 12; }
    DrillScreen #drill-body { height: 1fr; }
    DrillScreen #drill-body > IncidentPanel { width: 1fr; }
    DrillScreen #drill-body > LivePanes { width: 1fr; border-left: solid $panel; }
    """

    @dataclass
    class Started(Message):
        incident: Incident

    @dataclass
    class Finished(Message):
        score: Score

    @dataclass
    class Failed(Message):
        error: str

    def __init__(self, drill: Drill) -> None:
        super().__init__()
        self.drill = drill
        self.score: Score | None = None
        self.busy = False
        self.mitigation_shown = False

    def compose(self) -> ComposeResult:
        banner = DrillBanner(id="drill-banner", markup=False)
        banner.text = f"{self.drill.scenario.title} · {self.drill.sandbox.base_url}"
        yield banner
        yield Static(
            f"Starting the sandbox for {self.drill.scenario.name}…", id="drill-status", markup=False
        )
        yield OptionList(
            *(
                Option(f"{step.index}. {step.title}", id=str(step.index))
                for step in self.drill.procedure.steps
            ),
            id="drill-steps",
            markup=False,
        )
        yield Horizontal(id="drill-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.start_drill()

    def _live_panes(self) -> LivePanes:
        sandbox = self.drill.sandbox
        settings = SourceSettings(
            environment=sandbox.environment,
            base_url=sandbox.base_url,
            containers=sandbox.prefix,
            health_interval_s=2.0,
            # The drill's checks poll every second with these holds: the gauges on screen
            # read the same windows and change state when the checks do.
            prometheus_interval_s=1.0,
            breach_for_s=self.drill.checks.hysteresis.breach_for_s,
            clear_for_s=self.drill.checks.hysteresis.clear_for_s,
            clear_margin=self.drill.checks.hysteresis.clear_margin,
        )
        where = "containers on Docker" if sandbox.kind == "docker" else "local processes"
        panes = LivePanes(
            self.drill.runbook,
            settings,
            config=self.drill.config,
            docker=sandbox.kind == "docker",
            id="drill-live",
        )
        panes.notice = f"DRILL sandbox ({where}): {sandbox.base_url}"
        return panes

    def _status(self, text: str) -> None:
        self.query_one("#drill-status", Static).update(text)

    @work(thread=True, exclusive=True, group="drill", exit_on_error=False, description="Drill")
    def start_drill(self) -> None:
        try:
            incident = self.drill.start()
        except Exception as error:  # noqa: BLE001 - shown to the trainee, sandbox removed
            self.post_message(self.Failed(str(error)))
            return
        self.drill.start_polling()
        self.post_message(self.Started(incident))

    @on(Started)
    async def _started(self, message: Started) -> None:
        await self.query_one("#drill-body").mount(
            IncidentPanel(message.incident, self.drill.store, drill_text=""), self._live_panes()
        )
        self._status(f"{self.drill.scenario.briefing}  Procedure: {self.drill.procedure.key}")
        self.set_interval(1.0, self._watch_mitigation)

    def _watch_mitigation(self) -> None:
        """Say so once the checks show the fault mitigated (the poller sees it, not a step)."""
        if self.drill.mitigated and not self.mitigation_shown and self.score is None:
            self.mitigation_shown = True
            text = "Mitigated: every check passes. Press f to finish and see the score."
            self._status(text)
            self.notify(text, title="DRILL")

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._status(f"The drill could not start: {message.error}")
        self.notify(message.error, severity="error")

    def _selected(self) -> int | None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is None or self.drill.incident is None:
            return None
        option = option_list.get_option_at_index(option_list.highlighted)
        return int(option.id or 0)

    @on(OptionList.OptionSelected, "#drill-steps")
    def _chosen(self) -> None:
        self.action_run_step()

    def action_run_step(self) -> None:
        index = self._selected()
        if index is None or self.busy or self.score is not None:
            return
        step = next(s for s in self.drill.procedure.steps if s.index == index)
        if not step.commands:
            self.notify("No command in this step: mark it done (d) or skip it (s).")
            return
        self.busy = True
        self._status(f"Running step {index} in the sandbox…")
        self.run_in_sandbox(index)

    def run_in_sandbox(self, index: int) -> None:
        # The console's step runner runs it (one step at a time); the answer comes back here.
        self.post_message(DrillStepRequested(self.drill, index, self))

    @on(ContainerActionRequested)
    def _sandbox_action(self, message: ContainerActionRequested) -> None:
        # The live panes here show the sandbox: the runner runs the action as the drill's.
        message.drill = self.drill

    @on(DrillStepRan)
    def _ran(self, message: DrillStepRan) -> None:
        self.busy = False
        result = message.result
        outcome = f"exit {result.exit_code}" if result.exit_code is not None else result.status
        state = "mitigated: press f to finish" if self.drill.mitigated else "fault still there"
        self._status(f"Step {message.index}: {outcome} ({result.reason or 'ran'}); {state}")

    def action_mark_done(self) -> None:
        index = self._selected()
        if index is not None and self.score is None:
            self._trainee(lambda: self.drill.mark(index, "done"))

    def action_skip(self) -> None:
        index = self._selected()
        if index is None or self.score is not None:
            return

        def skip(reason: str | None) -> None:
            if reason:
                self._trainee(lambda: self.drill.mark(index, "skipped", reason=reason))

        self.app.push_screen(TextPromptScreen(f"Skip step {index}: why?", "reason"), skip)

    def action_acknowledge(self) -> None:
        if self.drill.incident is not None and self.drill.incident.acknowledged_at is None:
            self._trainee(self.drill.acknowledge)

    def _trainee(self, action: Callable[[], None]) -> None:
        """A trainee's action; one the drill refuses (already acknowledged, closed) is said."""
        from runbook.drills.runner import DrillError

        try:
            action()
        except DrillError as error:
            self.notify(str(error), severity="warning")

    def action_finish(self) -> None:
        if self.drill.incident is None or self.score is not None or self.busy:
            return
        self._status("Finishing: scoring and removing the sandbox…")
        self.finish_drill()

    @work(thread=True, exclusive=True, group="drill", exit_on_error=False, description="Drill end")
    def finish_drill(self) -> None:
        self.post_message(self.Finished(self.drill.finish()))

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.score = message.score
        self._status(message.score.summary())
        self.notify(message.score.summary(), timeout=30)

    def action_leave(self) -> None:
        self.app.pop_screen()

    def on_unmount(self) -> None:
        if self.score is None:
            self.drill.abort()
