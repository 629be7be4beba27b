"""The form that asks for a command's variables before it runs, with suggestions."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static

from console.requests import VariableQuestion
from console.screens.focus_keys import FIELD_FOCUS_BINDINGS


class VariablesScreen(ModalScreen[dict[str, str] | None]):
    """Returns the values by name, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="variables-cancel", tooltip="Do not run the step"),
        *FIELD_FOCUS_BINDINGS,
        # Enter moves on as Tab does, decided as the key arrives (see focus_keys); on the last
        # value it is the field's own Enter, handled after the keys typed before it.
        Binding(
            "enter",
            "next_value",
            "Next value",
            show=False,
            priority=True,
            id="variables-next",
            tooltip="Move to the next value (Enter on the last one runs the step)",
        ),
    ]
    DEFAULT_CSS = """
    VariablesScreen { align: center middle; }
    VariablesScreen > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    VariablesScreen #variables-title { text-style: bold; margin-bottom: 1; }
    VariablesScreen #variables-fields { height: auto; max-height: 14; }
    VariablesScreen .variable-hint { color: $text-muted; }
    VariablesScreen .variables-buttons { height: 3; align: right middle; }
    VariablesScreen Button { margin-left: 2; min-width: 10; }
    """

    def __init__(self, title: str, questions: list[VariableQuestion]) -> None:
        super().__init__()
        self.title_text = title
        self.questions = questions

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="variables-title", markup=False)
            with VerticalScroll(id="variables-fields"):
                for question in self.questions:
                    yield Label(question.name, markup=False)
                    yield Input(
                        # A secret is typed blind, and one already set is never shown.
                        value="" if question.secret else question.default,
                        password=question.secret,
                        placeholder=_placeholder(question),
                        suggester=SuggestFromList(question.suggestions, case_sensitive=False)
                        if question.suggestions
                        else None,
                        id=f"variable-{question.name}",
                        classes="variable-input",
                    )
                    if question.suggestions:
                        shown = ", ".join(question.suggestions[:4])
                        yield Static(
                            f"suggestions: {shown} (→ accepts)",
                            classes="variable-hint",
                            markup=False,
                        )
            with Horizontal(classes="variables-buttons"):
                yield Button("Cancel", id="variables-cancel")
                yield Button("Continue", id="variables-ok", variant="primary")

    def on_mount(self) -> None:
        inputs = list(self.query(".variable-input").results(Input))
        if inputs:
            inputs[0].focus()

    def set_suggestions(self, name: str, suggestions: list[str]) -> None:
        """Offer suggestions that arrived after the form opened (image tags from Docker)."""
        for widget in self.query(f"#variable-{name}").results(Input):
            widget.suggester = SuggestFromList(suggestions, case_sensitive=False)
            if not widget.value and suggestions:
                widget.placeholder = f"e.g. {suggestions[0]}"

    def _values(self) -> dict[str, str]:
        """What was typed; an empty secret box keeps the value already set."""
        return {
            question.name: self.query_one(f"#variable-{question.name}", Input).value
            or (question.default if question.secret else "")
            for question in self.questions
        }

    def _next_input(self) -> Input | None:
        """The value after the focused one, if the focus is on a value that is not the last."""
        inputs = list(self.query(".variable-input").results(Input))
        focused = self.focused
        if not isinstance(focused, Input) or focused not in inputs:
            return None
        position = inputs.index(focused)
        return inputs[position + 1] if position < len(inputs) - 1 else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Elsewhere Enter is the focused widget's: submit the last value, press a button.
        return action != "next_value" or self._next_input() is not None

    def action_next_value(self) -> None:
        following = self._next_input()
        if following is not None:
            # Now, not through `focus()`, which queues the change behind the keys already sent.
            self.set_focus(following)

    @on(Input.Submitted)
    @on(Button.Pressed, "#variables-ok")
    def _submit(self) -> None:
        values = self._values()
        missing = [name for name, value in values.items() if not value.strip()]
        if missing:
            self.notify(f"Missing: {', '.join(missing)}", severity="warning")
            self.query_one(f"#variable-{missing[0]}", Input).focus()
            return
        self.dismiss(values)

    @on(Button.Pressed, "#variables-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _placeholder(question: VariableQuestion) -> str:
    if question.secret:
        return "secret: already set, Enter keeps it" if question.default else "secret"
    return question.hint or question.name
