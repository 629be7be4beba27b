"""The console's own theme, and the plain one for poor terminals."""

from __future__ import annotations

from textual.theme import Theme

RUNBOOK_THEME = Theme(
    name="runbook",
    primary="#4C9AFF",
    secondary="#8777D9",
    accent="#79E2F2",
    warning="#FFAB00",
    error="#FF5630",
    success="#36B37E",
    foreground="#E6EDF3",
    background="#0D1117",
    surface="#161B22",
    panel="#1F2630",
    dark=True,
)
"""Calm blues for a night on call; red and amber stay free to mean danger."""

REDUCED_COLOUR_THEME = "ansi-dark"
"""Uses the terminal's own 16 colours: legible on any terminal, even over old SSH clients."""
