"""Programs that run a script: find's expression, sed, awk, SQL clients, redis-cli.

A script that can run a command or write a file (`find -exec`, sed's `e` and `w`, awk's
`system()`, SQL's DROP) decides the risk; handlers register with `risk_cli.handles`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from runbook.execution import risk_rules as rules
from runbook.execution.risk_cli import handles, positionals, worst
from runbook.execution.risk_rules import DE, MU, RO
from runbook.execution.shell_words import Word
from runbook.model import Risk

if TYPE_CHECKING:
    from runbook.execution.risk import Context


@handles("find")
def _find(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    if extra:
        return MU
    valued = set(
        """-name -iname -path -ipath -wholename -iwholename -regex -iregex -type -xtype -size
        -mtime -mmin -atime -amin -ctime -cmin -newer -anewer -cnewer -user -group -uid -gid
        -perm -links -inum -samefile -fstype -lname -ilname -used -maxdepth -mindepth
        -regextype -printf -newermt -newerct -newerat""".split()
    )
    flags = set(
        """-print -print0 -ls -prune -quit -empty -true -false -nouser -nogroup -readable
        -writable -executable -depth -xdev -mount -follow -daystart -noleaf
        -ignore_readdir_race -not -a -and -o -or ! ( ) , -L -H -P""".split()
    )
    risks: list[Risk] = [RO]
    index = 0
    while index < len(args):
        word = args[index]
        text = word.text
        if context.injectable(word):
            risks.append(MU)  # it may be `-delete`; what follows still counts
            index += 1
            continue
        if text == "-delete":
            return DE
        if text in ("-exec", "-execdir", "-ok", "-okdir"):
            end = index + 1
            while end < len(args) and args[end].text not in (";", "+"):
                end += 1
            inner = args[index + 1 : end]
            risks.append(context.words(inner) if inner else MU)
            index = end + 1
            continue
        if text in valued:
            index += 2
            continue
        if text.startswith("-") and text not in flags:
            return worst([*risks, MU])
        index += 1
    return worst(risks)


def sed_script(script: str) -> Risk:
    """A sed script's risk: `e` and `s///e` run commands, `w` and `s///w` write files."""
    i, n = 0, len(script)
    while i < n:
        char = script[i]
        if char in " \t\n;{}!":
            i += 1
            continue
        if char == "#":
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        i = _sed_address(script, i)
        if i >= n:
            break
        char = script[i]
        if char in "{}!":
            continue
        if char in "sy":
            if i + 1 >= n:
                return MU
            delimiter = script[i + 1]
            i += 2
            for _ in range(2):
                while i < n and script[i] != delimiter:
                    i += 2 if script[i] == "\\" else 1
                i += 1
            if char == "s":
                start = i
                while i < n and script[i] not in ";\n}":
                    i += 1
                if re.search(r"[ew]", script[start:i].split(" ", 1)[0] if script[start:i] else ""):
                    return MU
                if re.match(r"[gpiImM0-9]*[ew]", script[start:i]):
                    return MU
        elif char in "aicrR":
            while i < n and script[i] != "\n":
                i += 2 if script[i] == "\\" else 1
        elif char in "wWe":
            return MU
        elif char in "btT:v":
            while i < n and script[i] not in ";\n":
                i += 1
        elif char in "=dDgGhHlnNpPqQxzF":
            i += 1
            while i < n and (
                script[i].isdigit() or script[i] == " " and script[i + 1 : i + 2].isdigit()
            ):
                i += 1
        else:
            return MU
    return RO


def _sed_address(script: str, i: int) -> int:
    n = len(script)
    while i < n:
        char = script[i]
        if char.isdigit() or char in "$,~+ ":
            i += 1
        elif char == "/" or (char == "\\" and i + 1 < n):
            delimiter = "/" if char == "/" else script[i + 1]
            i += 1 if char == "/" else 2
            while i < n and script[i] != delimiter:
                i += 2 if script[i] == "\\" else 1
            i += 1
            while i < n and script[i] in "IM":
                i += 1
        else:
            return i
    return i


