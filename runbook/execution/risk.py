"""Risk of a shell command: read-only, mutating or destructive.

The rules read each simple command of a pipeline or list; the riskiest wins.
Unknown programs are mutating: a guess errs towards asking for confirmation.
"""

from __future__ import annotations

import re
from functools import lru_cache

from runbook.model import RISK_ORDER, Risk

READ_ONLY_PROGRAMS = frozenset(
    """cat less more head tail grep egrep fgrep zgrep rg awk ls ll ps top htop df du free uptime
    whoami id hostname date echo printf env printenv which type stat file wc sort uniq cut jq yq tr
    dig nslookup host ping traceroute tracepath mtr netstat ss lsof journalctl dmesg vmstat iostat
    mpstat pidstat sar nproc uname lscpu lsblk mount findmnt test true false [ column diff cmp
    base64 md5sum sha256sum readlink realpath basename dirname pwd sleep nc telnet openssl
    getent nc ip ifconfig route arp curlie http xxd od strings time watch""".split()
)
DESTRUCTIVE_PROGRAMS = frozenset("rm rmdir kill pkill killall shred mkfs dd wipefs fdisk".split())
DESTRUCTIVE_WORDS = frozenset(
    "rm rmi delete kill prune drop destroy truncate purge uninstall terminate wipe nuke".split()
)
READ_ONLY_WORDS = frozenset(
    """logs log stats inspect get describe status ps images top version info events history
    port diff list ls show explain api-resources api-versions cluster-info config view
    help check lint test health doctor plan outdated audit search template can-i whoami
    logs-tail tail cat verify validate env endpoint member alarm df""".split()
)
GROUP_WORDS = frozenset(
    """rollout config auth container image volume network system node service secret stack
    plugin context builder buildx swarm trust manifest""".split()
)
"""Subcommand groups (`kubectl rollout status`, `docker image ls`): the next word decides."""
READ_ONLY_PREFIXES = ("get-", "list-", "describe-", "show-", "view-")
WRAPPERS = frozenset("sudo nohup time command exec nice ionice stdbuf timeout xargs".split())
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_TOKEN = re.compile(
    r"""(?P<comment>(?:(?<=\s)|^)\#[^\n]*)"""
    r"""|(?P<op>\|\||&&|;;|\|&|[;&|()\n]|\d*>>|\d*>&\d*|\d*>\|?|<<<|<<-?|<&|<)"""
    r"""|(?P<word>(?:[^\s;&|()<>'"\\]|\\.|'[^']*'?|"(?:[^"\\]|\\.)*"?)+)""",
    re.M,
)
_QUOTED = re.compile(r"""'([^']*)'?|"((?:[^"\\]|\\.)*)"?|\\(.)""")
_MUTATING_CURL = re.compile(
    r"^(-X|--request)$|^-X[A-Z]+$|^(-d|--data.*|-F|--form|-T|--upload-file|--json)$"
)


@lru_cache(maxsize=4096)
def classify(code: str) -> Risk:
    """The riskiest simple command in `code`."""
    return riskiest(_classify_simple(words) for words in simple_commands(code))


def riskiest(risks: object) -> Risk:
    found: list[Risk] = list(risks)  # type: ignore[call-overload]
    return max(found, key=RISK_ORDER.__getitem__, default="read-only")


def simple_commands(code: str) -> list[list[str]]:
    """Split shell code into simple commands (word lists, quotes removed)."""
    return [list(words) for words in _simple_commands(code)]


@lru_cache(maxsize=4096)
def _simple_commands(code: str) -> tuple[tuple[str, ...], ...]:
    commands: list[list[str]] = [[]]
    redirect_target = False
    for match in _TOKEN.finditer(code.replace("\\\n", " ")):
        operator, word = match.group("op"), match.group("word")
        if match.group("comment"):
            commands.append([])
        elif operator:
            if ">" in operator and "&" not in operator:
                redirect_target = True
            elif "<" in operator or ">" in operator:
                commands[-1].append("\x00redirect")
            else:
                commands.append([])
        elif word:
            word = _unquote(word)
            if redirect_target:
                redirect_target = False
                if word not in ("/dev/null", "/dev/stderr", "/dev/stdout"):
                    commands[-1].append("\x00writes-file")
            else:
                commands[-1].append(word)
    return tuple(tuple(c) for c in commands if c)


def _unquote(word: str) -> str:
    if "'" not in word and '"' not in word and "\\" not in word:
        return word
    return _QUOTED.sub(lambda m: m.group(1) or m.group(2) or m.group(3) or "", word)


def _classify_simple(words: list[str]) -> Risk:
    writes_file = "\x00writes-file" in words
    words = [w for w in words if not w.startswith("\x00")]
    while words and (_ASSIGNMENT.match(words[0]) or words[0] in WRAPPERS or words[0] == "export"):
        if words[0] == "timeout" and len(words) > 1:
            words = words[1:]
        words = words[1:]
    if not words:
        return "mutating" if writes_file else "read-only"
    risk = _classify_program(words)
    if writes_file:
        return riskiest([risk, "mutating"])
    return risk


