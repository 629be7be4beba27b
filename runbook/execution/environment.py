"""What a step's processes inherit from the operator's environment, and what it is told.

A step has no terminal: its stdin is /dev/null and its output goes to pipes. A
terminal size in `LINES` or `COLUMNS` (which some shells export, and which make
passes on) describes a terminal the step does not have, and a stale one makes
`tput`, pagers or a TUI the step starts draw at the wrong size.

Everything else is inherited, so an exported `CONFIG_FILE` or `MONKEYTOWN_PORT`
changes what `make` and the deploy scripts do. Those are not hidden: the
variables that the step's Makefile and shell scripts read and let the
environment override are found by reading those files (`script_variables`), and
every one that is set to something other than the script's own default is listed
in the confirmation (`inherited_overrides`). The environment the console acts on
is told to the scripts as `DEPLOY_ENV` (`deploy_env_name`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

TERMINAL_SIZE_VARIABLES = ("LINES", "COLUMNS")
"""Variables that override a program's idea of its terminal's size."""

DEPLOY_ENV = "DEPLOY_ENV"
"""The variable through which the Makefile and deploy/*.sh learn the environment."""
DEPLOY_ENV_NAMES = {"development": "dev", "staging": "staging", "production": "prod"}
"""Console environment (case-insensitive) -> deploy environment (deploy/config/<name>.json)."""

SYSTEM_VARIABLES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "TERM", "LANG", "LANGUAGE"}
    | {"TZ", "HOSTNAME", "TMPDIR", "SHLVL", "_", "RUNBOOK_RUN_ID", *TERMINAL_SIZE_VARIABLES}
)
"""The session's own variables: read by scripts, but not settings a runbook could default."""

_MAKE = re.compile(r"(?:^|[\s;&|(`])make(?:\s|$)")
_SCRIPT = re.compile(r"[\w./${}-]*[\w}]\.sh\b")
_MAKE_DEFAULT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)\s*\?=\s*(.*?)\s*$", re.MULTILINE)
_WITH_DEFAULT = re.compile(r"\$\{([A-Za-z_]\w*):?[-=]([^}]*)\}")
_PLAIN_READ = re.compile(r"\$\{?([A-Za-z_]\w*)\}?")
_ASSIGNED = re.compile(
    r"(?:^|[\s;(])(?:(?:local|export|readonly|declare)\s+(?:-\w+\s+)?)?([A-Za-z_]\w*)=|"
    r"\b(?:for|read(?:\s+-\w+)*)\s+([A-Za-z_]\w*)",
)
_PREFIX_SCAN = re.compile(r"compgen -e.*grep\s+['\"]\^([A-Za-z_]\w*)['\"]")
_SOURCE = re.compile(r"^\s*(?:source|\.)\s+(.*)$", re.MULTILINE)


def without_terminal_size(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of `environ` without `LINES` and `COLUMNS`."""
    return {name: value for name, value in environ.items() if name not in TERMINAL_SIZE_VARIABLES}


def deploy_env_name(environment: str, settings: Mapping[str, str]) -> str:
    """The deploy environment the commands act on for a console environment.

    The environment's `env` table in config decides (`DEPLOY_ENV = "..."`); else
    Development is `dev`, Staging `staging` and Production `prod`. Any other name
    gives "": the console then sets no `DEPLOY_ENV`, and one inherited from the
    shell is listed in the confirmation like any other inherited setting.
    """
    configured = settings.get(DEPLOY_ENV, "").strip()
    if configured:
        return configured
    return DEPLOY_ENV_NAMES.get(environment.strip().casefold(), "")


def script_variables(root: Path, codes: Iterable[str]) -> tuple[dict[str, str | None], set[str]]:
    """The variables the commands' Makefile and scripts let the environment set.

    Reads the Makefile in `root` when a command runs `make` (its `NAME ?= default`
    lines, the `$${NAME:-default}` reads of its recipes, and the scripts it names),
    the `*.sh` scripts a command names, and the scripts those source. Returns the
    names with their default (None when the default is not a fixed text), and the
    name prefixes read wholesale (`compgen -e | grep '^DRILL_'`).
    """
    variables: dict[str, str | None] = {}
    prefixes: set[str] = set()
    scripts: list[Path] = []
    for code in codes:
        if _MAKE.search(code):
            for name in ("GNUmakefile", "makefile", "Makefile"):
                makefile = root / name
                if makefile.is_file():
                    text = _read(makefile)
                    for found, default in _MAKE_DEFAULT.findall(text):
                        # make runs in `root`: $(CURDIR) there is the root itself
                        fixed = default.replace("$(CURDIR)", str(root))
                        _add(variables, found, None if "$" in fixed else fixed)
                    _shell_reads(text.replace("$$", "$"), variables, prefixes, assigned=set())
                    scripts += _named_scripts(text, root)
                    break
        scripts += _named_scripts(code, root)
    texts: dict[Path, str] = {}
    while scripts:
        script = scripts.pop()
        if script in texts or not script.is_file():
            continue
        texts[script] = text = _read(script)
        for line in _SOURCE.findall(text):
            for token in _SCRIPT.findall(line):
                pattern = re.sub(r"\$\{?\w+\}?", "*", token.rsplit("/", 1)[-1])
                scripts += sorted(script.parent.glob(pattern))
    # A name some script sets (lib.sh's PREFIX) is that script's own, whoever reads it.
    assigned = {a or b for text in texts.values() for a, b in _ASSIGNED.findall(text)}
    for text in texts.values():
        _shell_reads(text, variables, prefixes, assigned)
    for name in SYSTEM_VARIABLES:
        variables.pop(name, None)
    return variables, prefixes


def inherited_overrides(
    root: Path,
    codes: Iterable[str],
    environ: Mapping[str, str],
    declared: Iterable[str] = (),
) -> tuple[tuple[str, str], ...]:
    """Inherited variables that the commands' scripts read and that differ from their defaults.

    `declared` names (the environment's settings, the operator's values) are set by
    the console itself, so they are left out. Sorted by name.
    """
    variables, prefixes = script_variables(root, codes)
    skip = set(declared) | SYSTEM_VARIABLES
    found: dict[str, str] = {}
    for name, value in environ.items():
        if name in skip:
            continue
        if name in variables:
            default = variables[name]
            if default is None or value != default:
                found[name] = value
        elif any(name.startswith(prefix) for prefix in prefixes):
            found[name] = value
    return tuple(sorted(found.items()))


def _add(variables: dict[str, str | None], name: str, default: str | None) -> None:
    if name not in variables or variables[name] is None:
        variables[name] = default


def _shell_reads(
    text: str, variables: dict[str, str | None], prefixes: set[str], assigned: set[str]
) -> None:
    for name, default in _WITH_DEFAULT.findall(text):
        literal = default.strip("'\"")
        _add(variables, name, None if any(c in literal for c in "$`") else literal)
    for name in _PLAIN_READ.findall(text):
        if name not in assigned and not name.isdigit():
            _add(variables, name, None)
    prefixes.update(_PREFIX_SCAN.findall(text))


def _named_scripts(text: str, root: Path) -> list[Path]:
    # A script's name is within one line: only the lines naming a `.sh` are searched (the
    # pattern tried at every character of a 100,000-line command took half a second).
    lines = _lines_containing(text, ".sh")
    return [root / token.removeprefix("./") for token in _SCRIPT.findall(lines) if "$" not in token]


def _lines_containing(text: str, needle: str) -> str:
    """The lines of `text` that contain `needle`, joined by newlines (found at C speed)."""
    found: list[str] = []
    at = text.find(needle)
    while at != -1:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end == -1 else end
        found.append(text[start:end])
        at = text.find(needle, end)
    return "\n".join(found)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
