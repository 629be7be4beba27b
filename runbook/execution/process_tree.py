"""Find and end every descendant of a process, via /proc.

A process group is not enough: a grandchild can leave it with setsid, and an
orphan is re-parented away from us. The supervisor therefore makes itself a
child subreaper (orphans of its subtree come back to it) and ends its whole
subtree, found by walking parent links in /proc.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
_PROC = Path("/proc")


def become_subreaper() -> bool:
    """Ask Linux to re-parent orphaned descendants to this process; False if unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a process, None if it is gone."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name sits in parentheses and may itself hold spaces or parentheses.
    fields = raw[raw.rfind(")") + 2 :].split()
    return int(fields[1]), fields[0]


def descendants(root: int) -> set[int]:
    """Live (non-zombie) processes below `root`."""
    children: dict[int, list[int]] = {}
    states: dict[int, str] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        info = _stat(int(entry.name))
        if info is None:
            continue
        children.setdefault(info[0], []).append(int(entry.name))
        states[int(entry.name)] = info[1]
    found: set[int] = set()
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return {pid for pid in found if states.get(pid) != "Z"}


def signal_tree(root: int, sig: int, group: int | None = None) -> set[int]:
    """Send `sig` to the process group `group` (if given) and to every descendant of `root`.

    Returns:
        The descendants that were signalled.
    """
    if group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)
    targets = descendants(root)
    for pid in targets:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
    return targets


def reap_children() -> dict[int, int]:
    """Collect every exited child without blocking; returns {pid: wait status}."""
    statuses: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return statuses
        if pid == 0:
            return statuses
        statuses[pid] = status


def exit_code(status: int) -> int:
    """A shell-style exit code: the code, or 128 + signal number for a killed process."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def signal_name(status: int) -> str | None:
    if os.WIFSIGNALED(status):
        return signal.Signals(os.WTERMSIG(status)).name
    return None
