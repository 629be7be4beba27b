"""The checklist: a procedure's steps with state, who and when, commands and countdowns."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Unpack

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from console.progress import Progress, StepRecord
from console.widgets.long_text import first_line
from console.widgets.roll_grid import roll_summary
from runbook.model import Procedure, Step

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions
    from runbook.incident.model import Deadline, Incident

STATUS_GLYPH = {
    "pending": ("○", "$text-muted"),
    "running": ("▶", "$warning"),
    "done": ("✓", "$success"),
    "skipped": ("»", "$text-muted"),
    "failed": ("✗", "$error"),
    "cancelled": ("⊘", "$warning"),
}
"""Glyph and theme colour per step status."""

RISK_STYLE = {
    "read-only": "$success",
    "mutating": "bold $warning",
    "destructive": "bold reverse $error",
}

COMMANDS_SHOWN = 2
"""Commands listed under a step in the checklist; the detail pane shows them all."""


def format_duration(seconds: float) -> str:
    """`4:05`, `1:02:03`; negative values are shown as overdue by the caller."""
    total = int(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


TITLE_LINES = 2
"""Checklist rows show at most this many lines of a step's title; the detail has it all."""


def display_title(step: Step) -> str:
    """The step's title without the commands the row lists below it."""
    title = step.title or "(empty step)"
    for command in step.commands:
        code = command.code.strip()
        if code and "\n" not in code and code in title:
            title = title.replace(code, "")
    title = re.sub(r":\s+\(", " (", title)
    title = re.sub(r"\s{2,}", " ", title).strip()
    return re.sub(r"\s*:$", "", title) or step.title


def wrap_title(text: str, width: int | None, indent: int) -> list[str]:
    """Wrap a title to the row width with a hanging indent, at most TITLE_LINES lines."""
    if width is None or width - indent < 10:
        return [text]
    lines = textwrap.wrap(text, width - indent) or [""]
    if len(lines) > TITLE_LINES:
        lines = lines[:TITLE_LINES]
        last = lines[-1]
        lines[-1] = (last[: width - indent - 1] if len(last) >= width - indent else last) + "…"
    return lines


def risk_badge(risk: str) -> Content:
    return Content.styled(f" {risk} ", RISK_STYLE.get(risk, ""))


DEADLINE_STYLE = {
    "ok": "bold $accent",
    "amber": "bold $warning",
    "red": "bold $error",
    "due": "bold reverse $error",
    "met": "$success",
    "late": "$warning",
    "moot": "$text-muted",
    "missed": "$warning",
}
"""Style of an incident deadline's row by its state, matching the countdowns of the strip."""


def timer_text(
    step: Step,
    record: StepRecord,
    now: datetime,
    procedure_started: datetime | None,
    deadline: Deadline | None = None,
) -> Content | None:
    """The countdown of a wait step or the time left of a deadline step, if any.

    `deadline` is the open incident's countdown for this step: the row then shows
    what the incident strip shows (time left from the incident's opening, its state).
    """
    if deadline is not None:
        return Content.styled(
            f"incident deadline · {deadline.countdown(now)}",
            DEADLINE_STYLE.get(deadline.state(now), "bold $accent"),
        )
    if step.kind == "wait" and step.wait_s:
        if record.status == "running" and record.started_at is not None:
            left = step.wait_s - (now - record.started_at).total_seconds()
            if left > 0:
                return Content.styled(f"waiting · {format_duration(left)} left", "bold $warning")
            return Content.styled("wait over", "bold $success")
        return Content.styled(f"wait {format_duration(step.wait_s)} (r starts)", "$text-muted")
    if step.kind == "deadline" and step.deadline_s:
        if record.status in ("done", "skipped"):
            return Content.styled(f"within {format_duration(step.deadline_s)}", "$text-muted")
        if procedure_started is None:
            return Content.styled(
                f"deadline {format_duration(step.deadline_s)} · from your first action here",
                "$accent",
            )
        left = step.deadline_s - (now - procedure_started).total_seconds()
        if left >= 0:
            style = "bold $error" if left < 60 else "bold $accent"
            return Content.styled(f"deadline · {format_duration(left)} left", style)
        return Content.styled(
            f"deadline passed {format_duration(-left)} ago", "bold reverse $error"
        )
    return None


