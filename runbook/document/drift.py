"""Drift: what a runbook names that its repository does not have.

A command that runs a script, reads a file or builds a `make` target which does
not exist, relative to the runbook's repository, will fail at 3 a.m.; `check`
reports it now.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

from runbook.document.file_references import (
    changed_directory,
    file_uses,
    introduced_files,
    is_relative_path,
    option_values,
    produced_files,
    unwrap,
    without_templates,
)
from runbook.execution.shell_words import lex
from runbook.model import Problem, Runbook

_TARGET = re.compile(r"^([A-Za-z0-9_.%/-]+(?:[ \t]+[A-Za-z0-9_.%/-]+)*)[ \t]*::?(?!=)")


def repository_root(runbook_path: str | Path) -> Path:
    """The nearest ancestor holding `.git`, else the runbook's own directory."""
    start = Path(runbook_path).resolve().parent
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def make_targets(makefile: Path) -> set[str]:
    """Targets a Makefile defines (explicit rules only; pattern rules are ignored)."""
    targets: set[str] = set()
    for line in makefile.read_text(encoding="utf-8", errors="replace").split("\n"):
        match = _TARGET.match(line)
        if match and not line.startswith("\t"):
            targets.update(t for t in match.group(1).split() if "%" not in t)
    return targets


def find_drift(runbook: Runbook, root: Path, text: str = "") -> list[Problem]:
    """Problems for every command that names something missing under `root`.

    Args:
        runbook: the parsed runbook.
        root: the repository its commands run in.
        text: the runbook's Markdown, whose prose may introduce files (a link to
            `.../x.sh`, "Create a file named `x.yaml`"); those are not the repository's.
    """
    problems: list[Problem] = []
    makefile = root / "Makefile"
    targets = make_targets(makefile) if makefile.is_file() else None
    elsewhere = introduced_files(text) if text else set()
    for procedure in runbook.procedures:
        for step in procedure.steps:
            for command in step.commands:
                elsewhere |= produced_files(command.code)
    for procedure in runbook.procedures:
        # An earlier step's `cd` may be meant for the steps after it (the author's one
        # terminal), though each step starts at the root: a path either way is fine.
        base: Path | None = root
        for step in procedure.steps:
            for command in step.commands:
                bases = (root, base) if base is not None and base != root else (base,)
                messages, base = _command_drift(command.code, root, bases, targets, elsewhere)
                problems += [Problem(command.line, message) for message in messages]
    return problems


def _command_drift(
    code: str,
    root: Path,
    bases: tuple[Path | None, ...],
    targets: set[str] | None,
    elsewhere: set[str],
) -> tuple[list[str], Path | None]:
    """What `code` names that is missing, and the directory its last `cd` left.

    A relative path is looked for in each of `bases`; None among them means a folder
    made at run time (a clone), where nothing can be checked.
    """
    messages: list[str] = []
    for simple in lex(without_templates(code)).commands:
        words = unwrap([word.text for word in simple.words])
        if not words:
            continue
        program, args = words[0], words[1:]
        if program in ("cd", "pushd"):
            bases = (changed_directory(words, bases[-1]),)
            continue
        if None in bases:
            continue
        if program == "make" and bases == (root,):
            messages.extend(_make_drift(args, root, targets))
            continue
        runs_script = args[:1] in (["run"], ["run-script"])
        if program in ("npm", "yarn", "pnpm") and runs_script and bases == (root,):
            messages.extend(_script_drift(args[1:2], root))
            continue
        for use in file_uses(words, simple.reads):
            path = use.path
            if not is_relative_path(path) or PurePosixPath(path).name in elsewhere:
                continue
            if not any((base / path).exists() for base in bases if base is not None):
                messages.append(f"`{use.program}` names {path}, which does not exist in {root}")
    return list(dict.fromkeys(messages)), bases[-1]


def _make_drift(args: list[str], root: Path, targets: set[str] | None) -> list[str]:
    directory = option_values(args, {"-C", "--directory"})
    makefile_names = option_values(args, {"-f", "--file", "--makefile"})
    if directory or makefile_names:
        base = root / (directory[0] if directory else ".")
        makefile = base / (makefile_names[0] if makefile_names else "Makefile")
        if not makefile.is_file():
            return [f"`make` needs {makefile.relative_to(root)}, which does not exist"]
        targets = make_targets(makefile)
    if targets is None:
        return [f"`make` needs a Makefile in {root}, and there is none"]
    wanted = [
        a
        for a in args
        if not a.startswith("-") and "=" not in a and a not in directory + makefile_names
    ]
    return [f"make target {t!r} is not defined in the Makefile" for t in wanted if t not in targets]


def _script_drift(names: list[str], root: Path) -> list[str]:
    package = root / "package.json"
    try:
        scripts = json.loads(package.read_text(encoding="utf-8")).get("scripts", {})
    except FileNotFoundError:
        return [f"`npm run` needs a package.json in {root}, and there is none"]
    except (OSError, ValueError, AttributeError):
        return [f"{package} cannot be read as JSON"]
    return [
        f"npm script {name!r} is not defined in package.json"
        for name in names
        if name not in scripts
    ]


def threshold_problems(runbook: Runbook) -> list[Problem]:
    """Thresholds whose warning lies beyond their critical value."""
    problems = []
    for threshold in runbook.thresholds:
        warning, critical = threshold.warning, threshold.critical
        if warning is None or critical is None or warning.unit != critical.unit:
            continue
        rising = warning.op.startswith(">")
        if (rising and warning.value > critical.value) or (
            not rising and warning.value < critical.value
        ):
            problems.append(
                Problem(
                    threshold.line,
                    f"threshold {threshold.metric!r}: warning {warning.text} is beyond "
                    f"critical {critical.text}",
                )
            )
    return problems
