"""Every key binding of the console, grouped, with what it does."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static


def format_keys(key: str) -> str:
    """`j,down` -> `j ↓`."""
    names = {
        "down": "↓",
        "up": "↑",
        "left": "←",
        "right": "→",
        "enter": "enter",
        "escape": "esc",
        "question_mark": "?",
        "slash": "/",
        "space": "space",
    }
    parts = [names.get(part.strip(), part.strip()) for part in key.split(",")]
    return " / ".join(part.replace("ctrl+", "^") for part in parts)


class HelpScreen(ModalScreen[None]):
    """A scrollable list of every binding; any of escape, q, ? or F1 closes it."""

    BINDINGS = [
        Binding(
            "escape,q,question_mark,f1",
            "dismiss",
            "Close",
            id="help-close",
            tooltip="Close the help",
        ),
        Binding("j,down", "scroll_down", "Down", show=False, id="help-down", tooltip="Scroll down"),
        Binding("k,up", "scroll_up", "Up", show=False, id="help-up", tooltip="Scroll up"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 80; max-width: 100%; height: 100%; max-height: 40;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; width: 1fr; }
    HelpScreen #help-body { height: 1fr; }
    HelpScreen .help-group { text-style: bold; color: $text-accent; margin-top: 1; }
    HelpScreen .help-row { height: auto; }
    HelpScreen .help-keys { width: 16; text-align: right; padding-right: 2;
        color: $accent; text-style: bold; }
    HelpScreen .help-text { width: 1fr; }
    """

    def __init__(self, groups: Iterable[tuple[str, list[Binding]]], intro: str = "") -> None:
        """Args:
        groups: (title, bindings) in the order shown; repeats are listed once.
        intro: a line above the keys.
        """
        super().__init__()
        seen: set[tuple[str, str]] = set()
        self.groups = []
        for title, bindings in groups:
            unique = []
            for binding in bindings:
                # Widgets that share a key for the same thing (j in two lists) show it once.
                if (binding.key, binding.description) not in seen:
                    seen.add((binding.key, binding.description))
                    unique.append(binding)
            if unique:
                self.groups.append((title, unique))
        self.intro = intro

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "Keys  (esc closes; ctrl+p opens the command palette)",
                id="help-title",
                markup=False,
            )
            with VerticalScroll(id="help-body"):
                if self.intro:
                    yield Static(Content.styled(self.intro, "$text-muted"), markup=False)
                for title, bindings in self.groups:
                    yield Static(title, classes="help-group", markup=False)
                    for binding in bindings:
                        keys = binding.key_display or format_keys(binding.key)
                        with Horizontal(classes="help-row"):
                            yield Static(keys, classes="help-keys", markup=False)
                            yield Static(
                                Content.assemble(
                                    (binding.description, "bold"),
                                    (
                                        f"  {binding.tooltip}" if binding.tooltip else "",
                                        "$text-muted",
                                    ),
                                ),
                                classes="help-text",
                                markup=False,
                            )

    def action_scroll_down(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_up()
