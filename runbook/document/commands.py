"""Commands inside a runbook: fenced blocks, `$ ` prompts, inline code, variables.

Pure functions from text to `Command` values; the parser decides which text
belongs to which step.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

from runbook.document.shell import (
    FOREIGN_PROMPTED,
    PLAIN_COMMAND,
    PLAIN_RUN,
    SESSION_EXITS,
    may_hold_prompt,
    nesting_change,
    open_quote,
    output_kind,
    prompt_context,
    read_prompt,
    session_opener,
    strip_foreign_prompt,
)
from runbook.document.values import parse_duration
from runbook.execution.risk import MAX_RATED_BYTES as MAX_RATED_BYTES
from runbook.execution.risk import classify, too_long_to_rate
from runbook.model import RISK_ORDER, Command, Problem, Procedure, Risk, Variable

SHELL_LANGUAGES = frozenset(
    "sh bash shell zsh ksh console shell-session shellsession terminal fish command".split()
)
PLAIN_LANGUAGES = frozenset(("", "text", "txt", "plain", "plaintext"))
"""Fence labels that say nothing about the content: commands are told from output by reading it."""
KNOWN_PROGRAMS = frozenset(
    """kubectl oc docker docker-compose podman make curl wget helm systemctl journalctl git npm yarn
    pnpm node python python3 pip pip3 bash sh ssh scp rsync aws gcloud az terraform kustomize
    etcdctl amtool promtool redis-cli psql mysql ps top df du free tail cat grep ls ping dig
    nslookup openssl service kill pkill rm cp mv mkdir chmod chown sudo tar gzip jq yq awk sed
    find env export echo ip ss netstat lsof vmstat iostat dmesg uptime htop nc telnet crictl
    ctr nerdctl virsh ansible ansible-playbook vault consul nomad mongo mongosh go cargo java
    mvn gradle dotnet ruby gem bundle php composer kubeadm kubelet minikube kind k9s stern
    argocd flux istioctl linkerd velero pg_dump pg_restore mysqldump uname hostname date
    watch timeout xargs tee head less more sort uniq wc cut tr ceph rbd rados radosgw-admin
    etcdutl cmctl cosign iscsiadm lsblk lsscsi dmsetup blkdiscard partprobe sgdisk wipefs
    perf gcore fsck e2fsck xfs_repair k""".split()
)
_PROMPT_ENDS = ("$", "#", ">", "%")
"""How a prompt's last word ends: `# `, `-> `, `host:~# `, `[cluster-1]$ `, `user@host %`."""
_ROOT_PROMPTED = re.compile(r"#\s?[a-z][\w.-]*\s+[^\s:]")
"""`# dnf install gdb`: a command after a root prompt, or a lowercase comment; not `# TODO:`."""
_HEREDOC = re.compile(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?")
_SPECIAL_ENV = frozenset(
    "HOME PATH USER PWD SHELL HOSTNAME TERM LANG UID EUID RANDOM OLDPWD IFS LINENO SECONDS "
    "BASH_SOURCE FUNCNAME PPID".split()
)
_ASSIGNED = re.compile(
    r"(?:^|[;&|(\n])\s*(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)?)?([A-Za-z_]\w*)="
)
_SCRIPT_LINE = re.compile(
    r"\s*(?:[A-Za-z_]\w*=(?=[^\s=])|(?:for|while|until|if|case|do|done|then|fi|export|cd|sudo)\b)"
    rf"|\s*(?:{'|'.join(sorted(KNOWN_PROGRAMS))})\s"
)
"""A line that reads as part of a script: an assignment, a keyword, a known program."""
_ASSIGNMENT = re.compile(r"^(?:export\s+)?[A-Za-z_]\w*=\S")
_ASSIGNMENT_ONLY = re.compile(r"^\s*(?:export\s+)?(?:[A-Za-z_]\w*=(?:<[^>\n]*>|\S*)\s*)+$")
_EXPORT = re.compile(r"^\s*export\s+([A-Za-z_]\w*)=(.*)$")
_LOOP_VAR = re.compile(r"\b(?:for|read(?:\s+-\w+)*)\s+([A-Za-z_]\w*)")
_PLACEHOLDER = re.compile(r"(?<![<\w])<([A-Za-z][A-Za-z0-9_.-]*)>")
_SHELL_SPECIAL = re.compile(r"[\\'\"$]")
_BRACED = re.compile(r"\$\{([A-Za-z_]\w*)(?::?-([^}]*))?\}")
_PLAIN = re.compile(r"\$([A-Za-z_]\w*)")


@dataclass(frozen=True)
class FenceInfo:
    """A fence's language and attributes (Runme's `{ name=x }` or JSON form)."""

    language: str
    attributes: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        for name, value in self.attributes:
            if name == key:
                return value
        return None


def parse_fence_info(info: str) -> FenceInfo:
    """Split ```` ```sh { name=restart interactive=false } ```` into language and attributes."""
    info = info.strip()
    language, _, rest = info.partition(" ")
    if language.startswith("{"):
        language, rest = "", info
    rest = rest.strip()
    attributes: list[tuple[str, str]] = []
    if rest.startswith("{") and rest.endswith("}"):
        try:
            loaded = json.loads(rest)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            attributes = [(str(k), _attribute_text(v)) for k, v in loaded.items()]
        else:
            for match in re.finditer(r"([\w.-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s}]+)", rest[1:-1]):
                attributes.append((match.group(1), match.group(2).strip("\"'")))
    return FenceInfo(language.lower(), tuple(attributes))


_NO_INFO = FenceInfo("", ())
"""The fence info of a command from inline code: no language, no attributes."""


def _attribute_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict) or value is None:
        return json.dumps(value)  # a list of hosts stays readable as JSON
    return str(value)


