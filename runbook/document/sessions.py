"""Interactive sessions that run on past their fence (issue 13, item 5).

A fence that ends inside a session it opened (`kubectl exec -it pod -- bash`, `oc debug
node/x` then `chroot /host`, `oc rsh`, `ssh host`, `psql`) and never leaves (`exit`)
leaves the operator in it: the runbook's next fences are often meant to be typed there,
in its own section or the sections after it. `SessionTracker` follows the steps of a
runbook in document order and says which of their commands are typed into a session an
earlier step opened; the parser turns those into session steps (`Step.session_from`).

A later command is typed inside the open session when nothing says the operator left:
- it leaves the session itself (`exit`), or
- a prompt says so (`sh-4.4# ls` after `$ kubectl exec …`: another prompt than the
  opener's), or
- it is in the opener's section (or a subsection of it), or in a section after it whose
  prose since the opener says where it runs ("inside the pod", "in the toolbox", "after
  connecting to the pod"), or its program is the one the session was opened for
  (`etcdctl` after `kubectl rsh -c etcdctl …`, `rbd` after a `rook-ceph` pod's shell).

The operator has left (the session is closed, the command runs locally) when the command
is a client run from the workstation (`kubectl`, `oc`, `helm`, cloud CLIs), when a prompt
is the opener's own, when the prose just before says so ("When you are done with the
toolbox", "exit the pod", "on your workstation"), when a heading above the opener's level
starts a new part, or when a later section says nothing of the session. A session of
another program (`psql`, `redis-cli`, `gdb`) only takes lines in its own language.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from runbook.document.assignments import assignments
from runbook.document.shell import (
    SESSION_EXITS,
    SHELLS,
    session_opener,
    strip_foreign_prompt,
    unaliased,
)
from runbook.model import Command, SessionOrigin

LOCAL_CLIENTS = frozenset(
    """kubectl oc helm kustomize k9s stern argocd flux istioctl linkerd velero minikube kind
    cmctl kubectl-rook-ceph aws gcloud az terraform scp rsync vagrant""".split()
)
"""Programs run from the operator's workstation, never typed into a pod's or a host's
shell: a command of theirs means the operator has left the session."""
_REMOTE_OPENERS = frozenset(("kubectl", "oc", "ssh", "docker", "podman", "nerdctl", "virsh"))
"""Openers reaching another machine or container: opened from the workstation, so one of
them opens a new session rather than one typed inside the open one."""
_PROGRAM_SESSIONS = {
    "psql": "sql",
    "mysql": "sql",
    "sqlite3": "sql",
    "redis-cli": "redis",
    "mongo": "program",
    "mongosh": "program",
    "gdb": "program",
    "lldb": "program",
    "go": "program",
    "gpg": "program",
    "gpg2": "program",
    "python": "program",
    "python3": "program",
    "telnet": "program",
}
"""Sessions of a program with a language of its own (not a shell): only lines of that
language are typed into them."""
_SQL = re.compile(
    r"^\s*(?:select|insert|update|delete|drop|create|alter|truncate|grant|revoke|show|"
    r"describe|explain|vacuum|analyze|begin|commit|rollback|use|set|with)\b|^\s*\\[a-z]",
    re.I,
)
_REDIS = re.compile(r"^\s*[A-Z][A-Z_.]+(?:\s|$)")
_FAMILIES = {
    "ceph": ("ceph", "rook"),
    "rbd": ("ceph", "rook"),
    "rados": ("ceph", "rook"),
    "radosgw-admin": ("ceph", "rook"),
    "ceph-volume": ("ceph", "rook"),
    "etcdctl": ("etcd",),
    "etcdutl": ("etcd",),
    "psql": ("postgres", "pg", "cnpg"),
    "mysql": ("mysql", "mariadb"),
    "redis-cli": ("redis",),
    "crictl": ("node/", "debug"),
}
"""A program and the words whose presence in the opener says the session is its home."""
_INSIDE = re.compile(
    r"\b(?:in|inside|within|into|from|on)\s+(?:the|this|that|a|an|your|its)\s+"
    r"(?:[\w`'\"./-]+\s+){0,3}?(?:pod|container|toolbox|shell|session|node|host|vm|console)s?\b"
    r"|\bafter\s+connecting\b|\bonce\s+(?:you\s+are\s+)?(?:connected|inside|logged\s+in)\b"
    r"|\bconnected\s+to\b",
    re.I,
)
"""Prose saying where the next commands are typed: in the session."""
_LEFT = re.compile(
    r"\b(?:exit|leave|quit)\s+(?:the|this|that|your|from)\b|\bwhen\s+you\s+are\s+done\s+with\b"
    r"|\bback\s+(?:on|to|in)\s+your\b|\b(?:from|on)\s+your\s+(?:local|own|workstation|laptop)"
    r"|\boutside\s+(?:of\s+)?the\s+(?:pod|container|node|host|session|toolbox)\b"
    r"|\bon\s+your\s+machine\b|\blocally\b",
    re.I,
)
"""Prose saying the operator has left the session."""
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=\S*$")
_PREFIXES = frozenset(("sudo", "env", "time", "exec", "nohup", "watch"))


def opener_line(session: str) -> str:
    """The command that opens a session (its last line: earlier ones set its variables)."""
    return session.strip().rsplit("\n", 1)[-1].strip()


def program_of(code: str) -> str:
    """The program a command's first line runs: aliases expanded, `sudo` and `VAR=x` skipped."""
    for line in code.split("\n"):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        while words and (words[0] in _PREFIXES or _ASSIGNMENT.match(words[0])):
            words = words[1:]
        return unaliased(words[0]) if words else ""
    return ""