def _classify_program(words: list[str]) -> Risk:
    program = words[0].rsplit("/", 1)[-1]
    args = words[1:]
    if program in DESTRUCTIVE_PROGRAMS:
        return "destructive"
    if any(a in ("--version", "--help", "-h") for a in args) and len(args) == 1:
        return "read-only"
    if any(a == "--dry-run" or a.startswith("--dry-run=") for a in args):
        return "read-only"
    if program in ("curl", "wget"):
        return _classify_http(args)
    if program == "sed":
        return "mutating" if any(a.startswith("-i") for a in args) else "read-only"
    if program == "find":
        return "destructive" if {"-delete", "-exec", "-execdir"} & set(args) else "read-only"
    if program == "watch":
        return _classify_program([a for a in args if not a.startswith("-")] or ["true"])
    if program in READ_ONLY_PROGRAMS:
        return "read-only"
    if program in ("docker", "podman", "kubectl", "oc") and _subcommand(args) == "exec":
        return _classify_exec(args)
    if program == "docker" and _subcommand(args) == "compose":
        args = args[args.index("compose") + 1 :]
        program = "docker-compose"
    if program in ("make", "npm", "yarn", "pnpm", "just", "task"):
        return _classify_targets(program, args)
    if program == "git":
        return _classify_git(args)
    subcommand_words = [a.lower() for a in _positional(args)][:3]
    if any(w in DESTRUCTIVE_WORDS or w == "down" for w in subcommand_words[:2]):
        return "destructive"
    if subcommand_words and subcommand_words[0] in GROUP_WORDS:
        subcommand_words = subcommand_words[1:]
    if subcommand_words and (
        subcommand_words[0] in READ_ONLY_WORDS or subcommand_words[0].startswith(READ_ONLY_PREFIXES)
    ):
        return "read-only"
    return "mutating"


_VALUE_OPTIONS = frozenset(
    "-n --namespace -H --host --context -c --kubeconfig -f --file -p --project-name "
    "--project-directory --env-file -l --selector -o --output --log-level --config".split()
)


def _positional(args: list[str]) -> list[str]:
    """Arguments that are not options nor values of common value-taking options."""
    words: list[str] = []
    skip_value = False
    for arg in args:
        if skip_value:
            skip_value = False
        elif arg in _VALUE_OPTIONS:
            skip_value = True
        elif not arg.startswith("-"):
            words.append(arg)
    return words


def _subcommand(args: list[str]) -> str:
    words = _positional(args)
    return words[0] if words else ""


def _classify_exec(args: list[str]) -> Risk:
    """`docker exec CONTAINER cmd ...` and `kubectl exec POD -- cmd`: the inner command's risk."""
    if "--" in args:
        inner = args[args.index("--") + 1 :]
    else:
        rest = args[args.index("exec") + 1 :]
        positional: list[str] = []
        skip_value = False
        for arg in rest:
            if skip_value:
                skip_value = False
            elif arg in ("-e", "--env", "-u", "--user", "-w", "--workdir", "-c", "--container"):
                skip_value = True
            elif not arg.startswith("-") or positional:
                positional.append(arg)
        inner = positional[1:]
    return _classify_simple(inner) if inner else "mutating"


def _classify_http(args: list[str]) -> Risk:
    for index, arg in enumerate(args):
        if _MUTATING_CURL.match(arg):
            method = arg[2:] if arg.startswith("-X") and len(arg) > 2 else ""
            if not method and arg in ("-X", "--request") and index + 1 < len(args):
                method = args[index + 1]
            if method.upper() == "DELETE":
                return "destructive"
            if method.upper() in ("GET", "HEAD", "OPTIONS"):
                continue
            return "mutating"
        if arg.startswith("--post"):
            return "mutating"
    return "read-only"


def _classify_targets(program: str, args: list[str]) -> Risk:
    targets = [a for a in args if not a.startswith("-") and "=" not in a]
    if program in ("npm", "yarn", "pnpm"):
        if targets and targets[0] in ("run", "run-script"):
            targets = targets[1:2]
        elif targets and targets[0] in ("audit", "ls", "list", "view", "outdated", "version"):
            return "mutating" if "fix" in targets else "read-only"
        else:
            return "mutating"
    if not targets:
        return "mutating"
    risks: list[Risk] = []
    for target in targets:
        words = set(re.split(r"[-_:.]", target.lower()))
        if words & DESTRUCTIVE_WORDS or target in ("destroy", "down"):
            risks.append("destructive")
        elif target.lower() in READ_ONLY_WORDS or words & {"status", "logs", "lint", "check"}:
            risks.append("read-only")
        else:
            risks.append("mutating")
    return riskiest(risks)


def _classify_git(args: list[str]) -> Risk:
    sub = _subcommand(args)
    if sub in (
        "status",
        "log",
        "diff",
        "show",
        "fetch",
        "blame",
        "describe",
        "rev-parse",
        "ls-files",
    ):
        return "read-only"
    if sub == "clean" or (sub == "reset" and "--hard" in args) or (sub == "push" and "-f" in args):
        return "destructive"
    if sub == "branch" and len(args) == 1:
        return "read-only"
    return "mutating"