def is_runnable_block(info: FenceInfo, content: str, root_convention: bool = False) -> bool:
    """Whether a fenced block holds shell commands rather than output, config or a tree.
    `root_convention`: the document writes root prompts as `# ` in its script blocks
    (`shows_root_prompts`), so a script block of `# cmd` lines alone is prompted too."""
    if info.get("rb-risk") or info.get("name"):
        return True
    if info.language in SHELL_LANGUAGES:
        if is_transcript(content, info.language, root_convention):
            return True
        lines = content.split("\n")
        if info.language in TRANSCRIPT_LANGUAGES:
            code = [ln for ln in lines if ln.strip() and not ln.strip().startswith("#")]
            if any(output_kind(ln) for ln in code):
                return any(_SCRIPT_LINE.match(ln) for ln in code)  # as `split_block` reads it
        # Lazily: the first line that is no output answers (a 100,000-line script's first).
        return any(
            output_kind(ln) is None
            for ln in lines
            if (stripped := ln.strip()) and not stripped.startswith("#")
        )
    if info.language not in PLAIN_LANGUAGES:
        # A ```yaml label on `kubectl exec ...` is a slip: every line is a command.
        return info.language != "diff" and _only_commands(content, len(content))
    if is_transcript(content, info.language):
        return True
    if info.language:
        return False
    return _only_commands(content, 3)


def _only_commands(content: str, first: int) -> bool:
    """Whether the first `first` lines that are not blank or `#` comments all read as commands
    (or assignments, `URL="…"`, when a line of the block reads as a command)."""
    code_lines = [ln.strip() for ln in content.split("\n") if ln.strip()]
    code_lines = [ln for ln in code_lines if not ln.startswith("#")]
    if not any(looks_like_command(ln) for ln in code_lines):
        return False
    return all(looks_like_command(ln) or _ASSIGNMENT.match(ln) for ln in code_lines[:first])