def step_prompt(
    step: Step,
    record: StepRecord,
    now: datetime,
    procedure_started: datetime | None,
    read_only: bool = False,
    width: int | None = None,
    deadline: Deadline | None = None,
) -> Content:
    """The lines of one checklist row; lines past the first are cut to `width` with an ellipsis."""
    glyph, colour = STATUS_GLYPH[record.status]
    title_style = "$text-muted strike" if record.status == "skipped" else ""
    number = f" {step.index}. "
    indent = 1 + len(number)
    title_lines = wrap_title(display_title(step), width, indent)
    lines = [Content.assemble((glyph, f"bold {colour}"), number, (title_lines[0], title_style))]
    lines.extend(Content.assemble(" " * indent, (extra, title_style)) for extra in title_lines[1:])
    meta: list[Content] = []
    timer = timer_text(step, record, now, procedure_started, deadline)
    if timer is not None:
        meta.append(timer)
    if step.kind == "decision":
        branch = Content.assemble(
            ("◆ if ", "$accent"),
            (step.condition or "?", "bold"),
            (" → ", "$accent"),
            step.outcome or "",
        )
        meta.append(branch)
    if step.rollout is not None:
        meta.append(roll_meta(step, record))
    if record.status != "pending" and record.at is not None:
        when = record.at.strftime("%H:%M")
        who = f" by {record.by}" if record.by else ""
        word = {"running": "started"}.get(record.status, record.status)
        detail = f"{word} {when}{who}"
        if record.status == "skipped" and record.reason:
            detail += f": {record.reason}"
        elif record.status == "failed":
            if record.reason:
                detail += f": {record.reason}"
            if record.exit_code is not None:
                detail += f" (exit {record.exit_code})"
        meta.append(Content.styled(detail, "$text-muted"))
    if record.notes:
        meta.append(Content.styled(f"✎ {len(record.notes)}", "$accent"))
    if meta:
        lines.append(Content(" " * indent).append(Content("  ·  ").join(meta)))
    for command in step.commands[:COMMANDS_SHOWN]:
        hidden = read_only and command.risk != "read-only"
        code = first_line(command.code)
        more = " …" if "\n" in command.code else ""
        lines.append(
            Content.assemble(
                " " * (indent - 1),
                risk_badge(command.risk),
                " ",
                (f"$ {code}{more}", "$text-muted strike" if hidden else "$text-accent"),
            )
        )
    if len(step.commands) > COMMANDS_SHOWN:
        extra = len(step.commands) - COMMANDS_SHOWN
        lines.append(Content.styled(f"{' ' * indent}+ {extra} more command(s)", "$text-muted"))
    if width is not None and width > 8:
        lines = [line.truncate(width, ellipsis=True) for line in lines]
    return Content("\n").join(lines)


def roll_meta(step: Step, record: StepRecord) -> Content:
    """A rolled step's hosts: how the last roll stands, or which hosts it will run on."""
    if record.hosts:
        return Content.assemble(("⇶ ", "$accent"), roll_summary(record.hosts))
    rollout = step.rollout
    if rollout is not None and rollout.error:
        return Content.styled("⇶ roll attributes wrong: does not run (see check)", "$error")
    hosts = "all hosts" if rollout is None or rollout.hosts is None else ", ".join(rollout.hosts)
    batch = f", batches of {rollout.batch}" if rollout is not None and rollout.batch > 1 else ""
    return Content.styled(f"⇶ rolls across {hosts}{batch}", "$accent")


