"""Confirmation before a mutating or destructive step runs.

Shows the runbook's own warnings about the step, then exactly what will run, where,
against which environment (and the `DEPLOY_ENV` the commands are told) and the
inherited variables that change what they do. Focus
starts on Cancel; for production it starts in the box where the operator types the
environment's name, and Enter there submits it: a wrong name is answered in the
dialog, which stays open. While the box has focus, letters are text, never the
dialog's y/n shortcuts (Escape still cancels). For a short while after opening, Enter
and pasted text are ignored, so a held Enter or a paste aimed at the previous screen
cannot confirm; the name typed key by key after opening is itself deliberate, so Enter
on the right name is taken at once.
"""

from __future__ import annotations

import hashlib
import time

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from console.requests import ConfirmRequest as ConfirmRequest  # re-exported for the panes
from console.screens.focus_keys import FIELD_FOCUS_BINDINGS
from console.widgets.line_view import LineView
from console.widgets.line_view import wrap_row as wrap_row
from console.widgets.long_text import line_count
from console.widgets.step_detail import admonition_line
from console.widgets.step_list import risk_badge

COMPACT_HEIGHT = 24
"""Terminals shorter than this get the compact confirmation."""
TALL_HEIGHT = 32
"""Terminals at least this tall show more of the runbook's warnings before they scroll."""
ARM_DELAY_S = 0.6
"""Seconds after opening during which Enter and paste do nothing."""
BOX_LINES = 8
"""Rows of the command box; a longer command says how many lines it has, and scrolls."""
INLINE_LINES = 200
"""Commands up to this many lines are laid out whole; longer ones go in a `LineView`,
which makes only the rows in view (a 100,000-line command laid out whole took seconds,
and wrapped into a `Log` some 0.2 s each time the box's width changed)."""


class GuardedInput(Input):
    """An input that refuses pasted text: the name must be typed."""

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()
        event.stop()
        self.app.bell()
        self.notify("Type the name; pasting is disabled here.", severity="warning")