@handles("sed", "gsed")
def _sed(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    from runbook.execution.risk import parse_options

    if extra:
        return MU
    risks: list[Risk] = [RO]
    scripts: list[Word] = []
    texts = [a.text for a in args]
    for index, text in enumerate(texts):
        attached = re.fullmatch(r"-[nErsuz]*e(.+)", text)
        if attached:
            scripts.append(Word(attached.group(1), list(args[index].expansions)))
        elif (text == "--expression" or re.fullmatch(r"-[nErsuz]*e", text)) and index + 1 < len(
            args
        ):
            scripts.append(args[index + 1])
        elif text.startswith("--expression="):
            scripts.append(Word(text.partition("=")[2], list(args[index].expansions)))
    effects: dict[str, Risk] = {
        "-i": MU,
        "--in-place": MU,
        "--in-place=": MU,
        "-f": MU,
        "--file=": MU,
        "--file": MU,
    }
    operands = parse_options(
        "nErsuz e:l: --quiet --silent --regexp-extended --separate --unbuffered --null-data "
        "--posix --debug --sandbox --expression= --line-length= --follow-symlinks",
        args,
        risks,
        effects,
        context,
    )
    if not scripts:
        if not operands:
            return MU  # the script comes from stdin or a file
        scripts.append(next(a for a in args if a.text == operands[0]))
    if "--sandbox" in texts:
        return worst(risks)  # GNU sed refuses e, w and r in its sandbox
    scripts_risk = [MU if context.code_chosen(s) else sed_script(s.text) for s in scripts]
    return worst([*risks, *scripts_risk])


_AWK_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def awk_program(program: str) -> Risk:
    """An awk program's risk: `system()`, pipes, `print >` and `@load` run or write."""
    if re.search(r"\bsystem\s*\(|@load|@include", program):
        return MU
    text = _AWK_STRING.sub(
        lambda m: m.group(0) if m.group(0) in ('"/dev/stderr"', '"/dev/stdout"') else '"s"', program
    )
    if re.search(r"(?<!\|)\|(?!\|)", text):
        return MU
    for statement in re.split(r"[;{}\n]", text):
        found = re.search(r"\bprintf?\b(.*)", statement)
        if found:
            for target in re.finditer(r">>?\s*(\S*)", found.group(1)):
                if target.group(1) not in ('"/dev/stderr"', '"/dev/stdout"'):
                    return MU
    return RO


@handles("awk", "gawk", "mawk", "nawk")
def _awk(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    from runbook.execution.risk import parse_options

    if extra:
        return MU
    risks: list[Risk] = [RO]
    texts = [a.text for a in args]
    sources = [args[i + 1] for i, t in enumerate(texts[:-1]) if t in ("-e", "--source")]
    operands = parse_options(
        "bcOPrtMSN F:v:e: --field-separator= --assign= --source= --sandbox --posix "
        "--traditional --re-interval --characters-as-bytes --use-lc-numeric",
        args,
        risks,
        {},
        context,
    )
    if not sources:
        if not operands:
            return MU
        sources = [next(a for a in args if a.text == operands[0])]
    for source in sources:
        risks.append(MU if context.code_chosen(source) else awk_program(source.text))
    return worst(risks)


def sql_risk(sql: str) -> Risk:
    risks: list[Risk] = [RO]
    for statement in re.split(r";|\\g", sql):
        words = statement.strip().lower().split()
        if not words:
            continue
        first = words[0]
        if first == "explain" and "analyze" in words[1:3]:
            words = words[words.index("analyze") + 1 :]
            first = words[0] if words else "select"
        if first.startswith("\\"):
            risks.append(
                RO if re.fullmatch(r"\\(d\w*\+?|l\+?|x|conninfo|timing|pset|a|t)", first) else MU
            )
        elif first in rules.SQL_DESTRUCTIVE or re.search(
            r"pg_terminate_backend|pg_drop_|lo_unlink", statement, re.I
        ):
            risks.append(DE)
        elif first in rules.SQL_READ and not re.search(
            r"\binto\b|nextval|setval|set_config|pg_cancel_backend|pg_reload_conf|pg_switch_wal|lo_export|pg_create_|pg_advisory|pg_rotate|dblink|\bfor\s+update\b|\bdelete\b|\bupdate\b|\binsert\b",
            statement,
            re.I,
        ):
            risks.append(RO)
        else:
            risks.append(MU)
    return worst(risks)


@handles("psql", "mysql", "mariadb", "sqlite3", "clickhouse-client", "cockroach")
def _sql(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    scripts = [
        texts[i + 1]
        for i, t in enumerate(texts[:-1])
        if t in ("--command", "--execute", "--query")
        or re.fullmatch(r"-[A-Za-z]*[ceq]", t)  # -c, -tAc, -Ne: the last letter takes the SQL
    ]
    scripts += [
        t.partition("=")[2] for t in texts if t.startswith(("--command=", "--execute=", "--query="))
    ]
    if any(
        t in ("-f", "--file", "-o", "--output", "-L", "--log-file", "--tee")
        or t.startswith(("--file=", "--output=", "--tee="))
        for t in texts
    ):
        return MU
    if program == "sqlite3":
        operands = [t for t in texts if not t.startswith("-")]
        scripts += operands[1:]
    if not scripts:
        return RO if "-l" in texts or "--list" in texts else MU
    dynamic = [a for a in args if a.text in scripts and context.code_chosen(a)]
    return worst([MU] if dynamic else [sql_risk(s) for s in scripts])


@handles("redis-cli", "valkey-cli", "keydb-cli")
def _redis(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    values = {
        "--pattern",
        "--count",
        "-h",
        "-p",
        "-a",
        "-n",
        "-u",
        "--user",
        "--pass",
        "-s",
        "-r",
        "-i",
        "-d",
        "--cacert",
        "--cert",
        "--key",
        "--sni",
        "-c",
    }
    if any(t in ("--rdb", "--pipe", "--eval", "-x", "--functions-rdb") for t in texts):
        return MU
    modes = (
        "--scan",
        "--bigkeys",
        "--memkeys",
        "--hotkeys",
        "--stat",
        "--latency",
        "--latency-history",
        "--latency-dist",
        "--intrinsic-latency",
    )
    operands = positionals(texts, frozenset(values - {"-c"}))
    if any(t in modes for t in texts) and not operands:
        return RO
    if not operands:
        return MU
    command = operands[0].lower()
    sub = operands[1].lower() if len(operands) > 1 else ""
    if command in rules.REDIS_DESTRUCTIVE or (command, sub) in {
        ("script", "flush"),
        ("function", "flush"),
        ("client", "kill"),
        ("cluster", "reset"),
        ("cluster", "forget"),
        ("acl", "deluser"),
    }:
        return DE
    if command in (
        "config",
        "client",
        "slowlog",
        "cluster",
        "memory",
        "acl",
        "latency",
        "module",
        "function",
        "script",
    ):
        read_subs = {
            "get",
            "list",
            "info",
            "getname",
            "id",
            "len",
            "nodes",
            "slots",
            "shards",
            "myid",
            "usage",
            "stats",
            "doctor",
            "whoami",
            "cat",
            "getuser",
            "users",
            "latest",
            "history",
            "exists",
            "keyslot",
            "countkeysinslot",
            "help",
        }
        return RO if sub in read_subs else MU
    return RO if command in rules.REDIS_READ or command == "monitor" else MU
