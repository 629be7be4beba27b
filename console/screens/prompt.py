"""Small modal questions: a line of text (skip reason, note) or a yes/no (quit)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from console.screens.focus_keys import FIELD_FOCUS_BINDINGS

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 70; max-width: 100%; height: auto; max-height: 100%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} .dialog-title {{ text-style: bold; width: 1fr; margin-bottom: 1; }}
{name} .dialog-buttons {{ height: 3; align: right middle; }}
{name} Button {{ margin-left: 2; min-width: 10; }}
"""


class TextPromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prompt-cancel", tooltip="Close without saving"),
        *FIELD_FOCUS_BINDINGS,
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="TextPromptScreen")

    def __init__(
        self,
        title: str,
        placeholder: str = "",
        required: bool = True,
        save_label: str = "Save",
        cancel_label: str = "Cancel",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.required = required
        self.save_label = save_label
        self.cancel_label = cancel_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Input(placeholder=self.placeholder, id="prompt-input")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.cancel_label, id="prompt-cancel")
                yield Button(self.save_label, id="prompt-save", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#prompt-save")
    def _save(self) -> None:
        value = self.query_one(Input).value.strip()
        if self.required and not value:
            self.notify("Please write something first.", severity="warning")
            return
        self.dismiss(value)

    @on(Button.Pressed, "#prompt-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class YesNoScreen(ModalScreen[bool]):
    """A yes/no question with focus on No."""

    BINDINGS = [
        Binding("escape,n", "answer(False)", "No", id="yesno-no", tooltip="Answer no"),
        Binding("y", "answer(True)", "Yes", id="yesno-yes", tooltip="Answer yes"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="YesNoScreen")

    def __init__(self, question: str, detail: str = "", yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, classes="dialog-title", markup=False)
            if self.detail:
                yield Static(self.detail, markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.no, id="yesno-no", variant="primary")
                yield Button(self.yes, id="yesno-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#yesno-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yesno-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
