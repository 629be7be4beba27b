"""Values written in runbook prose and tables: durations, bounds, expected responses."""

from __future__ import annotations

import json
import re
from typing import Any

from runbook.model import Bound

_DURATION_UNITS = {
    "ms": 0.001, "msec": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}  # fmt: skip
_SIZE_UNITS = {
    "b": 1.0, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
    "kib": 1024.0, "mib": 1024.0**2, "gib": 1024.0**3, "tib": 1024.0**4,
}  # fmt: skip
DURATION_WORDS = r"ms|msecs?|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?"
_NUMBER_UNIT = re.compile(r"(-?\d+(?:[.,]\d+)?)\s*([A-Za-z%]*)")
_BOUND = re.compile(r"^\s*(>=|<=|≥|≤|>|<|=|==|above|below|over|under)?\s*(.+?)\s*$", re.I)
_OPS = {"≥": ">=", "≤": "<=", "above": ">", "over": ">", "below": "<", "under": "<", "==": "="}
_STATUS = re.compile(r"\b([1-5]\d\d)\b")
_JSONISH = re.compile(r"\{.*\}|\[.*\]", re.S)
_MARKUP = re.compile(r"[\[`*_]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_][\w-]*)\s*:")


def parse_duration(text: str) -> float | None:
    """`5 minutes` -> 300.0, `500ms` -> 0.5, `90` -> 90.0 (seconds); None if not a duration."""
    match = _NUMBER_UNIT.fullmatch(text.strip())
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    unit = match.group(2).lower()
    if not unit:
        return value
    factor = _DURATION_UNITS.get(unit)
    return None if factor is None else value * factor


def parse_bound(text: str) -> Bound | None:
    """A threshold cell: `> 70%` -> Bound('>', 70, '%'); `> 500ms` -> Bound('>', 0.5, 's')."""
    cleaned = text.replace("`", "").replace("*", "").strip()
    match = _BOUND.match(cleaned)
    if not match or not cleaned:
        return None
    op = _OPS.get((match.group(1) or ">").lower(), (match.group(1) or ">").lower())
    quantity = _NUMBER_UNIT.match(match.group(2))
    if not quantity:
        return None
    value = float(quantity.group(1).replace(",", "."))
    unit = quantity.group(2)
    lowered = unit.lower()
    if lowered in _DURATION_UNITS:
        return Bound(op, value * _DURATION_UNITS[lowered], "s", cleaned)
    if lowered in _SIZE_UNITS:
        return Bound(op, value * _SIZE_UNITS[lowered], "B", cleaned)
    return Bound(op, value, unit, cleaned)


def parse_expected_response(text: str) -> tuple[int | None, Any]:
    """`200 OK` with `{status: "healthy"}` -> (200, {"status": "healthy"})."""
    status_match = _STATUS.search(text)
    status = int(status_match.group(1)) if status_match else None
    body: Any = None
    json_match = _JSONISH.search(text.replace("`", ""))
    if json_match:
        body = parse_relaxed_json(json_match.group(0))
    return status, body


def parse_relaxed_json(text: str) -> Any:
    """JSON as people write it in tables: bare keys and single quotes allowed."""
    for candidate in (text, _BARE_KEY.sub(r'\1"\2":', text.replace("'", '"'))):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return text


def normalise_url(text: str) -> str | None:
    """`localhost:5173` -> `http://localhost:5173`; `TBD`, `-`, `N/A` -> None."""
    cleaned = text.replace("`", "").strip().strip("<>")
    link = re.search(r"\]\(([^)]+)\)", cleaned)
    if link:
        cleaned = link.group(1)
    if not cleaned or cleaned.lower() in ("tbd", "-", "n/a", "na", "none", "todo", "—", "?"):
        return None
    if " " in cleaned:
        return None
    if "://" not in cleaned:
        cleaned = "http://" + cleaned
    return cleaned


def plain_text(markdown: str) -> str:
    """Table-cell markdown as plain text (code spans, emphasis and links flattened)."""
    if not _MARKUP.search(markdown):
        return markdown.strip()
    text = _LINK.sub(r"\1", markdown) if "](" in markdown else markdown
    return text.replace("`", "").replace("**", "").replace("__", "").strip()
