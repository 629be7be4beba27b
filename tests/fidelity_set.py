"""The fidelity set: public runbooks of ../shared/corpus labelled by hand, and the parser scored
against them (bench/fidelity.py prints the figures, tests/unit/test_fidelity.py holds the floor).

Each `tests/fixtures/fidelity/<corpus path>.yaml` says what an on-call engineer reading that
runbook expects: every runnable command line (exact text, prompt and trailing comment left
out; a loop, heredoc, quoted or `\\`-continued command is one line), its risk, whether it is
typed inside an interactive session (`oc debug node/x`, `ssh host`), and the values to fill.
The labels come from reading the Markdown, not from the parser: output, PromQL, log lines,
YAML and SQL are not commands; prompted lines are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runbook.document.blocks import markdown
from runbook.document.commands import (
    KNOWN_PROGRAMS,
    SHELL_LANGUAGES,
    find_variables,
    strip_inline_comment,
)
from runbook.document.parser import load
from runbook.document.shell import nesting_change, open_quote
from runbook.execution.risk import classify
from runbook.model import RISK_ORDER, Risk, Runbook

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures" / "fidelity"
RISKS = frozenset(RISK_ORDER)
_HEREDOC = re.compile(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?")
_EXITS = frozenset(("exit", "logout", "quit", "exit;", "quit;", "\\q", "\\quit", ".exit"))
"""Leaving a session: not a command of its own on either side."""
_PROMPT = re.compile(r"^\s*(?:\S{0,60}?\s?(?:->|[$#>%])\s+)?")
_PLAIN = frozenset(("", "text", "txt", "plain", "plaintext"))


class LabelError(ValueError):
    """A fixture that does not read as a labelled runbook."""


@dataclass(frozen=True)
class Expected:
    """One command line an engineer would run, as labelled."""

    line: int
    code: str
    risk: Risk
    session: bool = False
    """Typed inside an interactive session opened by an earlier line, not run locally."""
    why: str = ""


@dataclass(frozen=True)
class Labelled:
    path: str
    """The runbook's path under ../shared/corpus."""
    commands: tuple[Expected, ...]
    variables: frozenset[str]

    @property
    def file(self) -> Path:
        return CORPUS / self.path


@dataclass(frozen=True)
class Found:
    """One command line the parser made runnable (or typed into a session)."""

    line: int
    code: str
    risk: Risk
    session: bool


@dataclass
class FileScore:
    path: str
    expected: int = 0
    found: int = 0
    matched: int = 0
    missed: list[Expected] = field(default_factory=list)
    extra: list[Found] = field(default_factory=list)
    risk_wrong: list[tuple[Expected, Risk]] = field(default_factory=list)
    under_destructive: list[tuple[Expected, Risk]] = field(default_factory=list)
    session_run_locally: list[Expected] = field(default_factory=list)
    local_typed_in_session: list[Expected] = field(default_factory=list)
    """Labelled local commands the parser put inside a session (manual, not run)."""
    silent_fences: list[int] = field(default_factory=list)
    """First lines of shell fences that give no command and no problem saying why."""
    explained_fences: list[int] = field(default_factory=list)
    """Shell fences that give no command but a problem saying why."""
    variables_missed: set[str] = field(default_factory=set)
    variables_extra: set[str] = field(default_factory=set)
    variables_expected: int = 0

    @property
    def faults(self) -> int:
        return (
            len(self.missed)
            + len(self.extra)
            + len(self.risk_wrong)
            + 5 * len(self.under_destructive)
            + 5 * len(self.silent_fences)
            + 5 * len(self.session_run_locally)
            + len(self.local_typed_in_session)
        )


# -- the labels ---------------------------------------------------------------


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.rglob("*.yaml"))


