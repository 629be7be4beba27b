"""What the modal screens are asked to show: plain data, so the core bridge needs no widgets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfirmRequest:
    """Everything the operator must see before saying yes."""

    title: str
    risk: str
    commands: tuple[str, ...]
    cwd: str
    environment: str
    production: bool
    procedure: str = ""
    lock_note: str = ""


@dataclass(frozen=True)
class VariableQuestion:
    """One variable to ask for."""

    name: str
    default: str = ""
    suggestions: tuple[str, ...] = ()
    hint: str = ""
