"""The runbook model: what a runbook.md says, as frozen dataclasses.

Everything here is plain data: the parser builds it, the executor, the CLI and
the TUI read it. `to_dict` gives the JSON shape documented in docs/schema.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Risk = Literal["read-only", "mutating", "destructive"]
StepKind = Literal["manual", "command", "wait", "decision", "deadline"]
VariableKind = Literal["env", "placeholder", "export"]
TableKind = Literal["thresholds", "endpoints", "environments", "generic"]
AdmonitionKind = Literal["warning", "note"]
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Where `str.splitlines` breaks a line."""

RISK_ORDER: dict[Risk, int] = {"read-only": 0, "mutating": 1, "destructive": 2}
"""Risks ranked, so the riskiest of several commands can be picked with max()."""


@dataclass(frozen=True)
class Variable:
    """A value the operator supplies before a command runs."""

    name: str
    kind: VariableKind
    default: str | None = None
    """The default from an `export NAME=value` line; env defaults come at run time."""
    assigned_by: str | None = None
    """Where an earlier step of the procedure assigns it when that assignment cannot run
    again (`step 2: TOKEN=$(curl -X POST …)`): the operator types the value it gave."""
    earlier_value: str | None = None
    """The literal that earlier assignment gives (`/dev/sdX`, often an example to replace):
    offered to the operator, never used without asking."""


@dataclass(frozen=True)
class Command:
    """One runnable command (possibly several shell lines run as one script)."""

    code: str
    """The shell code, comment lines and `$ ` prompts removed."""
    line: int
    """1-based line in the runbook where the code starts."""
    risk: Risk
    variables: tuple[Variable, ...] = ()
    comments: tuple[str, ...] = ()
    """Comment lines that belong to the command, without their `#`."""
    language: str = ""
    name: str | None = None
    """A Runme `name=` attribute, if any."""
    timeout_s: float | None = None
    confirm: bool | None = None
    """Explicit override of the confirmation rule, from the `rb-confirm` attribute."""
    verify: str | None = None
    """A read-only command that checks the effect, from the `rb-verify` attribute."""
    attributes: tuple[tuple[str, str], ...] = ()
    """Every fence attribute as written (Runme's and ours)."""
    prompt: str | None = None
    """Where a transcript's prompt says to run the code (`[cluster-1]`, `root@node1:~`)."""
    session: str | None = None
    """The interactive command (`oc debug node/x`, `psql`) this code is typed into. Such
    code never runs on the operator's machine: the planner refuses it, and the parser
    keeps it out of `Step.commands` (in `Step.session_commands`)."""
    carried: tuple[str, ...] = ()
    """Assignments of earlier steps of its procedure that the code reads (`export
    NS=$(oc get …)`), run again just before it: every step has a shell of its own."""

    @property
    def runnable_code(self) -> str:
        """What the shell runs: the carried assignments, then the code."""
        return "\n".join((*self.carried, self.code)) if self.carried else self.code

    @property
    def variable_names(self) -> tuple[str, ...]:
        return tuple(variable.name for variable in self.variables)


@dataclass(frozen=True)
class Admonition:
    """A warning or note the runbook sets apart (`**Caution:**`, `> [!WARNING]`, `!!! danger`)."""

    kind: AdmonitionKind
    """"warning" (warning, caution, danger, important, a shouted or "do not" line) or "note"."""
    text: str
    """Its markdown, without the marker (`**Warning:**`, `!!! danger`, `> `)."""
    line: int

    @property
    def label(self) -> str:
        """How the console marks it: it is the runbook's word, not the console's."""
        return "⚠ Warning from the runbook" if self.kind == "warning" else "Note from the runbook"

    def describe(self) -> str:
        """One line: the label and the text, its lines joined."""
        return f"{self.label}: {' '.join(self.text.split())}"


@dataclass(frozen=True)
class SessionOrigin:
    """Where an interactive session that a later step is typed into was opened."""

    procedure: str
    """The key of the procedure holding the opening step (often an earlier section's)."""
    step: int
    """The opening step's index in that procedure."""
    line: int
    """The line of the command that opened the session."""


@dataclass(frozen=True)
class Rollout:
    """A step that runs once per Docker engine of the environment, canary first, then in
    batches (Runme-style fence attributes: ```` ```sh {"hosts": "all", "batch": 1} ````)."""

    hosts: tuple[str, ...] | None
    """Names from the environment's `docker_hosts`; None means all of them."""
    batch: int = 1
    """How many hosts run at once after the canaries."""
    max_failures: int = 0
    """How many hosts may fail before the roll stops (0: it stops at the first failure)."""
    canary: int = 1
    """How many hosts run first, on their own, before any batch."""
    line: int = 0
    error: str | None = None
    """Why the attributes cannot be read; a step with an error is never planned."""

    def describe(self) -> str:
        """`all hosts, canary 1, batches of 2, stops at the first failure`."""
        hosts = "all hosts" if self.hosts is None else "hosts " + ", ".join(self.hosts)
        stops = (
            "stops at the first failure"
            if self.max_failures == 0
            else f"stops after {self.max_failures + 1} failures"
        )
        return f"{hosts}, canary {self.canary}, batches of {self.batch}, {stops}"


