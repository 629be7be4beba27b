"""The keyword arguments every Textual widget takes, for widgets that pass them through."""

from __future__ import annotations

from typing import TypedDict


class WidgetOptions(TypedDict, total=False):
    """`name`, `id`, `classes` and `disabled`, as Widget, Static, DataTable and Tree take them.

    A widget with its own arguments types the rest as `**options: Unpack[WidgetOptions]`
    and hands them to `super().__init__` unchanged.
    """

    name: str | None
    id: str | None
    classes: str | None
    disabled: bool
