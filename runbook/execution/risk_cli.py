"""Programs whose risk depends on more than a table: a subcommand with a remote command
(`ssh`, `kubectl exec`, `knife ssh`), a git push's refspec, a cloud CLI's verb, a make target.
Scripts (sed, awk, SQL) are in `risk_scripts`, HTTP clients in `risk_http`.

Each handler takes the classifying context, the program's name, its argument words and
whether more arguments come at run time (xargs), and returns the risk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from runbook.execution import risk_rules as rules
from runbook.execution.risk_rules import DE, MU, RO
from runbook.execution.shell_words import Word
from runbook.model import RISK_ORDER, Risk

if TYPE_CHECKING:
    from runbook.execution.risk import Context

Handler = Callable[["Context", str, list[Word], bool], Risk]
HANDLERS: dict[str, Handler] = {}


def worst(risks: Sequence[Risk]) -> Risk:
    return max(risks, key=RISK_ORDER.__getitem__, default=RO)


def handles(*programs: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for program in programs:
            HANDLERS[program] = handler
        return handler

    return register


def positionals(args: Sequence[str], values: frozenset[str]) -> list[str]:
    """Arguments that are neither options nor the values of options in `values`."""
    words: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in values:
            skip = True
        elif arg == "--":
            break
        elif not arg.startswith("-"):
            words.append(arg)
    return words


def fallback(args: Sequence[Word]) -> Risk:
    """An unknown program (or subcommand): mutating, destructive when it says it deletes."""
    words = [a.text.lower() for a in args if not a.text.startswith("-")][:3]
    destructive = "rm delete destroy drop purge uninstall terminate wipe nuke flush prune".split()
    return DE if any(w in destructive for w in words) else MU


def _lookup(table: dict[str, Risk], pos: list[str], args: Sequence[str]) -> Risk | None:
    for size in (3, 2, 1):
        if len(pos) >= size:
            found = table.get(" ".join(pos[:size]))
            if found is not None:
                return found
    if not pos and "" in table:
        return table[""]
    flags = [table[a] for a in args if a.startswith("-") and a in table]
    return worst(flags) if flags else None


_VALUES_CACHE: dict[str, frozenset[str]] = {}


def _values(spec: str) -> frozenset[str]:
    found = _VALUES_CACHE.get(spec)
    if found is None:
        found = _VALUES_CACHE[spec] = frozenset(spec.split())
    return found


def subcommand_cli(context: Context, program: str, args: list[Word]) -> Risk:
    """A CLI from `SIMPLE_CLIS`: its subcommand's risk, raised by a real `--dry-run=none`."""
    table, value_spec = rules.SIMPLE_CLIS[program]
    texts = [a.text for a in args]
    honoured = rules.DRY_RUN.get(program, ())
    dry_runs = [t for t in texts if t in honoured or t.startswith(("--dry-run", "--dryrun"))]
    if dry_runs and dry_runs[-1] in honoured:
        return RO
    pos = positionals(texts, _values(value_spec))
    found = _lookup(table, pos, texts)
    if found is None:
        return fallback(args)
    writes = rules.WRITE_OPTIONS.get(program, ())
    if found == RO and any(t.split("=", 1)[0] in writes for t in texts):
        return MU
    return found


def _operand_index(texts: Sequence[str], values: frozenset[str], nth: int) -> int | None:
    """The index in `texts` of the `nth` (0-based) argument that is not an option or its value."""
    seen = 0
    skip = False
    for index, text in enumerate(texts):
        if skip:
            skip = False
        elif text in values:
            skip = True
        elif text == "--":
            return None
        elif not text.startswith("-"):
            if seen == nth:
                return index
            seen += 1
    return None


def _inner_after(texts: Sequence[str], values: frozenset[str], nth: int) -> int | None:
    """Where the command run inside starts: after `--`, else after the `nth` operand."""
    if "--" in texts:
        return texts.index("--") + 1
    found = _operand_index(texts, values, nth)
    return None if found is None else found + 1


