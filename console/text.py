"""Outside text (runbook titles, commands, engine and log text, what the operator typed)
where Textual insists on markup: escaped, so it shows exactly as written.

Most widgets here take text with `markup=False`, or a `Content`. The command palette
and the fuzzy matcher's highlighting read markup only; they get `literal(text)`.
"""

from __future__ import annotations


def literal(text: str) -> str:
    """`text` as Textual content markup that renders as `text` itself (`[/red]` and all)."""
    return text.replace("[", "\\[")