class ConfirmScreen(ModalScreen[bool]):
    """Returns True only for a deliberate confirmation."""

    BINDING_GROUP_TITLE = "Confirm"
    # The shortcuts are priority bindings, so whether the name box has focus is decided with
    # the focus each key arrives to (see focus_keys); while it has, check_action lets the
    # key through to the box as text.
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="confirm-cancel", tooltip="Do not run the step"),
        *FIELD_FOCUS_BINDINGS,
        Binding(
            "n",
            "shortcut('cancel')",
            "Cancel",
            show=False,
            priority=True,
            id="confirm-cancel-n",
            tooltip="Do not run the step (not while typing the name)",
        ),
        Binding(
            "y",
            "shortcut('confirm')",
            "Run",
            priority=True,
            id="confirm-run",
            tooltip="Run the step (production: type the environment name, then Enter)",
        ),
        Binding(
            "left,h",
            "shortcut('app.focus_previous')",
            "Previous",
            show=False,
            priority=True,
            id="confirm-left",
            tooltip="Focus the previous control",
        ),
        Binding(
            "right,l",
            "shortcut('app.focus_next')",
            "Next",
            show=False,
            priority=True,
            id="confirm-right",
            tooltip="Focus the next control",
        ),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen #confirm-dialog {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmScreen.-production #confirm-dialog { border: thick $error; }
    ConfirmScreen #confirm-title { text-style: bold; width: 1fr; }
    ConfirmScreen #confirm-risk-reason { color: $text-warning; text-style: bold; }
    ConfirmScreen #confirm-banner { background: $error; color: $text; text-style: bold;
        width: 1fr; content-align: center middle; display: none; }
    ConfirmScreen.-production #confirm-banner { display: block; }
    ConfirmScreen #confirm-admonitions { height: auto; max-height: 3; }
    ConfirmScreen.-tall #confirm-admonitions { max-height: 8; }
    ConfirmScreen.-compact #confirm-admonitions { max-height: 2; }
    ConfirmScreen #confirm-commands { height: auto; max-height: 8; background: $boost;
        padding: 0 1; margin: 1 0 0 0; }
    ConfirmScreen #confirm-size { color: $text-muted; margin: 1 0 0 0; }
    ConfirmScreen #confirm-commands-log { height: 8; background: $boost; }
    ConfirmScreen.-compact #confirm-size { margin: 0; }
    ConfirmScreen #confirm-where { margin: 1 0 0 0; height: auto; max-height: 6; }
    ConfirmScreen #confirm-typed { display: none; margin: 0; }
    ConfirmScreen.-production #confirm-typed { display: block; }
    ConfirmScreen #confirm-error { color: $text-error; text-style: bold; display: none; }
    ConfirmScreen #confirm-error.-shown { display: block; }
    ConfirmScreen #confirm-buttons { height: 3; align: right middle; margin-top: 1; }
    ConfirmScreen Button { margin-left: 2; min-width: 12; }
    ConfirmScreen.-compact #confirm-commands, ConfirmScreen.-compact #confirm-where,
    ConfirmScreen.-compact #confirm-buttons { margin: 0; }
    ConfirmScreen.-compact #confirm-buttons { height: 1; }
    ConfirmScreen.-compact #confirm-typed { margin-top: 0; }
    """

    def __init__(self, request: ConfirmRequest, arm_delay: float = ARM_DELAY_S) -> None:
        super().__init__()
        self.request = request
        self.arm_delay = arm_delay
        self._armed_at = time.monotonic() + arm_delay
        self._typed_value = ""

    @property
    def typed(self) -> str:
        """The environment name as typed when confirmed (empty outside production)."""
        return self._typed_value

    @property
    def armed(self) -> bool:
        return time.monotonic() >= self._armed_at

    def compose(self) -> ComposeResult:
        request = self.request
        # Short terminals get one-line controls and no spacing, so nothing is cut off.
        compact = self.app.size.height < COMPACT_HEIGHT
        self.set_class(compact, "-compact", update=False)
        self.set_class(self.app.size.height >= TALL_HEIGHT, "-tall", update=False)
        with Vertical(id="confirm-dialog"):
            yield Static(
                f"PRODUCTION · {request.target} · type its name to run",
                id="confirm-banner",
                markup=False,
            )
            drill = (("[DRILL]", "bold reverse $warning"), " ") if request.drill else ()
            yield Label(
                Content.assemble(*drill, risk_badge(request.risk), " ", ("Run this step?", "bold")),
                id="confirm-title",
                markup=False,
            )
            yield Static(request.title, id="confirm-step", markup=False)
            if request.risk_reason:
                yield Static(f"risk: {request.risk_reason}", id="confirm-risk-reason", markup=False)
            if request.admonitions:
                with VerticalScroll(id="confirm-admonitions"):
                    yield Static(_admonitions(request), id="confirm-admonitions-text")
            total = sum(line_count(command) for command in request.commands)
            if total > BOX_LINES:
                yield Static(_size(request, total), id="confirm-size", markup=False)
            if total > INLINE_LINES:
                # Every line, wrapped to the box: nothing runs that cannot be read. A
                # line's first row starts with `$ `, the rows it wraps onto with two spaces.
                box = LineView(wrap=True, id="confirm-commands-log")
                lines: list[str] = []
                for command in request.commands:
                    lines += command.split("\n")
                box.set_lines(lines, prefix="$ ")
                yield box
            else:
                with VerticalScroll(id="confirm-commands"):
                    yield Static(
                        Content("\n").join(
                            Content.styled(f"$ {line}", "bold")
                            for command in request.commands
                            for line in command.splitlines()
                        ),
                        id="confirm-code",
                        markup=False,
                    )
            with VerticalScroll(id="confirm-where"):
                yield Static(_where(request), id="confirm-where-text", markup=False)
            yield GuardedInput(
                placeholder=f"type {request.environment} to confirm, then Enter",
                id="confirm-typed",
                compact=compact,
            )
            yield Static("", id="confirm-error", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="confirm-cancel", variant="primary", compact=compact)
                yield Button(
                    "Run",
                    id="confirm-run",
                    variant="error",
                    disabled=request.production,
                    compact=compact,
                )

    def on_mount(self) -> None:
        self.set_class(self.request.production, "-production")
        first = "#confirm-typed" if self.request.production else "#confirm-cancel"
        self.query_one(first).focus()
        self._armed_at = time.monotonic() + self.arm_delay

    @property
    def _typing(self) -> bool:
        """The name box has focus: keys are text, not shortcuts."""
        return isinstance(self.focused, Input)

    def _typed_ok(self) -> bool:
        if not self.request.production:
            return True
        typed = self.query_one("#confirm-typed", Input).value.strip()
        return typed.casefold() == self.request.environment.casefold()

    def _say(self, message: str) -> None:
        error = self.query_one("#confirm-error", Static)
        error.update(message)
        error.set_class(bool(message), "-shown")

    async def action_shortcut(self, action: str) -> None:
        """A one-letter shortcut; never fired while the name is being typed."""
        if self._typing:
            return
        if action == "cancel":
            self.action_cancel()
        elif action == "confirm":
            self.action_confirm()
        else:
            await self.run_action(action)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "shortcut" and self._typing)  # then the key is text in the box

    @on(Input.Changed, "#confirm-typed")
    def _typed_changed(self) -> None:
        self.query_one("#confirm-run", Button).disabled = not self._typed_ok()
        self._say("")

    @on(Input.Submitted, "#confirm-typed")
    def _typed_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._typed_ok():
            # Typed key by key after opening (pasting is refused): deliberate, armed or not.
            self._confirmed()
        elif self.armed or event.value.strip():
            self._wrong_name(event.value)

    def _wrong_name(self, typed: str) -> None:
        name = self.request.environment
        typed = typed.strip()
        said = f"{typed!r} is not {name}" if typed else "Nothing typed"
        self._say(f"{said}: type {name} exactly, then Enter (Esc cancels).")
        self.query_one("#confirm-typed", Input).focus()
        self.app.bell()

    def on_key(self, event: events.Key) -> None:
        if event.key == "enter" and not self.armed and not self._typing:
            event.prevent_default()
            event.stop()

    def on_paste(self, event: events.Paste) -> None:
        event.prevent_default()
        event.stop()

    @on(Button.Pressed, "#confirm-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm-run")
    def _run_pressed(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        if not self.armed:
            return
        if not self._typed_ok():
            self._wrong_name(self.query_one("#confirm-typed", Input).value)
            return
        self._confirmed()

    def _confirmed(self) -> None:
        self._typed_value = self.query_one("#confirm-typed", Input).value.strip()
        self.dismiss(True)


def _size(request: ConfirmRequest, total: int) -> str:
    """How long the commands are, and a digest of them, above a box that scrolls."""
    digest = hashlib.sha256(
        "\n".join(request.commands).encode("utf-8", "surrogatepass")
    ).hexdigest()[:12]
    return f"{total:,} lines · sha256 {digest} · Tab to the box to scroll through every line"


def _admonitions(request: ConfirmRequest) -> Content:
    """The runbook's warnings and notes about the step, each marked as the runbook's."""
    return Content("\n").join(admonition_line(admonition) for admonition in request.admonitions)


def _where(request: ConfirmRequest) -> Content:
    """Directory, environment (with its DEPLOY_ENV) and the inherited variables that matter."""
    parts: list[Content | str | tuple[str, str]] = [
        ("in  ", "$text-muted"),
        request.cwd,
        "\n",
        ("env ", "$text-muted"),
        (request.target, "bold $error" if request.production else "bold"),
    ]
    for name, value in request.inherited:
        parts += ["\n", ("inherited ", "$text-muted"), (f"{name}={value}", "bold $warning")]
    if request.hosts:
        first, *batches = request.hosts
        parts += ["\n", ("on  ", "$text-muted"), (first, "bold")]
        parts += [item for batch in batches for item in ("\n", ("    ", ""), batch)]
    if request.lock_note:
        parts += ["\n", (request.lock_note, "$text-muted")]
    return Content.assemble(*parts)
