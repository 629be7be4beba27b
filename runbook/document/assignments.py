"""Variables a procedure assigns in one step and reads in a later one.

Every step runs in a shell of its own, so `export NS="$(oc get kubevirt …)"` in
step 2 has left nothing behind when step 4 runs `oc -n $NS get pods`. Asking the
operator for NS would be asking them to redo the runbook's work by hand, so the
assignment travels instead: a later command that reads NS carries the line and
runs it again first (`Command.carried`; the plan, the confirmation and the audit
show it). Only a value the runbook computes travels, and only when running it
twice is harmless: a line of its own, read-only by the risk rules
(`$(kubectl get …)`, `http://$HOST:80`). A literal (`DISK=/dev/sdX`) is most often
an example to replace, so the later step asks, offering it (`Variable.earlier_value`);
anything else (`TOKEN=$(curl -X POST …)`, `read NS`, a loop variable) is asked for
too. Either way the question says which step assigned it (`Variable.assigned_by`).
Within one step the commands share one shell: a value an earlier command of the
step computes is never asked for (a literal is, offered, as above).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from runbook.document.commands import find_variables
from runbook.execution.risk import classify
from runbook.execution.shell_words import Word, lex
from runbook.model import Command, Problem, Procedure, Step, Variable

_ASSIGNMENT_LINE = re.compile(
    r"^(?:export\s+|readonly\s+|declare\s+(?:-\w+\s+)*)?[A-Za-z_]\w*\+?=(?!=)"
)
_DECLARERS = frozenset({"export", "readonly", "declare"})
_NAME_VALUE = re.compile(r"^[A-Za-z_]\w*\+?=")
_BRIEF = 60
_ASSIGNING_WORDS = ("read", "for", "select", "mapfile", "getopts")
"""Words a command assigning a variable without `=` holds (`readarray` holds `read`)."""
_MAY_ASSIGN = re.compile(r"=|\b(?:read|for|select|mapfile|readarray|getopts)\b")
_NAME_EQUALS = re.compile(r"(?<![\w$])([A-Za-z_]\w*)(?:\[[^\]]*\])?\+?=(?!=)")
_LOOPED = re.compile(r"\b(?:read|for|select|mapfile|readarray|getopts)\b([^\n;]*)")
_NAME = re.compile(r"[A-Za-z_]\w*")
_EXPLAINED = re.compile(r"`\$\{?([A-Za-z_]\w*)\}?`")
"""A variable named on its own in prose: `` `$COLOUR` is blue or green ``."""


@dataclass(frozen=True)
class Assignment:
    """Where a step gives a variable its value."""

    order: int
    """Position among the procedure's assignments (carried lines keep the runbook's order)."""
    step: int
    code: str
    """The assignment line, or the command's first line when it is no line of its own."""
    alone: bool
    """The only assignment of the name in its command, a line of assignments on its own."""
    literal: str | None = None
    """The value as written when nothing in it is computed (`/dev/sdX`)."""

    @property
    def repeatable(self) -> bool:
        """A computed value, alone, read-only by the risk rules: safe to run again later."""
        return self.alone and self.literal is None and _read_only(self.code)

    @property
    def note(self) -> str:
        brief = self.code if len(self.code) <= _BRIEF else self.code[: _BRIEF - 1] + "…"
        return f"step {self.step}: {brief}"


def carry_assignments(
    steps: tuple[Step, ...], defaults: Mapping[str, str] | None = None
) -> tuple[Step, ...]:
    """The steps, each command given the earlier steps' assignments it reads.

    Args:
        steps: a procedure's steps, in order.
        defaults: literal values the document's `export NAME=value` lines give.
    """
    earlier: dict[str, Assignment] = {}
    carried_steps: list[Step] = []
    seen = 0  # assignments so far: their order numbers
    for step in steps:
        in_step: dict[str, Assignment] = {}
        commands = []
        for command in step.commands:
            commands.append(_carry(command, earlier, in_step, dict(defaults or {})))
            found = assignments(command.code, step.index, seen)
            seen += len(found)
            in_step.update(found)
        earlier.update(in_step)
        changed = any(new is not old for new, old in zip(commands, step.commands, strict=True))
        carried_steps.append(replace(step, commands=tuple(commands)) if changed else step)
    return tuple(carried_steps)


def assignments(code: str, step: int, start: int = 0) -> dict[str, Assignment]:
    """The variables `code` assigns, each with the line that does it.

    Args:
        code: a command's shell code.
        step: the step it belongs to.
        start: the order number of the first assignment found.
    """
    if "=" not in code and not (
        any(word in code for word in _ASSIGNING_WORDS) and _MAY_ASSIGN.search(code)
    ):
        # Most commands assign nothing: no need to read them as shell. (Substrings first:
        # the regex alone took 30 ms over a 100,000-line fence.)
        return {}
    lexed = lex(code)
    read = {name for simple in lexed.commands for name in _read_names(simple.words)}
    assigned = lexed.assigned | read
    if not assigned:
        return {}
    # A name given a value in more than one place, or by a loop or `read`, has no one line.
    counts = Counter(_NAME_EQUALS.findall(code))
    looped = read | {
        name for match in _LOOPED.finditer(code) for name in _NAME.findall(match.group(1))
    }
    found: dict[str, Assignment] = {}
    lines = code.split("\n")
    for line in lines:
        if not _ASSIGNMENT_LINE.match(line):
            continue
        for name, literal in _line_values(line):
            alone = counts[name] == 1 and name not in looped
            found[name] = Assignment(start + len(found), step, line.strip(), alone, literal)
    for name in sorted(assigned - found.keys()):
        where = next((ln for ln in lines if re.search(rf"\b{re.escape(name)}\b", ln)), lines[0])
        found[name] = Assignment(start + len(found), step, where.strip(), alone=False)
    return found


