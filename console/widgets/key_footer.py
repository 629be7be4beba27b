"""The key footer: Textual's, with its keys made in the footer's style before they mount."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # not exported; the footer's own key widget


class KeyFooter(Footer):
    """A `Footer` whose keys start in the footer's compact style.

    The footer composes its keys again whenever the focused widget's bindings change. A new
    key starts compact (its reactive's default) and is then bound to the footer's value:
    each change of its class restyles it, one or two restyles per key and composition,
    about a seventh of the console's start-up CPU at 80x24. Here each key gets the footer's
    value and class before it mounts, so binding it changes nothing; a later change of the
    footer's `compact` still reaches every key through that binding.
    """

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # A key bound to the footer's `compact` takes its value; one that is not (the
                # command palette's) keeps its own default.
                bound = "compact" in (widget._reactive_connect or {})  # noqa: SLF001
                compact = self.compact if bound else widget.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