def unread_reason(info: FenceInfo, content: str) -> str | None:
    """Why a block that is not runnable (`is_runnable_block`) but reads as shell gives no
    command; None when it does not read as shell.

    A shell-labelled block, or an unlabelled one with a line that reads as a command,
    must not vanish unexplained: the parser reports this reason as a problem.
    """
    lines = [line.strip() for line in content.split("\n") if line.strip()]
    label = f"`{info.language}` block" if info.language else "block without a language"
    if info.language in SHELL_LANGUAGES:
        # Not runnable: every line is blank or starts with `#`.
        if not lines:
            return f"empty {label}: nothing to run"
        prompted = next((line for line in lines if _ROOT_PROMPTED.match(line)), None)
        if prompted is not None:
            return (
                f"every line of this {label} starts with `#`, so it is read as comments, "
                f"not as commands after a root prompt (`{_shorten(prompted)}`): nothing to run"
            )
        if all(line.startswith("#") for line in lines):
            return f"this {label} holds only comments: nothing to run"
        other = next((line for line in lines if output_kind(line)), lines[0])
        return (
            f"this {label} holds {output_kind(other) or 'output'} (`{_shorten(other)}`), "
            "not shell commands: read as output, not run"
        )
    if info.language not in PLAIN_LANGUAGES:
        return None
    command = None
    for line in lines:
        if looks_like_command(line):
            command = command or line
            continue
        words = line.split(None, 3)
        # A program after a prompt of one or two words: `# kubectl`, `host:~ # kubectl`.
        for at in (1, 2):
            if (
                len(words) > at + 1
                and words[at - 1].endswith(_PROMPT_ENDS)
                and words[at] in KNOWN_PROGRAMS
            ):
                return (
                    f"terminal transcript with `{_shorten(' '.join(words[:at]), 20)}` prompts "
                    f"(`{_shorten(line)}`): not a shell prompt this parser knows; not run"
                )
    if command is None:
        return None
    other = next((line for line in lines if not looks_like_command(line)), "")
    return (
        f"{label} mixes command-like lines (`{_shorten(command)}`) with others "
        f"(`{_shorten(other)}`) and has no `$ ` prompt to tell them apart: read as output, not run"
    )


def _shorten(line: str, width: int = 40) -> str:
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def looks_like_command(text: str) -> bool:
    """Whether one line reads as a shell command (`kubectl -n $NS get pod $POD`)."""
    words = text.strip().split()
    if len(words) < 2 and not (words and words[0].startswith("./")):
        return False
    program = words[0]
    if program == "sudo" and len(words) > 2:
        program = words[1]
    return program in KNOWN_PROGRAMS or (
        program.startswith("./") and len(program) > 2 and "/" not in program[-1]
    )


TRANSCRIPT_LANGUAGES = frozenset(("console", "shell-session", "shellsession", "terminal"))
"""Fence labels for a terminal transcript: prompted lines are commands, the rest output."""


class Group(NamedTuple):
    """Lines of a shell block that make one step's command."""

    comments: list[str]
    code: str
    line: int
    prompt: str | None = None
    """Where a transcript's prompt says the code runs (`[cluster-1]`), if it says."""
    session: str | None = None
    """The interactive command (`oc debug node/x`) the code is typed into, if any."""


@dataclass
class _Group:
    line: int
    comments: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    prompt: str | None = None
    session: str | None = None

    def done(self) -> Group:
        return Group(
            self.comments, "\n".join(self.code).strip("\n"), self.line, self.prompt, self.session
        )


def _root_prompts(language: str, content: str, convention: bool = False) -> bool:
    """Whether `# cmd` may be a root prompt: in a transcript or plain block; in a script only
    when its other lines all read as output (`# ls /var/lib` then the files it lists), or,
    by the document's `convention` (`shows_root_prompts`), when there are none
    (`# docker stop <container_id>` alone, where the same author's `# docker ps` fence
    shows the containers it lists). A `#` line that is no prompted command (`# Restart it`)
    or a line of script beside them keeps every `#` line a comment."""
    if language in TRANSCRIPT_LANGUAGES or language in PLAIN_LANGUAGES:
        return True
    if "#" not in content:
        return False
    prompted = others = 0
    for line in content.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if read_prompt(line, root=True) is not None:
            prompted += 1
        elif stripped.startswith("#") or _SCRIPT_LINE.match(line) or looks_like_command(line):
            return False
        else:
            others += 1
    return prompted > 0 and (others > 0 or convention)


