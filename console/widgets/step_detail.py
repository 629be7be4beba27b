"""One step in full: its own markdown (never the whole document), commands, notes, last output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from console.progress import StepRecord
from console.widgets.long_text import LINES_SHOWN, head_lines, more_lines, shorten_fences
from console.widgets.step_list import risk_badge
from runbook.model import Admonition, Procedure, Step

if TYPE_CHECKING:
    from textual.widgets import Markdown

    from console.widgets.line_view import LineView
    from console.widgets.options import WidgetOptions

OUTPUT_LINES_SHOWN = 12
"""Lines of the last run shown under the step; the output pane has the rest."""
FULL_HINT = " (f shows them all)"
"""Said after a count of lines not drawn."""


class StepDetail(VerticalScroll, can_focus=True):
    """The highlighted step, rendered on its own so a large runbook never renders at once."""

    HELP = (
        "The highlighted step: its text, its commands with their risk, notes and last output."
        " A long command shows its first lines; `f` shows every line of every command."
    )
    BINDINGS = [
        Binding(
            "f",
            "toggle_full",
            "Full commands",
            show=False,
            id="detail-full",
            tooltip="Show every line of the step's commands (again: back to the step)",
        ),
    ]
    DEFAULT_CSS = """
    StepDetail { padding: 0 1; }
    StepDetail #detail-heading { text-style: bold; color: $text-accent; }
    StepDetail #detail-admonitions { margin: 0 0 1 0; }
    StepDetail Markdown { margin: 0; padding: 0; }
    StepDetail .detail-command { margin: 0 0 1 0; }
    StepDetail #detail-notes, StepDetail #detail-output { margin: 0 0 1 0; }
    StepDetail #detail-output { color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    StepDetail #detail-full-title { color: $text-muted; }
    StepDetail #detail-full { height: 1fr; min-height: 5; background: $boost; }
    """

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self._markdown: Markdown | None = None
        self._markdown_text = ""
        """The step's own text, shown by the Markdown widget once it is mounted."""
        # Held, not queried: a step can finish while the detail is not (or no longer)
        # composed, at start or as the console quits, and its update must not crash it.
        self._heading = Static(id="detail-heading", markup=False)
        self._admonitions = Static(id="detail-admonitions", markup=False)
        self._admonitions.display = False  # until a step with a warning or note is shown
        self._extra = Static(id="detail-extra", markup=False)
        self._commands = Static(id="detail-commands", markup=False)
        self._notes = Static(id="detail-notes", markup=False)
        self._output = Static(id="detail-output", markup=False)
        self._shown: tuple[Procedure | None, Step | None, StepRecord | None, bool] = (
            None,
            None,
            None,
            False,
        )
        """What `show_step` was last given: the full view is of its step."""
        self.builds = 0
        """How often a step's text and commands were cut to what the detail draws: once
        per step shown, however often it is shown again (the console shows its first
        step several times as it starts; a huge command is read once)."""
        self._built: tuple[Step, bool, str, Content] | None = None
        """The step last built, whether read-only, its Markdown and its command lines."""
        self._full_title: Static | None = None
        self._full: LineView | None = None
        """Every line of the step's commands: made and filled only when asked for (`f`)."""

    def compose(self) -> ComposeResult:
        yield self._heading
        yield self._admonitions
        yield self._extra
        yield self._commands
        yield self._notes
        yield self._output

    def on_mount(self) -> None:
        # Markdown (with the parser and highlighter it imports) is mounted after the first
        # frame: it parses on a thread, so its text never made the first frame anyway.
        self.call_after_refresh(self._mount_markdown)

    async def _mount_markdown(self) -> None:
        from textual.widgets import Markdown

        if not self.is_attached:
            return  # the console quit before its first frame was drawn: nothing to show
        text = self._markdown_text
        markdown = Markdown(text, id="detail-markdown")
        await self.mount(markdown, after=self._admonitions)
        self._markdown = markdown
        if self._markdown_text != text:  # another step was shown meanwhile
            markdown.update(self._markdown_text)

    def _show_markdown(self, text: str) -> None:
        if text == self._markdown_text:
            return  # the same step again: its Markdown is not parsed and laid out again
        self._markdown_text = text
        if self._markdown is not None:
            self._markdown.update(text)

    def show_step(
        self,
        procedure: Procedure | None,
        step: Step | None,
        record: StepRecord | None,
        read_only: bool = False,
    ) -> None:
        self._shown = (procedure, step, record, read_only)
        self._hide_full()
        heading, extra, commands = self._heading, self._extra, self._commands
        notes, output, admonitions = self._notes, self._output, self._admonitions
        if procedure is None or step is None:
            heading.update(procedure.title if procedure else "No step selected")
            self._show_markdown(shorten_fences(procedure.intro) if procedure else "")
            for widget in (extra, commands, notes, output):
                widget.update("")
                widget.display = False
            section_lines = _admonition_lines(procedure.admonitions if procedure else ())
            admonitions.update(Content("\n").join(section_lines))
            admonitions.display = bool(section_lines)
            return
        heading.update(
            Content.assemble(f"Step {step.index} of {len(procedure.steps)} · ", step.kind)
        )
        step_lines = _admonition_lines(step.admonitions)
        admonitions.update(Content("\n").join(step_lines))
        admonitions.display = bool(step_lines)
        markdown, command_lines = self._build(step, read_only)
        self._show_markdown(markdown)
        extra_lines: list[Content] = []
        if procedure.admonitions and step.index == procedure.steps[-1].index:
            # No step follows them: they are the section's, shown with its last step.
            extra_lines.append(Content.styled("At the end of this section:", "$text-muted"))
            extra_lines += _admonition_lines(procedure.admonitions)
        if step.kind == "decision":
            extra_lines.append(
                Content.assemble(
                    ("Decision: ", "bold $accent"),
                    f"if {step.condition or '?'} → {step.outcome or '?'}",
                )
            )
            extra_lines.append(
                Content.styled(
                    "tick when the condition holds, skip (s) when it does not", "$text-muted"
                )
            )
        if step.kind == "wait" and step.wait_s:
            extra_lines.append(
                Content.styled("r runs the check and starts the countdown.", "$text-muted")
            )
        if step.kind == "manual":
            extra_lines.append(Content.styled("Do it, then tick it (space).", "$text-muted"))
        if step.kind == "deadline":
            extra_lines.append(
                Content.styled(
                    "In the open incident's procedure: the incident's countdown, as in the"
                    " strip above. Elsewhere: from your first action in this procedure"
                    " (tick, skip, run or note).",
                    "$text-muted",
                )
            )
            action = {
                "acknowledge": "acknowledges the incident (as a does)",
                "escalate": "asks whom to escalate to (as e does)",
            }.get(step.incident_action or "")
            if action:
                extra_lines.append(
                    Content.styled(f"Ticking it during an incident {action}.", "$text-muted")
                )
        extra.update(Content("\n").join(extra_lines))
        extra.display = bool(extra_lines)
        commands.update(command_lines)
        commands.display = bool(command_lines)
        notes_text = record.notes if record else []
        notes.update(
            Content("\n").join(
                [Content.styled("Notes", "bold")] + [Content(f"  ✎ {note}") for note in notes_text]
            )
        )
        notes.display = bool(notes_text)
        tail = record.output[-OUTPUT_LINES_SHOWN:] if record else []
        output.update(
            Content("\n").join(
                [Content.styled("Last output", "bold")]
                + [
                    Content.styled(f"  {line}", "$error" if stream == "stderr" else "")
                    for stream, line in tail
                ]
            )
        )
        output.display = bool(tail)
        self.scroll_home(animate=False)

    def _build(self, step: Step, read_only: bool) -> tuple[str, Content]:
        """The step's Markdown and command lines as drawn (a long fence or command cut to
        its first lines), made when another step is shown, else the last ones again."""
        if self._built is not None and self._built[0] is step and self._built[1] == read_only:
            return self._built[2], self._built[3]
        self.builds += 1
        markdown = shorten_fences(step.text, hint=FULL_HINT)
        command_lines, hidden_lines = _command_lines(step, read_only)
        if hidden_lines:
            command_lines.append(Content.styled(f"  {hidden_lines}{FULL_HINT}", "$text-muted"))
        rollout = step.rollout
        if rollout is not None and command_lines:
            text = rollout.error or f"rolls across {rollout.describe()}"
            style = "$error" if rollout.error else "$accent"
            command_lines.append(Content.styled(f"⇶ {text}", style))
        commands = Content("\n").join(command_lines)
        self._built = (step, read_only, markdown, commands)
        return markdown, commands

    @property
    def showing_full(self) -> bool:
        """Whether every line of the step's commands is shown (`f`)."""
        return self._full is not None and self._full.display

    async def action_toggle_full(self) -> None:
        """Show every line of the step's commands in a view that draws only the rows in
        sight, or go back to the step."""
        if self.showing_full:
            self.show_step(*self._shown)
            return
        _procedure, step, _record, read_only = self._shown
        if step is None or not step.commands:
            self.notify("This step has no commands.", timeout=3)
            return
        await self._show_full(step, read_only)

    async def _show_full(self, step: Step, read_only: bool) -> None:
        from console.widgets.line_view import LineView

        if self._full is None or self._full_title is None:
            self._full_title = Static(id="detail-full-title", markup=False)
            self._full = LineView(id="detail-full")
            await self.mount(self._full_title, self._full, after=self._heading)
        full, title = self._full, self._full_title
        lines: list[str] = []
        headers: list[int] = []
        count = len(step.commands)
        for number, command in enumerate(step.commands, 1):
            hidden = read_only and command.risk != "read-only"
            suffix = " · hidden: read-only console" if hidden else ""
            headers.append(len(lines))
            lines.append(f"── command {number} of {count} · {command.risk}{suffix} ──")
            lines += command.code.split("\n")
        full.set_lines(lines, prefix="$ ", headers=headers)
        title.update(f"All {len(lines) - count:,} lines · scroll ↑↓ PgDn End · f: back")
        for child in self.children:
            child.display = child in (self._heading, title, full)
        full.scroll_home(animate=False)
        full.focus()

    def _hide_full(self) -> None:
        if self._full is not None and self._full_title is not None and self._full.display:
            refocus = self._full.has_focus
            self._full.display = self._full_title.display = False
            self._full.clear()
            if self._markdown is not None:
                self._markdown.display = True
            if refocus:
                self.focus()


