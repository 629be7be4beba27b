"""Append-only JSON Lines files: the audit trail, the deployment history, drill results.

Each record goes out in one `write` on an O_APPEND descriptor and is fsynced, so
concurrent writers on the box never interleave and a crash loses at most the
record being written; readers skip a torn last line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def append_line(path: Path, record: dict[str, Any], mode: int = 0o644) -> None:
    """Append one record durably.

    Raises:
        OSError: the directory or file cannot be created or written (a short write too).
    """
    line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
    try:
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"short write ({written} of {len(line)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every record, oldest first; torn, blank or non-object lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    records: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records
