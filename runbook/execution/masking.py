"""Hide secret values in streamed output, the audit trail and reports.

A value is secret when the environment variable holding it has TOKEN, SECRET,
PASSWORD, PASSWD, KEY or CREDENTIAL (or a configured fragment) in its name.
Configured regex patterns are masked wherever they match.

Each secret is masked in the forms a step commonly prints it in, too: JSON-escaped
(`json.dumps`), URL-encoded, base64 (with and without padding) and quoted by the shell.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import urllib.parse
from collections.abc import Iterable, Mapping

_KEY_WORD = re.compile(r"(?:^|[^A-Z0-9])KEYS?(?:[^A-Z0-9]|$)|KEYS?$")
SECRET_NAME_FRAGMENTS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL")
MASK = "********"
MIN_SECRET_LENGTH = 4
"""Shorter values (``1``, ``yes``) would mask half the output and protect nothing."""
PATTERN_HOLD_BACK = 256
"""Characters kept back while streaming so a pattern match split across writes is still caught."""


def is_secret_name(name: str, extra_fragments: Iterable[str] = ()) -> bool:
    """Whether a variable's name marks its value as secret.

    KEY counts only as a word of the name (API_KEY, SSH_KEY_FILE) or its end
    (APIKEY): inside a word it is usually not a key at all (MONKEYTOWN, KEYBOARD).
    """
    upper = name.upper()
    fragments = (*SECRET_NAME_FRAGMENTS, *(x.upper() for x in extra_fragments))
    if any(fragment in upper for fragment in fragments if fragment != "KEY"):
        return True
    return "KEY" in fragments and bool(_KEY_WORD.search(upper))


def secret_values(env: Mapping[str, str], extra_fragments: Iterable[str] = ()) -> list[str]:
    """The values of secret-named variables, longest first (so overlaps mask fully)."""
    extra = tuple(extra_fragments)
    values = {
        value
        for name, value in env.items()
        if is_secret_name(name, extra) and len(value) >= MIN_SECRET_LENGTH
    }
    return sorted(values, key=len, reverse=True)


def encodings(value: str) -> set[str]:
    """`value` and the forms it is commonly printed in."""
    raw = value.encode("utf-8", "surrogatepass")
    b64 = base64.b64encode(raw).decode()
    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
        b64,
        b64.rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        shlex.quote(value),
    }


class Masker:
    """Masks known secret values (in their common encodings) and regex patterns in text."""

    def __init__(self, values: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self.values = sorted(
            {
                form
                for v in values
                if len(v) >= MIN_SECRET_LENGTH
                for form in encodings(v)
                if len(form) >= MIN_SECRET_LENGTH
            },
            key=len,
            reverse=True,
        )
        self.patterns = tuple(patterns)
        parts = [re.escape(v) for v in self.values] + [f"(?:{p})" for p in self.patterns]
        self._regex = re.compile("|".join(parts)) if parts else None
        self.hold_back = max((len(v) for v in self.values), default=0)
        if self.patterns:
            self.hold_back = max(self.hold_back, PATTERN_HOLD_BACK)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        patterns: Iterable[str] = (),
        extra_fragments: Iterable[str] = (),
    ) -> Masker:
        return cls(secret_values(env, extra_fragments), patterns)

    def mask(self, text: str) -> str:
        if self._regex is None:
            return text
        return self._regex.sub(MASK, text)

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self._regex is None:
            return []
        return [m.span() for m in self._regex.finditer(text) if m.end() > m.start()]

    def stream(self) -> StreamMasker:
        return StreamMasker(self)


class StreamMasker:
    """Masks a stream written in arbitrary chunks.

    `feed` returns the text that is safe to show now; the last few characters
    (up to the longest secret) are held back until the next chunk proves they do
    not begin a secret, or until `flush` at the end of the stream. A newline
    releases everything before it, since no secret spans lines.
    """

    def __init__(self, masker: Masker) -> None:
        self.masker = masker
        self._pending = ""

    def feed(self, chunk: str) -> str:
        text = self._pending + chunk
        if self.masker.hold_back == 0:
            self._pending = ""
            return text
        cut = max(0, len(text) - (self.masker.hold_back - 1))
        newline = text.rfind("\n")
        if newline + 1 > cut and not self._spans_newline():
            cut = newline + 1
        spans = self.masker.spans(text)
        for start, end in spans:
            if start < cut < end:
                cut = end
        out = _mask_spans(text[:cut], [(s, e) for s, e in spans if e <= cut])
        self._pending = text[cut:]
        return out

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self.masker.mask(text)

    def _spans_newline(self) -> bool:
        return any("\n" in v for v in self.masker.values)


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        pieces.append(text[position:start])
        pieces.append(MASK)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
