"""The audit trail: append-only JSON Lines, one record when a step starts, one when it ends.

Each record carries who (user, uid, host, tty, SSH client), where (environment,
runbook path and sha256, procedure, step), what (the exact command) and, at the
end, the outcome (status, exit code, duration, masked output tail). Lines are
written with O_APPEND in a single write and fsynced, so concurrent consoles do
not interleave and a crash loses nothing already reported.
"""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path
from typing import Any

from runbook.storage.jsonl import append_line, read_lines


class AuditError(Exception):
    """The audit trail cannot be written."""


def operator_identity() -> dict[str, Any]:
    """Who is at the keyboard: user, uid, host, tty and the SSH client address."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = str(os.getuid())
    tty: str | None = None
    for fd in (0, 1, 2):
        try:
            tty = os.ttyname(fd)
            break
        except OSError:
            continue
    ssh = os.environ.get("SSH_CONNECTION", "").split()
    return {
        "user": user,
        "uid": os.getuid(),
        "host": socket.gethostname(),
        "tty": tty,
        "ssh_client": " ".join(ssh[:2]) if ssh else None,
    }


class AuditTrail:
    """Appends records to one JSON Lines file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: dict[str, Any]) -> None:
        """Write one record durably.

        Raises:
            AuditError: the directory or file cannot be created or written.
        """
        try:
            append_line(self.path, record, mode=0o640)
        except OSError as error:
            reason = error.strerror or str(error)
            raise AuditError(f"audit trail {self.path} cannot be written: {reason}") from None

    def check_writable(self) -> str | None:
        """None when records can be appended, else the reason they cannot (nothing is written)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            os.close(fd)
        except OSError as error:
            return f"audit trail {self.path} cannot be written: {error.strerror or error}"
        return None


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record in the trail, oldest first; a torn last line is skipped."""
    return read_lines(path)