class StepList(OptionList):
    """The selected procedure's steps; the highlighted one is the current step."""

    HELP = "The steps of the open procedure. Tick, skip, note or run the highlighted step."
    BINDING_GROUP_TITLE = "Checklist"
    BINDINGS = [
        Binding(
            "j", "cursor_down", "Down", show=False, id="steps-down", tooltip="Next row (also ↓)"
        ),
        Binding("k", "cursor_up", "Up", show=False, id="steps-up", tooltip="Previous row (also ↑)"),
    ]

    @dataclass
    class StepHighlighted(Message):
        """The cursor moved to a step."""

        procedure: Procedure
        step: Step
        step_list: StepList

        @property
        def control(self) -> StepList:
            return self.step_list

    def __init__(self, progress: Progress, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self.progress = progress
        self.procedure: Procedure | None = None
        self.read_only = False
        self.incident: Incident | None = None
        """The open incident: the deadline rows of its procedure show its countdowns."""
        self.moves = 0
        """How often the cursor went to another step (by a key, a click or the console):
        a run that ends later moves the cursor on only if it has not moved since."""
        self._on: tuple[str, int] | None = None

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        step = self.current_step
        if step is not None and self.procedure is not None:
            on = (self.procedure.key, step.index)
            if on != self._on:
                self._on = on
                self.moves += 1

    def position_of(self, step_index: int) -> int | None:
        """The row of the step numbered `step_index` in the open procedure."""
        if self.procedure is None:
            return None
        steps = self.procedure.steps
        return next((n for n, step in enumerate(steps) if step.index == step_index), None)

    @property
    def current_step(self) -> Step | None:
        if self.procedure is None or self.highlighted is None:
            return None
        if 0 <= self.highlighted < len(self.procedure.steps):
            return self.procedure.steps[self.highlighted]
        return None

    def show_procedure(self, procedure: Procedure, step_index: int | None = None) -> None:
        """Fill the list with a procedure's steps and put the cursor on a step."""
        same = self.procedure is not None and self.procedure.key == procedure.key
        previous = self.highlighted if same else None
        self.procedure = procedure
        now = self.progress.clock()
        started = self.progress.procedure_started.get(procedure.key)
        self.set_options(
            Option(self._prompt(step, now, started), id=str(step.index)) for step in procedure.steps
        )
        position = self.position_of(step_index) if step_index is not None else None
        if position is not None:
            self.highlighted = position
        elif previous is not None:
            self.highlighted = previous
        elif procedure.steps:
            self.highlighted = self._first_open_index(procedure)
        self._update_title()

    def _first_open_index(self, procedure: Procedure) -> int:
        for position, step in enumerate(procedure.steps):
            if self.progress.record(procedure.key, step.index).status in ("pending", "running"):
                return position
        return 0

    def show_first_open_step(self, procedure: Procedure | None = None) -> None:
        """Fill the list with `procedure` (default: the one shown, whose progress or text
        was replaced), the cursor on the first step still to do."""
        procedure = procedure or self.procedure
        if procedure is None:
            return
        first = procedure.steps[self._first_open_index(procedure)] if procedure.steps else None
        self.show_procedure(procedure, first.index if first is not None else None)

    def _prompt(self, step: Step, now: datetime, started: datetime | None) -> Content:
        assert self.procedure is not None
        record = self.progress.record(self.procedure.key, step.index)
        width = self.scrollable_content_region.width - 1 if self.is_mounted else None
        deadline = self.incident_deadline(step, now)
        return step_prompt(step, record, now, started, self.read_only, width, deadline)

    def incident_deadline(self, step: Step, now: datetime) -> Deadline | None:
        """The open incident's countdown a deadline step of its procedure stands for."""
        incident = self.incident
        if (
            incident is None
            or not incident.is_open
            or self.procedure is None
            or self.procedure.key != incident.procedure
            or step.kind != "deadline"
        ):
            return None
        action = step.incident_action
        return next((d for d in incident.deadlines(now) if d.name == action), None)

    def set_incident(self, incident: Incident | None) -> None:
        """Follow the open incident (opened, acknowledged, escalated, closed)."""
        self.incident = incident
        self.refresh_timers()

    def on_resize(self) -> None:
        if self.procedure is not None:
            self.show_procedure(self.procedure)
        self._update_title()

    def _update_title(self) -> None:
        if self.procedure is None:
            self.border_title = "Checklist"
            return
        counts = self.progress.counts(self.procedure)
        subtitle = f"{counts.finished}/{counts.total} done"
        if counts.failed:
            subtitle += f" · {counts.failed} failed"
        if counts.cancelled:
            subtitle += f" · {counts.cancelled} cancelled"
        self.border_title = Content(self.procedure.title)  # as written, never markup
        self.border_subtitle = subtitle

    def refresh_step(self, step_index: int) -> None:
        """Redraw one row after its record changed."""
        if self.procedure is None or not 1 <= step_index <= len(self.procedure.steps):
            return
        step = self.procedure.steps[step_index - 1]
        now = self.progress.clock()
        started = self.progress.procedure_started.get(self.procedure.key)
        self.replace_option_prompt_at_index(step_index - 1, self._prompt(step, now, started))
        self._update_title()

    def refresh_timers(self) -> bool:
        """Redraw countdown rows whose text changed; returns whether any did.

        Rows that read the same are left alone, so an idle console writes nothing.
        """
        if self.procedure is None:
            return False
        changed = False
        now = self.progress.clock()
        started = self.progress.procedure_started.get(self.procedure.key)
        for position, step in enumerate(self.procedure.steps):
            if step.kind not in ("wait", "deadline"):
                continue
            prompt = self._prompt(step, now, started)
            if position < self.option_count and self.get_option_at_index(position).prompt != prompt:
                self.replace_option_prompt_at_index(position, prompt)
                changed = True
        return changed

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        step = self.current_step
        if step is not None and self.procedure is not None:
            self.post_message(self.StepHighlighted(self.procedure, step, self))
