"""Which words of a command name a file of the runbook's repository.

Only two uses make a word a file: running it as a program (`./deploy/x.sh`,
`bin/tool`) and handing it to something that reads a file (`cat F`, `source F`,
`. F`, `bash F`, `python3 F`, `< F`, `kubectl apply -f F`, `--file F`). Anything
else a command says (a Kubernetes resource `deployment/x`, a flag, `HTTP/1.1`,
`curl/7.43.0`, an output line pasted after the command) is not a file. A path is
the repository's only when it is relative: `/etc/...` lives on the ops box, `~`
in the operator's home, `$DIR/x` where the run says.

Some relative files are not the repository's either: those the runbook has the
operator make (`cat <<EOF > x.yaml`, `curl -o x.sh`, "Create a file named
`x.yaml`") or fetch from elsewhere (a link to `.../x.sh`), and those read after
a `cd` into a directory the repository lacks (a clone, a download).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from runbook.execution.shell_words import lex

INTERPRETERS = frozenset(
    "bash sh zsh ksh dash python python2 python3 ruby perl node pwsh source .".split()
)
"""Programs whose first argument is a script file."""
READERS = frozenset("cat less more head tail wc diff".split())
"""Programs whose every argument is a file."""
_SCRIPT_SUFFIXES = frozenset(".sh .bash .zsh .py .rb .pl .js .mjs .ts .ps1".split())
_TOOL_FOLDERS = frozenset(
    "bin scripts script hack tools deploy ci build tests test util utils".split()
)
"""Folders a program path starts with that say it is the repository's (`bin/tool`)."""
_GENERIC_FILE_OPTIONS = frozenset({"--file", "--filename", "--env-file"})
_KUBE_FILE_OPTIONS = frozenset({"-f", "--filename", "-k", "--kustomize", "--from-env-file"})
_KUBE_NOT_FILES = frozenset({"logs", "attach", "port-forward", "exec", "cp", "proxy"})
"""kubectl subcommands whose `-f` is not a file (`logs -f` follows)."""
_KUBE_VALUE_OPTIONS = frozenset(
    "-n --namespace --context --kubeconfig --cluster --user -s --server --as -l --selector".split()
)
"""kubectl options that take a value, skipped to find the subcommand."""
_DOCKER_FILE_SUBCOMMANDS = frozenset({"build", "compose", "buildx", "stack"})
_WRAPPERS = frozenset({"sudo", "env", "nohup", "time", "exec", "command", "nice"})
_WRAPPER_VALUE_OPTIONS = frozenset({"-u", "-g", "-C", "-n", "--user", "--group"})
_TEMPLATE = re.compile(r"\{\{[<%].*?[%>]\}\}|<[A-Za-z][\w.-]*(?: [\w.-]+)+>")
"""A Hugo shortcode (`{{< param x >}}`) or a placeholder with spaces (`<HelmChart name>`):
text the reader fills in, never a redirection."""
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
_PATH = re.compile(r"^(?:\.{1,2}/)*[\w@+-][\w.@+-]*(?:/[\w.@+-]+)*/?$")
_OUTPUT_OPTIONS = frozenset({"-o", "--output", "-O", "--output-document", "-out", "--out"})
_LINKED = re.compile(r"https?://[^\s)\"'<>]+/([\w.@+-]+\.\w+)\b")
_INTRODUCED = re.compile(
    r"(?i)\b(?:create|save|write|download|fetch|copy|named|called|put)\b[^.\n]{0,80}?`([^`\s]+)`"
)
_FENCE_TITLE = re.compile(r"""^\s*(?:```|~~~).*?\b(?:title|filename|file)=["']?([^"'\s}]+)""", re.M)
_COMMENT_NAME = re.compile(r"^\s*(?:```|~~~)\s*\w*\s*\n\s*(?:#|//)\s*([\w./-]+\.\w+)\s*$", re.M)


@dataclass(frozen=True)
class FileUse:
    """A word of a command that names a file: as the program, or as an argument it reads."""

    program: str
    path: str


def without_templates(code: str) -> str:
    """`code` with shortcodes and spaced placeholders as `{{}}`, a word that is no path."""
    return _TEMPLATE.sub("{{}}", code) if "{{" in code or "<" in code else code


def file_uses(words: list[str], reads: Iterable[str] = ()) -> list[FileUse]:
    """The files one simple command runs or reads (relative or not, checked or not).

    Args:
        words: the command's words, quotes removed.
        reads: files its `<` redirections read.
    """
    words = unwrap(words)
    if not words:
        return []
    program, args = words[0], words[1:]
    uses = [FileUse(program, path) for path in reads]
    if "/" in program and _is_program_path(program):
        uses.append(FileUse(program, program))
    name = PurePosixPath(program).name or program  # `.` has no name
    operands = [a for a in args if not a.startswith("-")]
    if name in INTERPRETERS and args and not args[0].startswith("-"):
        uses.append(FileUse(program, args[0]))
    elif name in READERS:
        uses += [FileUse(program, a) for a in operands]
    uses += [FileUse(program, v) for v in option_values(args, _GENERIC_FILE_OPTIONS)]
    if name in ("kubectl", "oc") and _subcommand(args, _KUBE_VALUE_OPTIONS) not in _KUBE_NOT_FILES:
        values = option_values(args, _KUBE_FILE_OPTIONS)
        values += [v.rpartition("=")[2] for v in option_values(args, {"--from-file"})]
        uses += [FileUse(program, v) for v in values]
    elif name == "helm":
        uses += [FileUse(program, v) for v in option_values(args, {"-f", "--values"})]
    elif name in ("docker", "podman") and _subcommand(args, {"-H", "--host", "--context"}) in (
        _DOCKER_FILE_SUBCOMMANDS
    ):
        uses += [FileUse(program, v) for v in option_values(args, {"-f", "-c"})]
    elif name in ("docker-compose", "podman-compose"):
        uses += [FileUse(program, v) for v in option_values(args, {"-f"})]
    return [use for use in uses if use.path not in ("", "-")]