def session_kind(session: str) -> str:
    """`shell` (a pod's, a node's, a host's shell), `sql`, `redis` or `program`."""
    program = program_of(opener_line(session))
    return _PROGRAM_SESSIONS.get(program, "shell")


def depth_after(code: str, depth: int) -> tuple[int, int | None]:
    """(sessions still open, the offset of the line after the one closing the last of
    them or None) once `code` is typed into `depth` nested sessions."""
    for offset, line in enumerate(code.split("\n")):
        stripped = line.strip()
        if stripped not in SESSION_EXITS:
            stripped = strip_foreign_prompt(stripped)  # `postgres=# \\q`
        if stripped in SESSION_EXITS:
            depth -= 1
            if depth <= 0:
                return 0, offset + 1
        elif stripped and session_opener(stripped):
            depth += 1
    return depth, None


@dataclass
class _Open:
    opener: str
    """The session as the step that opened it names it (`Command.session`)."""
    origin: SessionOrigin
    kind: str
    prompt: str | None
    """The prompt the opener was typed at, if it had one naming a place."""
    level: int
    """The level of the heading the opener sits under (0: none)."""
    depth: int
    """Sessions open, the opener's and those opened inside it (`chroot /host`)."""
    assigned: set[str] = field(default_factory=set)
    """Variables the lines typed so far assign: set in the session, never asked for."""

    def typed(self, command: Command, code: str) -> Command:
        """`command` as `code` typed into this session (its own variables only)."""
        variables = tuple(
            v for v in command.variables if v.kind != "env" or v.name not in self.assigned
        )
        self.assigned.update(assignments(code, 0))
        return replace(command, code=code, session=self.opener, carried=(), variables=variables)


@dataclass(frozen=True)
class Followed:
    """A step's commands once read against the session open before it."""

    commands: list[Command]
    origin: SessionOrigin | None = None
    """Where the session some of `commands` are now typed into was opened."""
    opener: str | None = None