@dataclass(frozen=True)
class Step:
    """One thing the operator does: tick it, run it, wait, decide or beat a deadline."""

    index: int
    """1-based position in its procedure."""
    text: str
    """The step's markdown, kept for rendering."""
    line: int
    kind: StepKind
    commands: tuple[Command, ...] = ()
    wait_s: float | None = None
    deadline_s: float | None = None
    condition: str | None = None
    """For a decision: the condition ("healthy")."""
    outcome: str | None = None
    """For a decision: what to do when the condition holds ("decommission blue")."""
    session: str | None = None
    """The interactive command this step opens (`oc debug node/x`): a manual step whose
    `session_commands` the operator types inside that session."""
    session_commands: tuple[Command, ...] = ()
    """The lines typed inside `session` (each with `Command.session` set); never run here."""
    session_from: SessionOrigin | None = None
    """Set when `session` was opened by an earlier step (an earlier fence, often an earlier
    section: `kubectl exec -it pod -- bash`, then the fences meant for that shell): the
    step is typed into that session, which it does not open itself."""
    admonitions: tuple[Admonition, ...] = ()
    """The warnings and notes written just before the step: they speak about it."""
    rollout: Rollout | None = None
    """Set when the step runs once per Docker engine (`hosts` fence attributes)."""

    @property
    def title(self) -> str:
        """The step's first line as plain text, for lists."""
        text = self.text.lstrip()
        # Only the first line is split off: a step can hold a 100,000-line fence.
        found = _LINE_BREAK.search(text)
        if found is None or text[found.start() :].isspace():
            first = text.rstrip()
        else:
            first = text[: found.start()]
        return first.replace("**", "").replace("`", "")

    @property
    def incident_action(self) -> Literal["acknowledge", "escalate"] | None:
        """The incident action this step asks for, by its title: "Acknowledge alert within
        5 minutes" (or "Respond ...") acknowledges, "Escalate if not resolved ..." escalates.
        A severity's deadlines come from these steps (runbook.document.parser)."""
        lowered = self.title.lower()
        if lowered.startswith(("ack", "respond")):
            return "acknowledge"
        return "escalate" if "escalat" in lowered else None

    @property
    def risk(self) -> Risk:
        """The riskiest of the step's commands (read-only when it has none)."""
        return max((c.risk for c in self.commands), key=RISK_ORDER.__getitem__, default="read-only")


@dataclass(frozen=True)
class Procedure:
    """A section whose body is a list of actions or runnable code."""

    title: str
    line: int
    steps: tuple[Step, ...]
    path: tuple[str, ...] = ()
    """Titles of the enclosing sections, outermost first."""
    level: int = 2
    intro: str = ""
    """Markdown before the first step (context)."""
    admonitions: tuple[Admonition, ...] = ()
    """Warnings and notes after the last step, which no step follows: the section's own."""

    @property
    def key(self) -> str:
        """A stable identifier within the runbook: the section path and title."""
        return " / ".join((*self.path, self.title))

    def step_at(self, index: int) -> Step | None:
        """The step with this 1-based index, or None."""
        return next((step for step in self.steps if step.index == index), None)


@dataclass(frozen=True)
class Section:
    """A heading and what lies under it."""

    title: str
    level: int
    line: int
    body: str = ""
    """Markdown of the section's own body (not its subsections)."""
    children: tuple[Section, ...] = ()
    procedure: Procedure | None = None


@dataclass(frozen=True)
class Bound:
    """One side of a threshold: `> 500ms` is Bound(">", 0.5, "s")."""

    op: str
    value: float
    unit: str
    text: str = ""

    def breached_by(self, observed: float) -> bool:
        """Whether an observed value (in this bound's unit) crosses it."""
        if self.op in (">", "above"):
            return observed > self.value
        if self.op == ">=":
            return observed >= self.value
        if self.op in ("<", "below"):
            return observed < self.value
        if self.op == "<=":
            return observed <= self.value
        return observed == self.value


@dataclass(frozen=True)
class Threshold:
    metric: str
    warning: Bound | None
    critical: Bound | None
    action: str
    line: int


@dataclass(frozen=True)
class Endpoint:
    path: str
    purpose: str
    expect_status: int | None
    expect_body: Any
    """Parsed JSON body the response must contain, or None."""
    expect_text: str
    """The table cell as written."""
    line: int


@dataclass(frozen=True)
class Environment:
    name: str
    purpose: str
    url: str | None
    status: str
    line: int

    @property
    def is_production(self) -> bool:
        return self.name.strip().lower() in ("production", "prod")


@dataclass(frozen=True)
class Severity:
    level: str
    title: str
    acknowledge_s: float | None
    escalate_s: float | None
    procedure: str
    """Key of the procedure that handles this severity."""
    line: int


@dataclass(frozen=True)
class Reference:
    title: str
    target: str
    line: int


@dataclass(frozen=True)
class Table:
    kind: TableKind
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    line: int
    section: str = ""


@dataclass(frozen=True)
class Problem:
    """Something wrong with the document; `warning` leaves it usable."""

    line: int
    message: str
    severity: Literal["warning", "error"] = "warning"