def shows_root_prompts(content: str, language: str) -> bool:
    """Whether a script-labelled block (```` ```sh ````) is a root-prompt transcript: `# cmd`
    lines and the output they print (`# ls /var/lib/longhorn/replicas/` then the names)."""
    return (
        language not in TRANSCRIPT_LANGUAGES
        and language not in PLAIN_LANGUAGES
        and "#" in content
        and _root_prompts(language, content)
        and is_transcript(content, language, False)  # the key the other calls use
    )


@lru_cache(maxsize=64)
def is_transcript(content: str, language: str = "", root_convention: bool = False) -> bool:
    """Whether a block is a terminal session: prompted commands, output between them.
    `root_convention`: as in `is_runnable_block`.

    Asked two or three times per block (is it runnable, how does it split): memoised.
    """
    if not may_hold_prompt(content):
        return False  # no prompt character anywhere: most scripts
    root = _root_prompts(language, content, root_convention)
    lines = content.split("\n")
    prompts = [read_prompt(line, root=root) for line in lines]
    if not any(prompts):
        return False
    if any(p is not None and p[0] != "#" for p in prompts):
        return True
    # Only `# cmd` prompts: a script whose comments start with a program name, unless
    # the other lines read as output rather than as shell.
    return not any(
        prompt is None and _SCRIPT_LINE.match(line) and output_kind(line) is None
        for line, prompt in zip(lines, prompts, strict=True)
    )


def _lone_value(line: str) -> bool:
    """A lone word that is no program, path or keyword (`proposal1` printed after
    `my-election/694d99fafea88404`): more output when output came just before."""
    return (
        " " not in line
        and line not in KNOWN_PROGRAMS
        and not line.startswith(("./", "/", "$", "-", "#"))
        and "=" not in line
        and line not in SESSION_EXITS
        and not _SCRIPT_LINE.match(line + " ")
    )