class SessionTracker:
    """Follows a runbook's steps in document order, carrying an open session across fences
    and sections. The parser asks `follow` about every step that has commands once a
    session is open (and about every step opening one)."""

    def __init__(
        self,
        lines: Sequence[str],
        headings: Sequence[tuple[int, int]],
        code_spans: Callable[[], Sequence[tuple[int, int]]],
    ) -> None:
        """Args:
        lines: the runbook's lines.
        headings: (line, level) of every heading, in order.
        code_spans: (first, end exclusive) lines of every fenced or indented block,
            asked for only once a session runs past its fence.
        """
        self.lines = lines
        self.heading_lines = [line for line, _ in headings]
        self.heading_levels = [level for _, level in headings]
        self._code_spans = code_spans
        self._code: bytearray | None = None
        self.open: _Open | None = None
        self.last = 0
        """The line of the last command read: prose after it speaks of the next one."""

    def follow(
        self,
        commands: Sequence[Command],
        procedure: str,
        step: int,
        remake: Callable[[str, int], Command],
    ) -> Followed:
        """The step's commands, those typed into the open session marked so (`session` set to
        the opener's, `code` the lines typed, a nested opener such as `chroot /host`
        included); the state moves on past them.

        Args:
            commands: the step's commands, in order.
            procedure: the key of the step's procedure.
            step: the step's index there.
            remake: builds a command of the lines after an `exit` (they run locally).
        """
        result: list[Command] = []
        origin: SessionOrigin | None = None
        opener: str | None = None
        for command in commands:
            current = self.open
            if command.session is not None:
                inner = opener_line(command.session)
                if (
                    current is not None
                    and program_of(inner) not in _REMOTE_OPENERS
                    and self._inside(inner, command.prompt, command.line)
                ):
                    # `chroot /host`, `psql`, `gdb -p 1` typed in the open session.
                    code = "\n".join(part for part in (command.session, command.code) if part)
                    result.append(current.typed(command, code))
                    origin, opener = current.origin, current.opener
                    current.depth += depth_after(command.code, 1)[0]
                else:
                    depth = depth_after(command.code, 1)[0]
                    self.open = (
                        _Open(
                            command.session,
                            SessionOrigin(procedure, step, command.line),
                            session_kind(command.session),
                            command.prompt,
                            self._level(command.line),
                            depth,
                            set(assignments(command.code, 0)),
                        )
                        if depth
                        else None
                    )
                    result.append(command)
            elif current is not None and self._inside(command.code, command.prompt, command.line):
                depth, closed = depth_after(command.code, current.depth)
                lines = command.code.split("\n")
                if closed is not None and any(line.strip() for line in lines[closed:]):
                    result.append(current.typed(command, "\n".join(lines[:closed])))
                    result.append(remake("\n".join(lines[closed:]), command.line + closed))
                else:
                    result.append(current.typed(command, command.code))
                origin, opener = current.origin, current.opener
                current.depth = depth
                if not depth:
                    self.open = None
            else:
                self.open = None  # the operator is back on the workstation
                result.append(command)
            self.last = max(self.last, command.line)
        return Followed(result, origin, opener)

    # -- where a command is typed ------------------------------------------------

    def _inside(self, code: str, prompt: str | None, line: int) -> bool:
        """Whether a command at `line` is typed into the open session."""
        session = self.open
        assert session is not None
        first = next((x.strip() for x in code.split("\n") if x.strip()), "")
        if first in SESSION_EXITS:
            return True
        if session.kind == "sql":
            return bool(_SQL.match(first))
        if session.kind == "redis":
            return bool(_REDIS.match(first))
        if session.kind == "program":
            return False  # a shell command: the operator has quit gdb, pprof, python
        if prompt is not None:
            return prompt != session.prompt  # `sh-4.4#` after `$ oc debug`: the pod's prompt
        program = program_of(code)
        if program in LOCAL_CLIENTS:
            return False
        start = bisect_right(self.heading_lines, session.origin.line)
        end = bisect_left(self.heading_lines, line)
        between = self.heading_levels[start:end]
        if any(level < session.level for level in between):
            return False  # a new part of the document
        if _LEFT.search(self._prose(max(self.last, session.origin.line) + 1, line)):
            return False
        if session.level in between:
            # A later section: in the session only if its prose or its program says so.
            homes = _FAMILIES.get(program, (program,) if program not in SHELLS else ())
            opened = session.opener.lower()
            return any(home in opened for home in homes if home) or bool(
                _INSIDE.search(self._prose(session.origin.line + 1, line))
            )
        return True

    def _level(self, line: int) -> int:
        index = bisect_left(self.heading_lines, line) - 1
        return self.heading_levels[index] if index >= 0 else 0

    def _prose(self, first: int, end: int) -> str:
        """The runbook's lines from `first` up to `end` (1-based, exclusive), code left out."""
        if self._code is None:
            self._code = bytearray(len(self.lines) + 2)
            for start, stop in self._code_spans():
                self._code[start : min(stop, len(self._code))] = b"\x01" * max(
                    0, min(stop, len(self._code)) - start
                )
        return "\n".join(
            self.lines[number - 1]
            for number in range(max(first, 1), min(end, len(self.lines) + 1))
            if not self._code[number]
        )