def _command_lines(step: Step, read_only: bool) -> tuple[list[Content], str]:
    """The detail's lines for the step's commands, at most LINES_SHOWN lines of code in
    all, and what was left out (`… 99,990 more lines`; empty when nothing was)."""
    lines: list[Content] = []
    budget = LINES_SHOWN
    lines_left_out = commands_left_out = 0
    for command in step.commands:
        code_lines, more = head_lines(command.code, budget)
        lines_left_out += more
        if budget == 0:
            commands_left_out += 1
            continue
        hidden = read_only and command.risk != "read-only"
        suffix = "  (hidden: read-only console)" if hidden else ""
        names = ", ".join(command.variable_names)
        variables = f"  needs {names}" if names else ""
        header = (f" line {command.line}{variables}{suffix}", "$text-muted")
        lines.append(Content.assemble(risk_badge(command.risk), header))
        lines += [Content.styled(f"  $ {code_line}", "$text-accent") for code_line in code_lines]
        budget -= len(code_lines)
    if not lines_left_out:
        return lines, ""
    left_out = more_lines(lines_left_out)
    if commands_left_out:
        plural = "s" if commands_left_out > 1 else ""
        left_out += f", {commands_left_out} more command{plural}"
    return lines, left_out


def admonition_line(admonition: Admonition) -> Content:
    """A warning or note of the runbook's, marked as the runbook's, on one line."""
    style = "bold $warning" if admonition.kind == "warning" else "bold"
    return Content.assemble((admonition.label, style), ": ", " ".join(admonition.text.split()))


def _admonition_lines(admonitions: tuple[Admonition, ...]) -> list[Content]:
    return [admonition_line(admonition) for admonition in admonitions]