def split_block(
    content: str, first_line: int, language: str = "", root_convention: bool = False
) -> list[Group]:
    """Split a shell block into groups at comment lines.

    A comment line after code starts a new group, unless the code is inside a
    loop, conditional, heredoc, quote or continued line; comments after the last
    code stay with it. Lines that are not shell (log lines, PromQL, JSON, YAML,
    SQL) are output and left out. A command opening an interactive session
    (`oc debug node/x`, `ssh host`, `psql`) starts a group of its own holding
    the lines typed inside it, up to its `exit`. A transcript (prompted lines,
    `split_transcript`) gives one group per prompt, its output lines dropped.
    `root_convention`: as in `is_runnable_block`.
    """
    lines = content.split("\n")
    if is_transcript(content, language, root_convention):
        root = _root_prompts(language, content, root_convention)
        return _split_transcript(lines, first_line, root)
    # A `console` block without prompts is a script, unless it shows output: then only
    # the lines reading as shell are commands (`[errno 110] error …` is not).
    transcript = language in TRANSCRIPT_LANGUAGES and any(output_kind(x) for x in lines)
    groups: list[_Group] = [_Group(first_line)]
    depth = 0
    sessions = 0
    heredoc: str | None = None
    quote: str | None = None
    continued = False
    after_output = False  # the last line read was output
    plain = None if transcript else PLAIN_COMMAND.fullmatch
    position = 0  # where the line at `offset` starts in `content`
    numbered = enumerate(lines)
    for offset, line in numbered:
        start = position
        position += len(line) + 1
        current = groups[-1]
        if (
            plain is not None
            and not sessions
            and heredoc is None
            and quote is None
            and not continued
            and plain(line)
        ):
            # `echo line 1`, and the plain lines right after it: commands of this group,
            # nothing more to read in them.
            run = PLAIN_RUN.match(content, start)
            text = run.group() if run else line  # the run: whole lines, each with its "\n"
            ended = text.endswith("\n")  # else the run ends the block
            skip = offset + text.count("\n") + (0 if ended else 1)
            position = start + len(text) + (0 if ended else 1)
            # Past the run's other lines at C speed (not one loop turn each).
            deque(islice(numbered, skip - offset - 1), maxlen=0)
            if not current.code:
                current.line = first_line + offset
            current.code.extend(lines[offset:skip])
            after_output = False
            continue
        stripped = line.strip()
        if sessions:
            current.code.append(line)
            if stripped in SESSION_EXITS:
                sessions -= 1
                if not sessions:
                    groups.append(_Group(first_line + offset + 1))
            elif stripped and session_opener(stripped):
                sessions += 1
            continue
        if heredoc is not None or continued or quote is not None:
            current.code.append(line)
            if heredoc is not None:
                if stripped == heredoc:
                    heredoc = None
                continued = False
                continue
            if quote is not None:
                quote = open_quote(line, quote)
            else:
                depth = max(0, depth + nesting_change(line))
                quote = open_quote(line)
            continued = quote is None and line.rstrip().endswith("\\")
            continue
        if not stripped:
            if current.code:
                current.code.append(line)
            continue
        if stripped.startswith("#") and not stripped.startswith("#!") and depth == 0:
            if current.code or current.session:
                groups.append(_Group(first_line + offset))
            groups[-1].comments.append(stripped.lstrip("#").strip())
            continue
        change = nesting_change(line)
        if depth == 0:
            if change == 0 and (
                output_kind(line) is not None or (after_output and _lone_value(stripped))
            ):
                after_output = True
                continue  # output pasted after a command, not a command
            if transcript and change == 0 and not _SCRIPT_LINE.match(line):
                continue  # a transcript fence showing output: only commands are kept
            if change == 0 and session_opener(stripped):
                if current.code or current.session:
                    groups.append(_Group(first_line + offset))
                groups[-1].session = stripped
                groups[-1].line = first_line + offset
                sessions = 1
                continue
        after_output = False
        if not current.code:
            current.line = first_line + offset
        current.code.append(line)
        depth = max(0, depth + change)
        heredoc_match = _HEREDOC.search(line) if "<<" in line else None
        if heredoc_match:
            heredoc = heredoc_match.group(1)
        else:
            quote = open_quote(line)
        continued = quote is None and line.rstrip().endswith("\\")
    if len(groups) > 1 and not groups[-1].code and not groups[-1].session:
        groups[-2].comments.extend(groups.pop().comments)
    return [group.done() for group in groups]