def _subcommand(args: list[str], value_options: Iterable[str]) -> str:
    """The first argument that is neither an option nor the value of one (`-n x`)."""
    takes_value = set(value_options)
    index = 0
    while index < len(args):
        if args[index] in takes_value:
            index += 2
        elif args[index].startswith("-"):
            index += 1
        else:
            return args[index]
    return ""


def unwrap(words: list[str]) -> list[str]:
    """The command `sudo -u x`, `env A=b`, `nohup`, `time` or leading assignments run."""
    words = [w for w in words if not w.startswith("\x00")]
    while words:
        if _ASSIGNMENT.match(words[0]):
            words = words[1:]
        elif words[0] in _WRAPPERS:
            words = words[1:]
            while words and words[0].startswith("-"):
                takes_value = words[0] in _WRAPPER_VALUE_OPTIONS
                words = words[2:] if takes_value else words[1:]
        else:
            break
    return words


def option_values(args: list[str], options: Iterable[str]) -> list[str]:
    """Values of `options` in `args`, as `-f x`, `--file x` or `--file=x`."""
    wanted = set(options)
    values = []
    for index, arg in enumerate(args):
        if arg in wanted and index + 1 < len(args):
            values.append(args[index + 1])
        elif arg.startswith("--") and "=" in arg and arg.split("=", 1)[0] in wanted:
            values.append(arg.split("=", 1)[1])
    return values


def is_relative_path(text: str) -> bool:
    """A path relative to where the command runs, with nothing the run fills in."""
    return bool(_PATH.match(text)) and "://" not in text and not text.startswith("~")


def _is_program_path(program: str) -> bool:
    """`./x`, `../x`, `bin/tool` or `scripts/x.sh`; not `HTTP/1.1`, `service/web` or base64."""
    if program.startswith(("./", "../")):
        return True
    if not is_relative_path(program):
        return False
    path = PurePosixPath(program)
    return path.parts[0] in _TOOL_FOLDERS or path.suffix in _SCRIPT_SUFFIXES


def produced_files(code: str) -> set[str]:
    """Base names of the files a command makes: redirections, `tee`, `-o`, downloads, clones."""
    made: set[str] = set()
    lexed = lex(without_templates(code))
    for command in lexed.commands:
        made.update(command.writes)
        words = unwrap([word.text for word in command.words])
        if not words:
            continue
        name, args = PurePosixPath(words[0]).name, words[1:]
        operands = [a for a in args if not a.startswith("-")]
        clusters = {a for a in args if re.fullmatch(r"-[A-Za-z]+[oO]", a)}  # `curl -sSLo x`
        made.update(option_values(args, _OUTPUT_OPTIONS | clusters))
        if name in ("tee", "touch", "mkdir"):
            made.update(operands)
        elif name in ("cp", "mv", "ln", "install", "scp", "rsync") and len(operands) > 1:
            made.add(operands[-1])
        elif name in ("wget", "curl") and ("-O" in args or name == "wget"):
            made.update(PurePosixPath(a).name for a in operands if "://" in a)
        elif name == "git" and operands[:1] == ["clone"] and len(operands) > 1:
            made.add(operands[2] if len(operands) > 2 else operands[1].rstrip("/"))
            made.add(PurePosixPath(operands[1].rstrip("/")).name.removesuffix(".git"))
    return {PurePosixPath(path).name for path in made if path}


def introduced_files(text: str) -> set[str]:
    """Base names of files the runbook's prose has the operator make or fetch.

    A link to `.../x.sh`, "Create a file named `x.yaml`", "Download `x.sh`", a block
    titled `x.yaml` or opening with a `# x.yaml` comment.
    """
    names = {match.group(1) for match in _LINKED.finditer(text)}
    names.update(match.group(1) for match in _INTRODUCED.finditer(text))
    names.update(match.group(1) for match in _FENCE_TITLE.finditer(text))
    names.update(match.group(1) for match in _COMMENT_NAME.finditer(text))
    return {PurePosixPath(name).name for name in names}


def changed_directory(words: list[str], base: Path | None) -> Path | None:
    """Where `cd X` leaves the next command: a folder under `base`, or None (unknown here)."""
    targets = [w for w in words[1:] if not w.startswith("-")]
    if base is None or not targets or not is_relative_path(targets[0]):
        return None
    folder = base / targets[0]
    return folder if folder.is_dir() else None
