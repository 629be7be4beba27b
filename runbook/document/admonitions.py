"""Admonitions: the warnings and notes a runbook sets apart from its text.

A paragraph such as "**DO NOT RUN THE FOLLOWING ON A POOL REPOSITORY**" or
"**Caution:** ...", a quote opening with `**Warning**` or a GitHub alert
(`[!WARNING]`), an MkDocs `!!! danger` block or a Docusaurus `:::warning` block
speaks about what comes next: the parser gives it to the step that follows it.
"""

from __future__ import annotations

import re

from runbook.model import Admonition, AdmonitionKind

_WARNING_WORDS = frozenset(
    "warning warn caution danger attention important critical error failure bug".split()
)
"""Admonition types read as warnings; any other type (note, tip, info...) is a note."""
_KEYWORDS = "warning|warn|caution|danger|attention|important|critical|note|notice|tip|hint|info"
_GITHUB_ALERT = re.compile(r"^\[!(\w+)\][ \t]*\n?", re.I)
_MKDOCS = re.compile(r"^(?:!!!|\?\?\?\+?)[ \t]*(\w+)(?:[ \t]+\"([^\"]*)\")?[ \t]*\n?")
_DOCUSAURUS = re.compile(r"^:::[ \t]*(\w+)(?:[ \t]+([^\n]*))?\n?")
_DOCUSAURUS_END = re.compile(r"\n?[ \t]*:::[ \t]*$")
_BOLD_LABEL = re.compile(rf"^(\*\*|__)\s*({_KEYWORDS})\s*[:!]?\s*\1\s*[:!]?[ \t]*\n?", re.I)
"""`**Warning**`, `**Note:**`, `__Caution__:`."""
_PLAIN_LABEL = re.compile(rf"^(?:⚠️?\s*)?({_KEYWORDS})\s*:[ \t]*", re.I)
"""`Warning: ...`, `NOTE: ...`."""
_WHOLE_BOLD = re.compile(r"^(\*\*|__)(?!\s)(.+?)(?<!\s)\1[.!]*$", re.S)
_ORDER = re.compile(r"^(?:do not|don't|never|must not)\b", re.I)


def read_admonition(kind: str, source: str, line: int) -> Admonition | None:
    """The admonition a top-level block is, or None.

    Args:
        kind: the block's kind ("paragraph", "blockquote").
        source: the block's markdown, as written.
        line: the block's first line (1-based).
    """
    if kind == "blockquote":
        quoted = "\n".join(re.sub(r"^\s*> ?", "", text) for text in source.split("\n")).strip()
        alert = _GITHUB_ALERT.match(quoted)
        if alert:
            return _made(alert.group(1), quoted[alert.end() :], line)
        return _paragraph(quoted, line)
    if kind == "paragraph":
        return _paragraph(source.strip(), line)
    return None


def opens_docusaurus(source: str) -> bool:
    """Whether a paragraph opens a Docusaurus block (`:::warning`) it does not close."""
    text = source.strip()
    return bool(_DOCUSAURUS.match(text)) and not _DOCUSAURUS_END.search(text.split("\n", 1)[-1])


def closes_docusaurus(source: str) -> bool:
    """Whether a block ends a Docusaurus block (its last line is `:::`)."""
    return bool(_DOCUSAURUS_END.search(source.strip()))


def _paragraph(text: str, line: int) -> Admonition | None:
    if match := _MKDOCS.match(text):
        body = _dedent(text[match.end() :])
        return _made(match.group(1), _titled(match.group(2), body), line)
    if match := _DOCUSAURUS.match(text):
        body = _DOCUSAURUS_END.sub("", text[match.end() :]).strip()
        return _made(match.group(1), _titled(match.group(2), body), line)
    if match := _BOLD_LABEL.match(text):
        return _made(match.group(2), text[match.end() :], line)
    if match := _PLAIN_LABEL.match(text):
        return _made(match.group(1), text[match.end() :], line)
    if match := _WHOLE_BOLD.match(text):
        said = match.group(2).strip()
        letters = [c for c in said if c.isalpha()]
        shouted = len(said.split()) >= 2 and len(letters) >= 6 and said.upper() == said
        if shouted or _ORDER.match(said):
            return Admonition("warning", said, line)
    return None


def _made(label: str, body: str, line: int) -> Admonition:
    kind: AdmonitionKind = "warning" if label.lower() in _WARNING_WORDS else "note"
    return Admonition(kind, body.strip() or label.capitalize(), line)


def _titled(title: str | None, body: str) -> str:
    title = (title or "").strip().strip('"')
    return f"{title}: {body}" if title and body else title or body


def _dedent(text: str) -> str:
    return "\n".join(text_line.strip() for text_line in text.split("\n")).strip()