def _split_transcript(lines: list[str], first_line: int, root: bool) -> list[Group]:
    """One group per prompted command (`> ` and `\\` continuations joined), output dropped;
    a session's prompted and other-program lines go into the session's group."""
    groups: list[_Group] = []
    pending: list[str] = []
    sessions = 0
    continued = False
    output_seen = False
    heredoc: str | None = None
    for offset, line in enumerate(lines):
        if continued or heredoc is not None:
            text = line.strip()
            text = text[2:] if text.startswith("> ") else "" if text == ">" else line
            groups[-1].code.append(text)
            if heredoc is not None:
                if text.strip() == heredoc:
                    heredoc = None
            else:
                continued = text.rstrip().endswith("\\")
            continue
        prompted = read_prompt(line, root=root)
        if sessions:
            if prompted is not None:
                code = prompted[1]
            elif FOREIGN_PROMPTED.match(line):
                code = strip_foreign_prompt(line)
            else:
                continue  # output inside the session
            groups[-1].code.append(code)
            if code.strip() in SESSION_EXITS:
                sessions -= 1
            elif session_opener(code):
                sessions += 1
            continue
        if prompted is None:
            if line.strip().startswith("#") and not groups:
                pending.append(line.strip().lstrip("#").strip())
            elif not groups and not output_seen and looks_like_command(line):
                # Before any prompt there is no output yet: a command whose `$ ` was left out.
                groups.append(_Group(first_line + offset, pending, [line.strip()]))
                pending = []
            elif line.strip():
                output_seen = True
            continue
        prompt, code = prompted
        context = prompt_context(prompt)
        at = first_line + offset
        if session_opener(code):
            previous = groups[-1] if groups else None
            if (
                previous is not None
                and not previous.session
                and previous.prompt == context
                and _ASSIGNMENT_ONLY.match("\n".join(previous.code))
            ):
                # `$ NODE=x` then `$ oc debug node/$NODE`: NODE is set where the session opens.
                groups.pop()
                code = "\n".join((*previous.code, code))
                pending, at = previous.comments + pending, previous.line
            groups.append(_Group(at, pending, [], context, code))
            sessions = 1
        elif (
            groups
            and not groups[-1].session
            and groups[-1].prompt == context
            and _ASSIGNMENT_ONLY.match("\n".join(groups[-1].code))
        ):
            # `$ NODE=x` then `$ kubectl debug node/$NODE`: one script, or NODE is lost.
            groups[-1].code.append(code)
            groups[-1].comments.extend(pending)
        else:
            groups.append(_Group(at, pending, [code], context))
        pending = []
        heredoc_match = _HEREDOC.search(code)
        heredoc = heredoc_match.group(1) if heredoc_match else None
        continued = heredoc is None and code.rstrip().endswith("\\")
    return [group.done() for group in groups]


def strip_inline_comment(code: str) -> tuple[str, str | None]:
    """`node --version  # must match` -> ("node --version", "must match"), quote-aware."""
    if "\n" in code or "#" not in code:
        return code, None
    quote: str | None = None
    for index, char in enumerate(code):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and index > 0 and code[index - 1] in " \t":
            return code[:index].rstrip(), code[index + 1 :].strip()
    return code, None


def find_variables(code: str, defaults: dict[str, str] | None = None) -> tuple[Variable, ...]:
    """`$VAR`, `${VAR}`, `<placeholder>` and `export X=...` in shell code, in order of use."""
    defaults = defaults or {}
    found: dict[str, Variable] = {}
    # Each kind is looked for only where its marker occurs: most commands have none.
    if "export" in code:
        for line in code.split("\n"):
            export = _EXPORT.match(line)
            if export:
                name = export.group(1)
                found.setdefault(name, Variable(name, "export", literal_value(export.group(2))))
    names = _dollar_names(code)
    if names:
        assigned = set(_ASSIGNED.findall(code)) if "=" in code else set()
        if "for" in code or "read" in code:
            assigned.update(_LOOP_VAR.findall(code))
        for name, default in names:
            if name in assigned or name in _SPECIAL_ENV or name in found:
                continue
            found[name] = Variable(
                name, "env", default if default is not None else defaults.get(name)
            )
    if "<" in code:
        for match in _PLACEHOLDER.finditer(code):
            name = match.group(1)
            found.setdefault(name, Variable(name, "placeholder", defaults.get(name)))
    return tuple(found.values())


def literal_value(text: str) -> str | None:
    """An assignment's value as written (`"payments"` -> `payments`); None when the shell
    computes it (`$(oc get …)`, `$HOME/x`, a backquote) or the reader fills it in
    (`<namespace>`): such text is no value to offer anyone."""
    text = text.strip()
    if text[:1] in ("'", '"') and (len(text) < 2 or text[-1] != text[0]):
        return None  # a quoted value cut at its first space
    value = text.strip("\"'")
    return None if any(char in value for char in "$`<>") else value


