"""Drift: what a runbook names that its repository does not have.

A command that runs a script, reads a file or builds a `make` target which does
not exist, relative to the runbook's repository, will fail at 3 a.m.; `check`
reports it now.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from runbook.execution.risk import simple_commands
from runbook.model import Problem, Runbook

_TARGET = re.compile(r"^([A-Za-z0-9_.%/-]+(?:[ \t]+[A-Za-z0-9_.%/-]+)*)[ \t]*::?(?!=)")
_FILE_OPTIONS = frozenset({"-f", "--file", "--env-file", "-k", "--kustomize"})
_FILE_TOOLS = frozenset({"docker", "docker-compose", "kubectl", "oc", "podman", "kustomize"})
_INTERPRETERS = frozenset({"bash", "sh", "zsh", "python", "python3", "source", "."})
_PATHLIKE = re.compile(r"^(?:\./)?[\w.-]+(?:/[\w.-]+)+/?$")


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


def find_drift(runbook: Runbook, root: Path) -> list[Problem]:
    """Problems for every command that names something missing under `root`."""
    problems: list[Problem] = []
    makefile = root / "Makefile"
    targets = make_targets(makefile) if makefile.is_file() else None
    for procedure in runbook.procedures:
        for step in procedure.steps:
            for command in step.commands:
                for message in _command_drift(command.code, root, targets):
                    problems.append(Problem(command.line, message))
    return problems


def _command_drift(code: str, root: Path, targets: set[str] | None) -> list[str]:
    messages: list[str] = []
    for words in simple_commands(code):
        words = [w for w in words if not w.startswith("\x00")]
        while words and re.match(r"^[A-Za-z_]\w*=", words[0]) or words[:1] == ["sudo"]:
            words = words[1:]
        if not words:
            continue
        program, args = words[0], words[1:]
        if program == "make":
            messages.extend(_make_drift(args, root, targets))
            continue
        if program in ("npm", "yarn", "pnpm") and args[:1] in (["run"], ["run-script"]):
            messages.extend(_script_drift(args[1:2], root))
            continue
        paths = []
        if "/" in program and not program.startswith("/"):
            paths.append(program)
        if program in _INTERPRETERS and args and not args[0].startswith("-"):
            paths.append(args[0])
        if program in _FILE_TOOLS:
            paths.extend(_option_values(args, _FILE_OPTIONS))
        for arg in args:
            first = arg.split("/", 1)[0]
            if _PATHLIKE.match(arg) and first not in (".", "..") and (root / first).is_dir():
                paths.append(arg)
        for path in dict.fromkeys(paths):
            if _is_checkable(path) and not (root / path).exists():
                messages.append(f"`{program}` names {path}, which does not exist in {root}")
    return messages


def _make_drift(args: list[str], root: Path, targets: set[str] | None) -> list[str]:
    directory = _option_values(args, {"-C", "--directory"})
    makefile_names = _option_values(args, {"-f", "--file", "--makefile"})
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


def _option_values(args: list[str], options: set[str] | frozenset[str]) -> list[str]:
    values = []
    for index, arg in enumerate(args):
        if arg in options and index + 1 < len(args):
            values.append(args[index + 1])
        for option in options:
            if option.startswith("--") and arg.startswith(option + "="):
                values.append(arg.split("=", 1)[1])
    return values


def _is_checkable(path: str) -> bool:
    return not (
        path in ("-", "")
        or path.startswith(("/", "~", "http://", "https://"))
        or any(char in path for char in "$<>*?{}")
    )


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