def read_label(fixture: Path, root: Path = FIXTURES) -> Labelled:
    """One fixture under `root`, checked: its `path` is its own place there (a corpus path),
    each command has a known risk. Anything else: a one-line `LabelError`."""
    where = fixture.relative_to(root)
    try:
        data: Any = yaml.safe_load(fixture.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise LabelError(f"{where}: not YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("path"), str):
        raise LabelError(f"{where}: needs a `path` (the runbook under ../shared/corpus)")
    if data["path"] != str(where.with_suffix(".md")):
        raise LabelError(f"{where}: path {data['path']!r} does not match the fixture's place")
    commands = []
    for entry in data.get("commands") or ():
        risk = entry.get("risk")
        if risk not in RISKS or not isinstance(entry.get("code"), str):
            raise LabelError(f"{where}: bad command {entry!r}")
        commands.append(
            Expected(
                int(entry.get("line", 0)),
                entry["code"],
                risk,
                bool(entry.get("session", False)),
                str(entry.get("why", "")),
            )
        )
    variables = frozenset(str(v) for v in data.get("variables") or ())
    return Labelled(data["path"], tuple(commands), variables)


def load_set() -> list[Labelled]:
    return [read_label(fixture) for fixture in fixture_files()]


# -- what the parser gives ----------------------------------------------------


PRIVATE_ADDRESS = re.compile(
    r"\b(?:10\.\d{1,3}|192\.168|172\.(?:1[6-9]|2\d|3[01]))\.\d{1,3}\.\d{1,3}\b"
)
"""A private-range IPv4 address in a runbook's command: the labels write `<address>`, so the
repository's fixtures hold loopback addresses only."""


def normal(code: str) -> str:
    """A command line compared loosely: continuations joined, blanks collapsed, a lone line's
    trailing comment dropped, comment lines inside a loop dropped, private addresses named."""
    code = PRIVATE_ADDRESS.sub("<address>", code)
    lines = [ln.strip() for ln in code.replace("\\\n", " ").split("\n")]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if len(lines) == 1:
        lines = [strip_inline_comment(lines[0])[0]]
    return "\n".join(" ".join(ln.split()) for ln in lines)


def units(code: str) -> Iterator[tuple[int, str]]:
    """(line offset, text) of each complete command line of `code`: a loop, conditional,
    heredoc, quoted string or `\\`-continued line stays whole."""
    current: list[str] = []
    start = 0
    depth = 0
    heredoc: str | None = None
    quote: str | None = None
    for offset, line in enumerate(code.split("\n")):
        stripped = line.strip()
        if not current:
            if not stripped or stripped.startswith("#"):
                continue
            start = offset
        current.append(line)
        if heredoc is not None:
            if stripped == heredoc:
                heredoc = None
        elif quote is not None:
            quote = open_quote(line, quote)
        else:
            depth = max(0, depth + nesting_change(line))
            found = _HEREDOC.search(line)
            if found:
                heredoc = found.group(1)
            else:
                quote = open_quote(line)
        if heredoc is None and quote is None and depth == 0 and not line.rstrip().endswith("\\"):
            yield start, "\n".join(current)
            current = []
    if current:
        yield start, "\n".join(current)


def found_commands(runbook: Runbook) -> list[Found]:
    """Every command line the parser gives: step commands, session openers, session lines."""
    found: list[Found] = []

    def add(code: str, line: int, session: bool) -> None:
        for offset, text in units(code):
            if text.strip() not in _EXITS:
                found.append(Found(line + offset, text, classify(text), session))

    for procedure in runbook.procedures:
        for step in procedure.steps:
            for command in step.commands:
                add(command.code, command.line, False)
            if step.session_from is not None:
                # Typed into a session an earlier step opened (and counted): the code
                # starts on the command's own line.
                for command in step.session_commands:
                    add(command.code, command.line, True)
                continue
            openers = {c.session for c in step.session_commands if c.session}
            for session in openers:
                line = min(c.line for c in step.session_commands if c.session == session)
                add(session, line, False)
            for command in step.session_commands:
                add(command.code, command.line + 1, True)
    return found


def step_lines(runbook: Runbook) -> set[int]:
    """The lines where the parser's commands start (a lone `exit` included): a fence holding
    one of them gave a step."""
    return {
        command.line
        for procedure in runbook.procedures
        for step in procedure.steps
        for command in (*step.commands, *step.session_commands)
    }


def found_variables(runbook: Runbook) -> set[str]:
    names: set[str] = set()
    for procedure in runbook.procedures:
        for step in procedure.steps:
            for command in (*step.commands, *step.session_commands):
                names.update(command.variable_names)
                if command.session:
                    names.update(v.name for v in find_variables(command.session))
    return names


def shell_fences(text: str) -> list[tuple[int, int]]:
    """First and last lines of the blocks an operator would take for shell: labelled so, or
    unlabelled with a line that is a known program and an argument, after any prompt."""
    fences = []
    for token in markdown().parse(text):
        if token.type not in ("fence", "code_block") or not token.map:
            continue
        language = token.info.strip().split(" ")[0].lower() if token.type == "fence" else ""
        span = (token.map[0] + 1, token.map[1])
        if language in SHELL_LANGUAGES:
            fences.append(span)
        elif language in _PLAIN:
            for line in token.content.split("\n"):
                prompt = _PROMPT.match(line)
                words = line[prompt.end() if prompt else 0 :].split()
                if len(words) > 1 and words[0] in KNOWN_PROGRAMS:
                    fences.append(span)
                    break
    return fences


def all_fences(text: str) -> list[tuple[int, int]]:
    return [
        (token.map[0] + 1, token.map[1])
        for token in markdown().parse(text)
        if token.type in ("fence", "code_block") and token.map
    ]


# -- scoring ------------------------------------------------------------------


def score(labelled: Labelled) -> FileScore:
    """The parser's reading of one runbook against its labels."""
    text = labelled.file.read_text(encoding="utf-8", errors="replace")
    runbook = load(labelled.file)
    found = found_commands(runbook)
    result = FileScore(labelled.path, expected=len(labelled.commands), found=len(found))
    pool: dict[str, list[Found]] = {}
    for item in found:
        pool.setdefault(normal(item.code), []).append(item)
    for expected in labelled.commands:
        candidates = pool.get(normal(expected.code), [])
        if not candidates:
            result.missed.append(expected)
            continue
        match = min(candidates, key=lambda f: abs(f.line - expected.line))
        candidates.remove(match)
        result.matched += 1
        if match.risk != expected.risk:
            result.risk_wrong.append((expected, match.risk))
            if expected.risk == "destructive":
                result.under_destructive.append((expected, match.risk))
        if expected.session and not match.session:
            result.session_run_locally.append(expected)
        elif match.session and not expected.session:
            result.local_typed_in_session.append(expected)
    result.extra = sorted((f for left in pool.values() for f in left), key=lambda f: f.line)
    found_lines = {f.line for f in found} | step_lines(runbook)
    problem_lines = [p.line for p in runbook.problems]
    labelled_lines = [e.line for e in labelled.commands]
    fences = set(shell_fences(text))
    fences.update(s for s in all_fences(text) if any(s[0] <= n <= s[1] for n in labelled_lines))
    for first, last in sorted(fences):
        if any(first <= n <= last for n in found_lines):
            continue
        if any(first <= n <= last for n in problem_lines):
            result.explained_fences.append(first)
        else:
            result.silent_fences.append(first)
    parsed_variables = found_variables(runbook)
    result.variables_expected = len(labelled.variables)
    result.variables_missed = set(labelled.variables - parsed_variables)
    result.variables_extra = parsed_variables - labelled.variables
    return result


@dataclass(frozen=True)
class Totals:
    files: int
    expected: int
    found: int
    matched: int
    risk_right: int
    under_destructive: int
    silent_fences: int
    explained_fences: int
    session_run_locally: int
    local_typed_in_session: int
    variables_expected: int
    variables_missed: int
    variables_extra: int

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def risk_accuracy(self) -> float:
        return self.risk_right / self.matched if self.matched else 1.0


def totals(scores: Iterable[FileScore]) -> Totals:
    scores = list(scores)
    return Totals(
        files=len(scores),
        expected=sum(s.expected for s in scores),
        found=sum(s.found for s in scores),
        matched=sum(s.matched for s in scores),
        risk_right=sum(s.matched - len(s.risk_wrong) for s in scores),
        under_destructive=sum(len(s.under_destructive) for s in scores),
        silent_fences=sum(len(s.silent_fences) for s in scores),
        explained_fences=sum(len(s.explained_fences) for s in scores),
        session_run_locally=sum(len(s.session_run_locally) for s in scores),
        local_typed_in_session=sum(len(s.local_typed_in_session) for s in scores),
        variables_expected=sum(s.variables_expected for s in scores),
        variables_missed=sum(len(s.variables_missed) for s in scores),
        variables_extra=sum(len(s.variables_extra) for s in scores),
    )


def draft(path: str) -> str:
    """A first draft of a fixture from the parser's reading, to correct line by line."""
    runbook = load(CORPUS / path)
    entries = [
        {"line": f.line, "code": f.code, "risk": f.risk, **({"session": True} if f.session else {})}
        for f in sorted(found_commands(runbook), key=lambda f: f.line)
    ]
    data = {
        "path": path,
        "commands": entries,
        "variables": sorted(found_variables(runbook)),
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
