"""The runbook's sections and procedures as a tree, with progress per procedure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Unpack

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from console.progress import Progress
from runbook.model import Procedure, Runbook, Section

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions


class Navigator(Tree[Procedure | None]):
    """Sections as branches, procedures as leaves; enter opens a procedure."""

    HELP = "Sections and procedures of the runbook. `enter` opens the highlighted procedure."
    BINDING_GROUP_TITLE = "Navigator"
    BINDINGS = [
        Binding(
            "j",
            "cursor_down",
            "Down",
            show=False,
            id="navigator-down",
            tooltip="Next row (also ↓)",
        ),
        Binding(
            "k",
            "cursor_up",
            "Up",
            show=False,
            id="navigator-up",
            tooltip="Previous row (also ↑)",
        ),
        Binding(
            "l",
            "open_procedure",
            "Open",
            show=False,
            id="navigator-open",
            tooltip="Open the highlighted procedure",
        ),
    ]

    @dataclass
    class ProcedureOpened(Message):
        """The operator chose a procedure."""

        procedure: Procedure
        navigator: Navigator

        @property
        def control(self) -> Navigator:
            return self.navigator

    @dataclass
    class ProcedureHighlighted(Message):
        """The cursor rests on a procedure: preview it without moving focus."""

        procedure: Procedure
        navigator: Navigator

        @property
        def control(self) -> Navigator:
            return self.navigator

    def __init__(
        self, runbook: Runbook, progress: Progress, **kwargs: Unpack[WidgetOptions]
    ) -> None:
        # Labels are Text, not markup: a title is shown as written, and Rich's markup
        # parser (and its emoji table) stays out of the first frame.
        super().__init__(Text(runbook.title or "Runbook"), **kwargs)
        self.runbook = runbook
        self.progress = progress
        self.show_root = False
        self.guide_depth = 2
        self._procedure_nodes: dict[str, TreeNode[Procedure | None]] = {}

    def on_mount(self) -> None:
        self.populate()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.refresh_labels())

    def show_runbook(self, runbook: Runbook) -> None:
        """The runbook was reloaded: its new sections and procedures."""
        self.runbook = runbook
        self.root.set_label(Text(runbook.title or "Runbook"))
        self.populate()

    def refresh_labels(self) -> None:
        for procedure in self.runbook.procedures:
            self.refresh_procedure(procedure)

    def populate(self) -> None:
        self.clear()
        self._procedure_nodes.clear()
        placed = 0
        sections = self.runbook.sections
        if len(sections) == 1 and sections[0].procedure is None:
            # The document's title heading wraps everything: show what it holds.
            sections = sections[0].children
        for section in sections:
            placed += self._add_section(self.root, section)
        if placed < len(self.runbook.procedures):
            # Procedures the section tree did not reach still get a place.
            for procedure in self.runbook.procedures:
                if procedure.key not in self._procedure_nodes:
                    self._add_procedure(self.root, procedure)
        self.root.expand()

    def _contains_procedure(self, section: Section) -> bool:
        return section.procedure is not None or any(
            self._contains_procedure(child) for child in section.children
        )

    def _add_section(self, parent: TreeNode[Procedure | None], section: Section) -> int:
        if not self._contains_procedure(section):
            return 0
        placed = 0
        if section.procedure is not None and not section.children:
            self._add_procedure(parent, section.procedure)
            return 1
        branch = parent.add(Text(section.title, style="bold"), data=section.procedure, expand=True)
        if section.procedure is not None:
            self._procedure_nodes[section.procedure.key] = branch
            placed += 1
            self.refresh_procedure(section.procedure)
        for child in section.children:
            placed += self._add_section(branch, child)
        return placed

    def _add_procedure(self, parent: TreeNode[Procedure | None], procedure: Procedure) -> None:
        node = parent.add_leaf(Text(), data=procedure)
        self._procedure_nodes[procedure.key] = node
        self.refresh_procedure(procedure)

    def label_for(self, procedure: Procedure) -> Text:
        finished, failed, total, _cancelled = self.progress.counts(procedure)
        if failed:
            glyph, colour = "✗ ", "error"
        elif total and finished == total:
            glyph, colour = "✓ ", "success"
        elif finished or procedure.key in self.progress.procedure_started:
            glyph, colour = "◐ ", "warning"
        else:
            glyph, colour = "○ ", "text-muted"
        # Tree labels are Rich Text, so the theme's colour is looked up by name.
        style = self.app.theme_variables.get(colour, "")
        return Text.assemble(
            (glyph, f"bold {style}".strip()), procedure.title, overflow="ellipsis", no_wrap=True
        )

    def render_label(
        self, node: TreeNode[Procedure | None], base_style: Style, style: Style
    ) -> Text:
        """The label, ending in an ellipsis where the column is too narrow for it (the
        navigator narrows beside the live panes): a cut name says that it is cut."""
        label = super().render_label(node, base_style, style)
        depth, parent = 0, node.parent
        while parent is not None and parent is not self.root:
            depth, parent = depth + 1, parent.parent
        room = self.scrollable_content_region.width - depth * self.guide_depth
        if room > 1 and label.cell_len > room:
            label.truncate(room, overflow="ellipsis")
        return label

    def refresh_procedure(self, procedure: Procedure) -> None:
        node = self._procedure_nodes.get(procedure.key)
        if node is not None:
            label = self.label_for(procedure)
            if node.label != label:  # each change rebuilds the tree's lines
                node.set_label(label)

    def select_procedure(self, procedure_key: str) -> None:
        node = self._procedure_nodes.get(procedure_key)
        if node is not None:
            self.move_cursor(node)

    def action_open_procedure(self) -> None:
        node = self.cursor_node
        if node is not None and node.data is not None:
            self.post_message(self.ProcedureOpened(node.data, self))

    def on_tree_node_selected(self, event: Tree.NodeSelected[Procedure | None]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.ProcedureOpened(event.node.data, self))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Procedure | None]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.ProcedureHighlighted(event.node.data, self))