def _carry(
    command: Command,
    earlier: Mapping[str, Assignment],
    in_step: Mapping[str, Assignment],
    defaults: dict[str, str],
) -> Command:
    reads = [v.name for v in command.variables if v.kind == "env"]
    if not any(name in earlier or name in in_step for name in reads):
        return command
    carried: dict[int, str] = {}
    pending = [name for name in reads if name not in in_step]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        assignment = earlier.get(name)
        if name in seen or assignment is None or not assignment.repeatable:
            continue
        seen.add(name)
        carried[assignment.order] = assignment.code
        # The line may read another earlier variable (`URL=http://$HOST:80`): it travels too.
        pending += [v.name for v in find_variables(assignment.code) if v.kind == "env"]
    lines = tuple(carried[order] for order in sorted(carried))
    code = "\n".join((*lines, command.code))
    # The step's earlier commands run in the same shell: what they compute is set. A
    # literal they assign is asked for all the same, offered: it may be an example.
    known = {**earlier, **in_step}
    variables = tuple(
        _noted(variable, known)
        for variable in (find_variables(code, defaults) if lines else command.variables)
        if variable.kind != "env" or variable.name not in in_step or in_step[variable.name].literal
    )
    return replace(command, variables=variables, carried=lines)


def _noted(variable: Variable, earlier: Mapping[str, Assignment]) -> Variable:
    assignment = earlier.get(variable.name)
    if variable.kind != "env" or assignment is None:
        return variable
    return replace(variable, assigned_by=assignment.note, earlier_value=assignment.literal or None)


def _line_values(line: str) -> list[tuple[str, str | None]]:
    """Names a line of assignments assigns (`export A=1 B=$(x)`), each with its value when
    that is a literal; [] when the line does more than assign."""
    lexed = lex(line)
    if len(lexed.commands) != 1 or lexed.unbalanced or line.rstrip().endswith("\\"):
        return []
    words = lexed.commands[0].words
    if words and words[0].text in _DECLARERS:
        words = [w for w in words[1:] if not w.text.startswith("-")]
    if not words or not all(_NAME_VALUE.match(word.text) for word in words):
        return []
    values: list[tuple[str, str | None]] = []
    for word in words:
        name, _, value = word.text.partition("=")
        computed = word.dynamic or "<" in value
        values.append((name.rstrip("+"), None if computed else value))
    return values


def _read_names(words: list[Word]) -> list[str]:
    """The names `read -r -p "Namespace: " NS` sets (the prompt is no name)."""
    if not words or words[0].text != "read":
        return []
    names, index = [], 1
    while index < len(words):
        word = words[index].text
        if word in ("-p", "-d", "-n", "-N", "-t", "-u", "-a", "-i"):
            index += 2
            continue
        if not word.startswith("-"):
            names.append(word)
        index += 1
    return names


@lru_cache(maxsize=1024)
def _read_only(line: str) -> bool:
    return classify(line) == "read-only"


WELL_KNOWN = frozenset(
    """HOME PATH USER LOGNAME PWD OLDPWD SHELL HOSTNAME HOSTTYPE OSTYPE MACHTYPE TERM LANG
    LC_ALL TZ UID EUID PPID BASHPID RANDOM SECONDS LINENO IFS REPLY SHLVL COLUMNS LINES PS1
    BASH_SOURCE FUNCNAME EDITOR VISUAL PAGER TMPDIR DISPLAY SSH_AUTH_SOCK KUBECONFIG
    DEPLOY_ENV RUNBOOK_RUN_ID""".split()
)
"""Names the operator's shell or the console sets: never reported as unassigned."""


def unassigned_problems(
    procedures: Iterable[Procedure], known: Iterable[str] = ()
) -> list[Problem]:
    """A variable a procedure reads with nothing to give it a value, once per procedure.

    Given a value means: a step of the procedure assigns it, it has a default
    (`${NAME:-x}`, an `export NAME=x` line), the config sets it, the shell or the
    console does (`HOME`, `KUBECONFIG`, `DEPLOY_ENV`), or the runbook's prose
    names it on its own (`` `$NAME` is blue or green ``), telling the operator what it is.

    Args:
        procedures: the runbook's procedures.
        known: names the config gives a value (its environments' `env` tables).
    """
    procedures = tuple(procedures)
    prose = "\n".join(
        text for p in procedures for text in (p.intro, *(step.text for step in p.steps))
    )
    sourced = WELL_KNOWN | set(known) | set(_EXPLAINED.findall(prose))
    problems: list[Problem] = []
    for procedure in procedures:
        commands = [c for step in procedure.steps for c in (*step.commands, *step.session_commands)]
        assigned = {name for c in commands for name in assignments(c.runnable_code, 0)}

        reported: set[str] = set()
        for command in commands:
            for variable in command.variables:
                name = variable.name
                if (
                    variable.kind != "env"
                    or variable.default is not None
                    or variable.assigned_by is not None
                    or name in sourced | assigned | reported
                ):
                    continue
                reported.add(name)
                problems.append(
                    Problem(
                        command.line,
                        f"${name} is used but never assigned: no step of {procedure.title!r} "
                        "assigns it, it has no default and no environment in the config sets "
                        "it (the console will ask for it)",
                    )
                )
    return problems