@dataclass(frozen=True)
class Runbook:
    title: str
    sha256: str
    path: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    sections: tuple[Section, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    environments: tuple[Environment, ...] = ()
    severities: tuple[Severity, ...] = ()
    references: tuple[Reference, ...] = ()
    tables: tuple[Table, ...] = ()
    problems: tuple[Problem, ...] = ()

    def procedure(self, name: str) -> Procedure | None:
        """Find a procedure by key, exact title or unambiguous case-insensitive substring."""
        for procedure in self.procedures:
            if name in (procedure.key, procedure.title):
                return procedure
        needle = name.casefold()
        matches = [p for p in self.procedures if needle in p.key.casefold()]
        return matches[0] if len(matches) == 1 else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape printed by `runbook-console show --json`."""
        return {
            "title": self.title,
            "path": self.path,
            "sha256": self.sha256,
            "metadata": self.metadata,
            "procedures": [_procedure_dict(p) for p in self.procedures],
            "thresholds": [
                {
                    "metric": t.metric,
                    "warning": _bound_dict(t.warning),
                    "critical": _bound_dict(t.critical),
                    "action": t.action,
                    "line": t.line,
                }
                for t in self.thresholds
            ],
            "endpoints": [
                {
                    "path": e.path,
                    "purpose": e.purpose,
                    "expect_status": e.expect_status,
                    "expect_body": e.expect_body,
                    "expect_text": e.expect_text,
                    "line": e.line,
                }
                for e in self.endpoints
            ],
            "environments": [
                {
                    "name": e.name,
                    "purpose": e.purpose,
                    "url": e.url,
                    "status": e.status,
                    "line": e.line,
                }
                for e in self.environments
            ],
            "severities": [
                {
                    "level": s.level,
                    "title": s.title,
                    "acknowledge_s": s.acknowledge_s,
                    "escalate_s": s.escalate_s,
                    "procedure": s.procedure,
                    "line": s.line,
                }
                for s in self.severities
            ],
            "references": [
                {"title": r.title, "target": r.target, "line": r.line} for r in self.references
            ],
            "tables": [
                {
                    "kind": t.kind,
                    "section": t.section,
                    "header": list(t.header),
                    "rows": [list(r) for r in t.rows],
                    "line": t.line,
                }
                for t in self.tables
            ],
            "problems": [
                {"line": p.line, "severity": p.severity, "message": p.message}
                for p in self.problems
            ],
        }


def _bound_dict(bound: Bound | None) -> dict[str, Any] | None:
    if bound is None:
        return None
    return {"op": bound.op, "value": bound.value, "unit": bound.unit}


def _admonitions_dict(admonitions: tuple[Admonition, ...]) -> dict[str, Any]:
    if not admonitions:
        return {}
    return {"admonitions": [{"kind": a.kind, "text": a.text, "line": a.line} for a in admonitions]}


def _procedure_dict(procedure: Procedure) -> dict[str, Any]:
    return {
        "title": procedure.title,
        "key": procedure.key,
        "path": list(procedure.path),
        "line": procedure.line,
        **_admonitions_dict(procedure.admonitions),
        "steps": [
            {
                "index": s.index,
                "text": s.text,
                "line": s.line,
                "kind": s.kind,
                **_admonitions_dict(s.admonitions),
                **({"wait_s": s.wait_s} if s.wait_s is not None else {}),
                **({"deadline_s": s.deadline_s} if s.deadline_s is not None else {}),
                **(
                    {"condition": s.condition, "outcome": s.outcome} if s.kind == "decision" else {}
                ),
                "commands": [_command_dict(c) for c in s.commands],
                **({"rollout": _rollout_dict(s.rollout)} if s.rollout is not None else {}),
                **(
                    {
                        "session": s.session,
                        "session_commands": [_command_dict(c) for c in s.session_commands],
                    }
                    if s.session is not None
                    else {}
                ),
                **(
                    {
                        "session_from": {
                            "procedure": s.session_from.procedure,
                            "step": s.session_from.step,
                            "line": s.session_from.line,
                        }
                    }
                    if s.session_from is not None
                    else {}
                ),
            }
            for s in procedure.steps
        ],
    }


def _rollout_dict(rollout: Rollout) -> dict[str, Any]:
    return {
        "hosts": "all" if rollout.hosts is None else list(rollout.hosts),
        "batch": rollout.batch,
        "max_failures": rollout.max_failures,
        "canary": rollout.canary,
        "line": rollout.line,
        **({"error": rollout.error} if rollout.error else {}),
    }


def _command_dict(command: Command) -> dict[str, Any]:
    return {
        "code": command.code,
        "line": command.line,
        "risk": command.risk,
        "variables": list(command.variable_names),
        "comments": list(command.comments),
        **({"name": command.name} if command.name else {}),
        **({"timeout_s": command.timeout_s} if command.timeout_s is not None else {}),
        **({"prompt": command.prompt} if command.prompt else {}),
        **({"session": command.session} if command.session is not None else {}),
        **({"carried": list(command.carried)} if command.carried else {}),
    }
