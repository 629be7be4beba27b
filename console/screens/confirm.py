"""Confirmation before a mutating or destructive step runs.

Shows exactly what will run, where and against which environment. Focus starts on
Cancel; for production the operator types the environment's name. For a short while
after opening, Enter and pasted text are ignored, so a held Enter or a paste aimed at
the previous screen cannot confirm.
"""

from __future__ import annotations

import time

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from console.requests import ConfirmRequest as ConfirmRequest  # re-exported for the panes
from console.widgets.step_list import risk_badge

COMPACT_HEIGHT = 24
"""Terminals shorter than this get the compact confirmation."""
ARM_DELAY_S = 0.6
"""Seconds after opening during which Enter and paste do nothing."""


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
    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel", id="confirm-cancel", tooltip="Do not run the step"),
        Binding(
            "y",
            "confirm",
            "Run",
            id="confirm-run",
            tooltip="Run the step (after typing the environment name for production)",
        ),
        Binding(
            "left,h",
            "app.focus_previous",
            "Previous",
            show=False,
            id="confirm-left",
            tooltip="Focus the previous control",
        ),
        Binding(
            "right,l",
            "app.focus_next",
            "Next",
            show=False,
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
    ConfirmScreen #confirm-banner { background: $error; color: $text; text-style: bold;
        width: 1fr; content-align: center middle; display: none; }
    ConfirmScreen.-production #confirm-banner { display: block; }
    ConfirmScreen #confirm-commands { height: auto; max-height: 8; background: $boost;
        padding: 0 1; margin: 1 0 0 0; }
    ConfirmScreen #confirm-where { margin: 1 0 0 0; }
    ConfirmScreen #confirm-typed { display: none; margin: 0; }
    ConfirmScreen.-production #confirm-typed { display: block; }
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
        with Vertical(id="confirm-dialog"):
            yield Static(
                f"PRODUCTION · {request.environment} · type its name to run", id="confirm-banner"
            )
            yield Label(
                Content.assemble(risk_badge(request.risk), " ", ("Run this step?", "bold")),
                id="confirm-title",
            )
            yield Static(request.title, id="confirm-step")
            with VerticalScroll(id="confirm-commands"):
                yield Static(
                    Content("\n").join(
                        Content.styled(f"$ {line}", "bold")
                        for command in request.commands
                        for line in command.splitlines()
                    ),
                    id="confirm-code",
                )
            yield Static(
                Content.assemble(
                    ("in  ", "$text-muted"),
                    request.cwd,
                    "\n",
                    ("env ", "$text-muted"),
                    (request.environment, "bold $error" if request.production else "bold"),
                    *(
                        (("\n", ""), (request.lock_note, "$text-muted"))
                        if request.lock_note
                        else ()
                    ),
                ),
                id="confirm-where",
            )
            yield GuardedInput(
                placeholder=f"type {request.environment} to confirm",
                id="confirm-typed",
                compact=compact,
            )
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
        self.query_one("#confirm-cancel", Button).focus()
        self._armed_at = time.monotonic() + self.arm_delay

    def _typed_ok(self) -> bool:
        if not self.request.production:
            return True
        typed = self.query_one("#confirm-typed", Input).value.strip()
        return typed.casefold() == self.request.environment.casefold()

    @on(Input.Changed, "#confirm-typed")
    def _typed_changed(self) -> None:
        self.query_one("#confirm-run", Button).disabled = not self._typed_ok()

    @on(Input.Submitted, "#confirm-typed")
    def _typed_submitted(self) -> None:
        if self._typed_ok():
            self.query_one("#confirm-run", Button).focus()

    def on_key(self, event: events.Key) -> None:
        if event.key == "enter" and not self.armed:
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
            self.query_one("#confirm-typed", Input).focus()
            self.notify(f"Type {self.request.environment} to confirm.", severity="warning")
            return
        self._typed_value = self.query_one("#confirm-typed", Input).value.strip()
        self.dismiss(True)