def _dollar_names(code: str) -> list[tuple[str, str | None]]:
    """Names expanded by the shell (outside single quotes), with `${X:-default}` defaults."""
    names: list[tuple[str, str | None]] = []
    if "$" not in code:
        return names
    in_single = in_double = False
    resume = 0
    # Only backslashes, quotes and dollars change anything: jump from one to the next.
    for special in _SHELL_SPECIAL.finditer(code):
        index = special.start()
        if index < resume:
            continue  # the character after a backslash
        char = special.group()
        if char == "\\" and not in_single:
            resume = index + 2
        elif char == "'" and not in_double:
            in_single = not in_single
        elif char == '"' and not in_single:
            in_double = not in_double
        elif char == "$" and not in_single:
            braced = _BRACED.match(code, index)
            plain = None if braced else _PLAIN.match(code, index)
            if braced:
                names.append((braced.group(1), braced.group(2)))
            elif plain:
                names.append((plain.group(1), None))
    return names


def declared_risk(code: str, declared: str | None) -> Risk:
    """The rules' risk of `code`, raised (never lowered) by an `rb-risk` attribute; a command
    too long to rate at load (`too_long_to_rate`) is destructive."""
    if too_long_to_rate(code):
        return "destructive"
    found = classify(code)
    if declared in RISK_ORDER and RISK_ORDER[declared] > RISK_ORDER[found]:
        return declared
    return found


def risk_problems(procedures: Iterable[Procedure]) -> list[Problem]:
    """`rb-risk` attributes that try to lower the rules' risk, or are not a risk at all;
    commands too long to rate at load."""
    problems: list[Problem] = []
    for procedure in procedures:
        for step in procedure.steps:
            for command in step.commands:
                if too_long_to_rate(command.code):
                    problems.append(
                        Problem(
                            command.line,
                            f"command of {command.code.count(chr(10)) + 1:,} lines "
                            f"({len(command.code) // 1024:,} KB) is longer than the risk rules "
                            f"read at load ({MAX_RATED_BYTES // 1024} KB): rated destructive "
                            "unread, so it is confirmed before it runs",
                        )
                    )
                    continue
                declared = dict(command.attributes).get("rb-risk")
                if declared is None:
                    continue
                found = classify(command.code)
                if declared not in RISK_ORDER:
                    problems.append(
                        Problem(
                            command.line,
                            f"rb-risk={declared!r} is not read-only, mutating or destructive;"
                            " ignored",
                        )
                    )
                elif RISK_ORDER[declared] < RISK_ORDER[found]:
                    problems.append(
                        Problem(
                            command.line,
                            f"rb-risk={declared} cannot lower the risk: the rules find this"
                            f" command {found}, and {found} it stays",
                        )
                    )
    return problems


def make_command(
    code: str,
    line: int,
    *,
    comments: tuple[str, ...] = (),
    info: FenceInfo | None = None,
    defaults: dict[str, str] | None = None,
    prompt: str | None = None,
    session: str | None = None,
) -> Command:
    """Build a Command, reading our `rb-` fence attributes where present."""
    info = info or _NO_INFO
    code, trailing = strip_inline_comment(code)
    if trailing:
        comments = (*comments, trailing)
    risk = timeout = confirm = None
    if info.attributes:
        risk = info.get("rb-risk")
        timeout = info.get("rb-timeout")
        confirm = info.get("rb-confirm")
    return Command(
        code=code,
        line=line,
        risk=declared_risk(code, risk),
        variables=find_variables(code, defaults),
        comments=comments,
        language=info.language,
        name=info.get("name"),
        timeout_s=parse_duration(timeout) if timeout else None,
        confirm=None if confirm is None else confirm.lower() in ("true", "yes", "1"),
        verify=info.get("rb-verify"),
        attributes=info.attributes,
        prompt=prompt,
        session=session,
    )