_ROOK_TOOLS = frozenset(("ceph", "rbd", "rados", "radosgw-admin"))


@handles("kubectl", "oc", "k")
def _kube(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    values = _values(rules.KUBE_VALUES)
    pos = positionals(texts, values)
    if pos[:1] == ["replace"] and "--force" in texts:
        return DE  # deletes, then creates
    if pos[:1] == ["rook-ceph"] and pos[1:2] and pos[1] in _ROOK_TOOLS:
        # The rook-ceph plugin runs the Ceph tool in the operator pod: its risk is the tool's.
        return context.words(args[texts.index(pos[1]) :])
    if pos[:1] in (["exec"], ["rsh"]):
        start = _inner_after(texts, values, 1)
        inner = args[start:] if start is not None else []
        return context.words(inner) if inner else MU  # no command: an interactive shell
    return subcommand_cli(context, program, args)


@handles("docker", "podman", "nerdctl")
def _docker(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    values = _values(rules.DOCKER_VALUES)
    pos = positionals(texts, values)
    group = 1 if pos[:1] in (["container"], ["compose"]) else 0
    if pos[group : group + 1] == ["exec"]:
        found = _operand_index(texts, values, group + 1)
        inner = args[found + 1 :] if found is not None else []
        return context.words(inner) if inner else MU
    if pos[group : group + 1] == ["rm"]:
        return DE
    return subcommand_cli(context, "docker", args)


@handles("knife")
def _knife(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    pos = positionals(texts, _values(rules.SIMPLE_CLIS["knife"][1]))
    if pos[:1] == ["ssh"]:
        return context.code(pos[2]) if len(pos) > 2 else MU
    return subcommand_cli(context, "knife", args)


_SSH = "46AaCfGgKkMNnqsTtVvXxYy b:c:D:E:e:F:I:i:J:L:l:m:O:o:p:Q:R:S:W:w:B:"
_SSH_LOCAL = re.compile(r"(?i)(proxycommand|localcommand|knownhostscommand|permitlocalcommand)")


@handles("ssh")
def _ssh(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    from runbook.execution.risk import parse_options

    risks: list[Risk] = [RO]
    effects: dict[str, Risk] = {
        o: MU for o in ("-E", "-L", "-R", "-D", "-W", "-w", "-F", "-N", "-M", "-S")
    }
    rest = parse_options(_SSH, args, risks, effects, context, stop_at_operand=True)
    texts = [a.text for a in args]
    for index, text in enumerate(texts[:-1]):
        if text == "-o" and _SSH_LOCAL.search(texts[index + 1]):
            risks.append(MU)
    if any(t.startswith("-o") and _SSH_LOCAL.search(t) for t in texts):
        risks.append(MU)
    if len(rest) < 2:
        return MU  # an interactive session
    return worst([*risks, context.code(" ".join(rest[1:]))])


_GIT_LONG = (
    "--force",
    "--force-with-lease",
    "--force-if-includes",
    "--delete",
    "--mirror",
    "--prune",
    "--hard",
    "--merge",
    "--keep",
    "--dry-run",
    "--list",
    "--output",
    "--open-files-in-pager",
    "--ext-diff",
    "--textconv",
)


def _git_long(option: str) -> str:
    name, equals, value = option.partition("=")
    if len(name) >= 5:
        matches = [long for long in _GIT_LONG if long.startswith(name)]
        if matches:
            return min(matches, key=len) + equals + value
    return option


@handles("git")
def _git(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    risks: list[Risk] = [RO]
    index = 0
    while index < len(texts) and texts[index].startswith("-"):
        text = texts[index]
        if text in ("-c",) or text.startswith(("--exec-path", "--config-env", "-c")):
            risks.append(MU)
        if text in ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env"):
            index += 1
        index += 1
    sub = texts[index] if index < len(texts) else ""
    rest = texts[index + 1 :]
    # git takes any unambiguous prefix of a long option (`--forc`): spell them out
    flags = [_git_long(t) if t.startswith("--") else t for t in rest if t.startswith("-")]
    operands = [t for t in rest if not t.startswith("-")]
    if any(
        t.startswith(("--output", "--open-files-in-pager", "--ext-diff", "--textconv", "-O"))
        for t in flags
    ):
        risks.append(MU)
    if sub in rules.GIT_READ:
        return worst([*risks, MU if "--lost-found" in flags else RO])
    short = "".join(t[1:] for t in flags if not t.startswith("--"))
    if sub == "push":
        if "-n" in flags or "--dry-run" in flags:
            return worst(risks)
        forced = any(t.startswith(("--force", "--delete", "--mirror", "--prune")) for t in flags)
        forced |= "f" in short or "d" in short
        forced |= any(o.startswith(("+", ":")) for o in operands)
        return worst([*risks, DE if forced else MU])
    if sub == "branch":
        if "D" in short or "d" in short or "--delete" in flags:
            return DE
        listing = not operands or "--list" in flags or "-l" in flags
        renaming = (
            "m" in short
            or "M" in short
            or "c" in short
            or "C" in short
            or "--set-upstream-to" in " ".join(flags)
        )
        return worst([*risks, RO if listing and not renaming else MU])
    if sub == "tag":
        if "d" in short or "--delete" in flags:
            return DE
        return worst([*risks, RO if not operands or "l" in short or "--list" in flags else MU])
    if sub == "remote":
        if operands[:1] in (["remove"], ["rm"]):
            return DE
        return worst([*risks, RO if not operands or operands[0] in ("show", "get-url") else MU])
    if sub == "stash":
        if operands[:1] in (["drop"], ["clear"]):
            return DE
        return worst([*risks, RO if operands[:1] in (["list"], ["show"]) else MU])
    if sub == "config":
        reads = any(f.startswith(("--get", "--list", "-l", "--show")) for f in flags)
        writes = any(
            f.startswith(("--unset", "--add", "--replace", "--rename", "--remove", "-e", "--edit"))
            for f in flags
        )
        return worst([*risks, RO if (reads or len(operands) == 1) and not writes else MU])
    if sub == "reflog":
        if operands[:1] in (["expire"], ["delete"]):
            return DE
        return worst([*risks, RO if not operands or operands[0] == "show" else MU])
    if sub == "clean":
        return worst([*risks, RO if "n" in short or "--dry-run" in flags else DE])
    if sub == "reset" and any(f in ("--hard", "--merge", "--keep") for f in flags):
        return DE
    if sub == "update-ref" and ("-d" in flags or "--stdin" in flags):
        return DE
    if sub in ("prune", "filter-branch", "filter-repo") or (
        sub == "gc" and any(f.startswith("--prune") for f in flags)
    ):
        return DE
    if sub == "worktree" and operands[:1] == ["remove"] or sub == "checkout" and "f" in short:
        return DE
    return worst([*risks, MU])


@handles("aws", "gcloud", "az", "gsutil")
def _cloud(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    if program == "aws" and any(t in ("--dry-run", "--dryrun") for t in texts):
        return RO
    pos = positionals(texts, rules.CLOUD_VALUES)
    if program == "aws" and pos[:1] == ["s3"]:
        verb = pos[1] if len(pos) > 1 else ""
        if verb in ("rm", "rb") or (verb == "sync" and "--delete" in texts):
            return DE
        return RO if verb in ("ls", "presign") else MU
    if program == "gsutil":
        verb = pos[0] if pos else ""
        if verb in ("rm", "rb") or (verb == "rsync" and "-d" in texts):
            return DE
        return RO if verb in ("ls", "cat", "du", "stat", "version", "hash") else MU
    if program == "gcloud" and pos[:2] == ["compute", "ssh"]:
        command = [t.partition("=")[2] for t in texts if t.startswith("--command=")]
        command += [texts[i + 1] for i, t in enumerate(texts[:-1]) if t == "--command"]
        return context.code(command[0]) if command else MU
    if program == "aws":
        words = pos[1:2]  # aws SERVICE OPERATION
    else:  # gcloud/az GROUP... VERB [NAME] --options: the verb comes before the options
        first_option = next((i for i, t in enumerate(texts) if t.startswith("-")), len(texts))
        words = [w for w in pos if w in texts[:first_option]]
    for word in words:
        if word in rules.CLOUD_MUTATING_READS:
            return MU
        if word in rules.CLOUD_DELETE_VERBS or word.startswith(rules.CLOUD_DELETE_PREFIXES):
            return DE
        if word in rules.CLOUD_READ_VERBS or word.startswith(rules.CLOUD_READ_PREFIXES):
            if program == "az" and word == "rest":
                break
            return RO
    return MU


@handles("make", "gmake", "just", "task")
def _make(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    targets: list[str] = []
    index = 0
    risks: list[Risk] = [RO]
    while index < len(texts):
        text = texts[index]
        if text in ("-C", "--directory", "-j", "--jobs", "-l"):
            index += 1
        elif text in (
            "-s",
            "--silent",
            "--quiet",
            "-k",
            "--keep-going",
            "--no-print-directory",
            "-w",
            "-e",
        ) or re.fullmatch(r"-j\d*|-C.+|--directory=.*|--jobs=\d*", text):
            pass
        elif text.startswith("-"):
            risks.append(MU)
        elif "=" in text:
            if text.split("=", 1)[0].strip("+?:") in (
                "SHELL",
                "MAKEFLAGS",
                "MAKEFILES",
                ".SHELLFLAGS",
                "MAKESHELL",
                "MAKE",
            ):
                risks.append(MU)
        else:
            targets.append(text)
        index += 1
    if not targets:
        return MU
    for target in targets:
        words = set(re.split(r"[-_:.]", target.lower()))
        if words & {
            "destroy",
            "down",
            "delete",
            "rm",
            "drop",
            "purge",
            "prune",
            "wipe",
            "nuke",
            "uninstall",
            "kill",
            "truncate",
        }:
            risks.append(DE)
        elif target in rules.MAKE_READ_TARGETS:
            risks.append(RO)
        else:
            risks.append(MU)
    return worst(risks)


_IP_READ = ("show", "list", "lst", "ls", "get", "sh", "sho", "li", "lis", "help")
"""Actions that only read. Not `s` or `l`: `ip link s` is `set`; `ip addr s` is `show`."""


@handles("ip")
def _ip(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    if any(t in ("-b", "-batch", "-force") for t in texts):
        return MU
    operands = positionals(texts, frozenset(("-n", "-netns", "-f", "-family", "-rc", "-rcvbuf")))
    if operands[:2] == ["netns", "exec"] and len(operands) > 2:
        start = texts.index(operands[2]) + 1
        return context.words(args[start:]) if start < len(args) else MU
    if len(operands) < 2 or operands[0] in ("monitor", "mon"):
        return RO
    action = operands[1]
    if operands[0] in ("netns",) and action in ("list", "ls", "identify", "pids"):
        return RO
    if action in _IP_READ or (action == "s" and operands[0] in ("a", "addr", "address")):
        return RO
    if action in ("del", "delete", "flush"):
        return DE
    if action in (
        "set",
        "add",
        "change",
        "replace",
        "append",
        "prepend",
        "save",
        "restore",
        "exec",
    ):
        return MU
    return (
        RO
        if operands[0] in ("addr", "address", "a", "link", "l", "route", "r", "neigh", "n", "rule")
        and re.fullmatch(r"(dev|to|from|table|scope|type|up|proto)", action)
        else MU
    )


@handles("openssl")
def _openssl(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    sub = texts[0] if texts else ""
    reads = (
        "x509 s_client verify version crl req rsa ec pkey asn1parse dgst ciphers list errstr "
        "sess_id ocsp pkcs7 speed rand"
    ).split()
    if sub not in reads:
        return MU
    writes = (
        "-out",
        "-keyout",
        "-sess_out",
        "-writerand",
        "-keylogfile",
        "-CAcreateserial",
        "-msgfile",
        "-signkey",
        "-new",
        "-x509toreq",
        "-genkey",
    )
    return MU if any(t in writes for t in texts) else RO


@handles("nc", "ncat", "netcat")
def _nc(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    scan = (
        any(t.startswith("-") and not t.startswith("--") and "z" in t for t in texts)
        or "--zero" in texts
    )
    return (
        RO
        if scan
        and not any(t.startswith(("-e", "-c", "--exec", "--sh-exec", "-l", "-o")) for t in texts)
        else MU
    )


@handles("rsync")
def _rsync(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    if any(t.startswith(("--delete", "--remove-source-files")) for t in texts):
        return DE
    if (
        "--dry-run" in texts
        or "--list-only" in texts
        or any(t.startswith("-") and not t.startswith("--") and "n" in t for t in texts)
    ):
        return (
            RO
            if not any(
                t.startswith(
                    (
                        "-e",
                        "--rsh",
                        "--rsync-path",
                        "--log-file",
                        "--write-batch",
                        "--only-write-batch",
                    )
                )
                for t in texts
            )
            else MU
        )
    return MU


@handles("hostnamectl", "timedatectl", "localectl", "loginctl", "networkctl", "resolvectl")
def _ctl(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    operands = [a.text for a in args if not a.text.startswith("-")]
    if not operands:
        return RO
    verb = operands[0]
    if verb in (
        "status",
        "show",
        "list",
        "list-sessions",
        "list-users",
        "list-seats",
        "show-session",
        "show-user",
        "query",
        "statistics",
        "dns",
        "domain",
        "timesync-status",
        "show-timesync",
        "lldp",
        "list-keymaps",
        "list-locales",
        "list-timezones",
    ):
        return RO
    return (
        DE if verb in ("terminate-session", "terminate-user", "kill-session", "kill-user") else MU
    )


_ISCSI_CHANGES = frozenset(
    "-l --login -u --logout -L --loginall -U --logoutall -R --rescan".split()
)


@handles("iscsiadm")
def _iscsiadm(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    """`-m node`, `-m session`, `-o show`: lists records; `-o delete` deletes them; logging
    in or out, discovery (which writes node records) and other operations change things."""
    texts = [a.text for a in args]
    ops = [texts[i + 1] for i, t in enumerate(texts[:-1]) if t in ("-o", "--op")]
    ops += [t.split("=", 1)[1] for t in texts if t.startswith("--op=")]
    ops += [t[2:] for t in texts if t.startswith("-o") and len(t) > 2 and t != "-o"]
    if "delete" in ops:
        return DE
    if extra or any(t in _ISCSI_CHANGES for t in texts) or any(op != "show" for op in ops):
        return MU
    modes = [texts[i + 1] for i, t in enumerate(texts[:-1]) if t in ("-m", "--mode")]
    modes += [t.split("=", 1)[1] for t in texts if t.startswith("--mode=")]
    reading = modes[:1] in (["node"], ["session"], ["iface"], ["host"], ["fw"])
    return RO if reading or texts in (["--version"], ["-V"]) else MU


@handles("fsck", "e2fsck", "xfs_repair", "fsck.ext2", "fsck.ext3", "fsck.ext4", "fsck.xfs")
def _fsck(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    """A check that may repair: it can clear inodes and lose data for good, unless `-n`
    (no changes) is given."""
    texts = [a.text for a in args]
    if not extra and ("-n" in texts or texts in (["-V"], ["--version"])):
        return RO
    return DE
