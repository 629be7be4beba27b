"""Programs whose risk depends on more than a table: a script (sed, awk, SQL), an HTTP method,
a subcommand with a remote command (`ssh`, `kubectl exec`, `knife ssh`), a git push's refspec.

Each handler takes the classifying context, the program's name, its argument words and
whether more arguments come at run time (xargs), and returns the risk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from runbook.execution import risk_rules as rules
from runbook.execution.risk_rules import DE, MU, RO
from runbook.execution.shell_words import SAFE_TARGETS, Word
from runbook.model import RISK_ORDER, Risk

if TYPE_CHECKING:
    from runbook.execution.risk import Context

Handler = Callable[["Context", str, list[Word], bool], Risk]
HANDLERS: dict[str, Handler] = {}


def _riskiest(risks: Sequence[Risk]) -> Risk:
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
    return _riskiest(flags) if flags else None


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


@handles("kubectl", "oc", "k")
def _kube(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    values = _values(rules.KUBE_VALUES)
    pos = positionals(texts, values)
    if pos[:1] == ["replace"] and "--force" in texts:
        return DE  # deletes, then creates
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
    return _riskiest([*risks, context.code(" ".join(rest[1:]))])


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
            return _riskiest([*risks, MU])
        index += 1
    return _riskiest(risks)


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
        return _riskiest(risks)  # GNU sed refuses e, w and r in its sandbox
    scripts_risk = [MU if context.code_chosen(s) else sed_script(s.text) for s in scripts]
    return _riskiest([*risks, *scripts_risk])


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
    return _riskiest(risks)


_CURL_VALUES = set("deEFHKmorTuUwxXyYzbcCDAQtP".replace("", " ").split())
_CURL_LONG_VALUES = set(
    """--header --user --data --data-raw --data-binary --data-urlencode --data-ascii --url
    --output --max-time --connect-timeout --retry --retry-delay --retry-max-time --cacert --cert
    --key --proxy --resolve --write-out --user-agent --referer --cookie --cookie-jar --request
    --upload-file --form --form-string --config --interface --dns-servers --unix-socket
    --connect-to --max-filesize --limit-rate --range --json --aws-sigv4 --oauth2-bearer --noproxy
    --capath --max-redirs --dump-header --trace --trace-ascii --stderr --output-dir --libcurl
    --etag-save --etag-compare --hsts --alt-svc --quote --mail-from --mail-rcpt --cert-type
    --key-type --pass --proto --proto-redir --request-target --expect100-timeout
    --keepalive-time --happy-eyeballs-timeout-ms --variable --url-query --speed-limit
    --speed-time --local-port --ciphers --tls-max --pinnedpubkey --socks5 --socks5-hostname
    --proxy-user --netrc-file""".split()
)
_CURL_READ_LONG = set(
    """--fail --silent --show-error --location --insecure --include --head --verbose
    --compressed --http1.0 --http1.1 --http2 --http2-prior-knowledge --http3 --ipv4 --ipv6
    --no-buffer --fail-with-body --globoff --get --raw --no-keepalive --tlsv1 --tlsv1.2
    --tlsv1.3 --path-as-is --retry-connrefused --retry-all-errors --no-progress-meter
    --progress-bar --trace-time --location-trusted --digest --basic --negotiate --ntlm
    --anyauth --ssl-reqd --tcp-nodelay --styled-output --no-styled-output --fail-early
    --disable --netrc --netrc-optional --no-sessionid --no-alpn --no-npn --ssl
    --compressed-ssh --false-start --tr-encoding --show-headers --no-show-error""".split()
)
_CURL_WRITES = set(
    """-o --output -O --remote-name --remote-name-all -J --remote-header-name --output-dir -D
    --dump-header -c --cookie-jar --trace --trace-ascii --stderr -K --config --libcurl
    --etag-save --hsts --alt-svc -Q --quote --mail-from --mail-rcpt --create-dirs""".split()
)
_CURL_SENDS = set(
    """-d --data --data-raw --data-binary --data-urlencode --data-ascii -F --form --form-string
    --json -T --upload-file""".split()
)


@handles("curl")
def _curl(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    if extra:
        return MU
    items: list[tuple[str, str | None]] = []
    positional: list[str] = []
    index = 0
    texts = [a.text for a in args]
    while index < len(texts):
        text = texts[index]
        if context.injectable(args[index]):
            return MU
        if text.startswith("--"):
            name, equals, value = text.partition("=")
            if name in _CURL_LONG_VALUES:
                if not equals:
                    index += 1
                    value = texts[index] if index < len(texts) else ""
                items.append((name, value))
            else:
                items.append((name, None))
        elif text.startswith("-") and len(text) > 1:
            for position in range(1, len(text)):
                letter = "-" + text[position]
                if text[position] in _CURL_VALUES:
                    value = text[position + 1 :]
                    if not value:
                        index += 1
                        value = texts[index] if index < len(texts) else ""
                    items.append((letter, value))
                    break
                items.append((letter, None))
        else:
            positional.append(text)
        index += 1
    names = {name for name, _ in items}
    risks: list[Risk] = [RO]
    getting = "-G" in names or "--get" in names
    for option, given in items:
        if option in _CURL_WRITES:
            if given is None or given not in SAFE_TARGETS:
                risks.append(MU)
        elif option in _CURL_SENDS:
            risks.append(
                RO if getting and option not in ("-T", "--upload-file", "-F", "--form") else MU
            )
        elif option in ("-X", "--request"):
            method = (given or "").upper()
            risks.append(
                DE if method == "DELETE" else RO if method in ("GET", "HEAD", "OPTIONS") else MU
            )
        elif option in ("-w", "--write-out"):
            risks.append(MU if given and "%output{" in given else RO)
        elif (
            given is None
            and option not in _CURL_READ_LONG
            and not re.fullmatch(r"-[fsSLkivIGNnRqZ0123467:#aBgjlMp]", option)
        ):
            risks.append(MU)
    for url in positional:
        scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
        if scheme and scheme.group(1).lower() not in ("http", "https", "file", "ftp", "ftps"):
            risks.append(MU)
    return _riskiest(risks)


@handles("wget")
def _wget(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    if extra:
        return MU
    texts = [a.text for a in args]
    risks: list[Risk] = [RO]
    stdout = "--spider" in texts
    index = 0
    while index < len(texts):
        text = texts[index]
        name, equals, value = text.partition("=")
        cluster = re.fullmatch(r"-[qnvS]*O(.*)", text)
        if text == "--output-document" or cluster:
            value = cluster.group(1) if cluster else ""
            if not value:  # -O FILE, -qO FILE, --output-document FILE
                index += 1
                value = texts[index] if index < len(texts) else ""
            stdout = value in SAFE_TARGETS
            if not stdout:
                risks.append(MU)
        elif name == "--output-document":
            stdout = value in SAFE_TARGETS
            risks.append(RO if stdout else MU)
        elif name in ("--post-data", "--post-file", "--body-data", "--body-file"):
            risks.append(MU)
        elif name == "--method":
            risks.append(
                DE if value.upper() == "DELETE" else RO if value.upper() in ("GET", "HEAD") else MU
            )
        elif text in (
            "-q",
            "--quiet",
            "-S",
            "--server-response",
            "--spider",
            "-nv",
            "--no-verbose",
            "--no-check-certificate",
            "-4",
            "-6",
            "--inet4-only",
        ) or name in (
            "--timeout",
            "--tries",
            "--header",
            "--user-agent",
            "--user",
            "--password",
            "--max-redirect",
        ):
            pass
        elif text in ("-T", "-t", "-U"):
            index += 1
        elif text.startswith("-"):
            risks.append(MU)
        index += 1
    return _riskiest(risks) if stdout else _riskiest([*risks, MU])


@handles("http", "https", "xh", "xhs")
def _httpie(context: Context, program: str, args: list[Word], extra: bool) -> Risk:
    texts = [a.text for a in args]
    risks: list[Risk] = [RO]
    operands = []
    index = 0
    while index < len(texts):
        text = texts[index]
        if text in ("-o", "--output", "-d", "--download", "--session") or text.startswith(
            ("--output=", "--session=")
        ):
            risks.append(MU)
        if text in (
            "-a",
            "--auth",
            "-A",
            "--auth-type",
            "--timeout",
            "--verify",
            "--cert",
            "--cert-key",
            "-p",
            "--print",
            "--pretty",
            "--style",
            "--proxy",
            "-o",
            "--output",
            "--session",
            "--session-read-only",
        ):
            index += 2
            continue
        if not text.startswith("-"):
            operands.append(text)
        index += 1
    if extra:
        return MU
    method = ""
    if operands and re.fullmatch(r"[A-Za-z]+", operands[0]) and len(operands) > 1:
        method, operands = operands[0].upper(), operands[1:]
    data = [o for o in operands[1:] if re.search(r"(?<![=:])(:=|=|@)", o) and "==" not in o]
    method = method or ("POST" if data else "GET")
    risks.append(DE if method == "DELETE" else RO if method in ("GET", "HEAD", "OPTIONS") else MU)
    return _riskiest(risks)


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
        return _riskiest([*risks, MU if "--lost-found" in flags else RO])
    short = "".join(t[1:] for t in flags if not t.startswith("--"))
    if sub == "push":
        if "-n" in flags or "--dry-run" in flags:
            return _riskiest(risks)
        forced = any(t.startswith(("--force", "--delete", "--mirror", "--prune")) for t in flags)
        forced |= "f" in short or "d" in short
        forced |= any(o.startswith(("+", ":")) for o in operands)
        return _riskiest([*risks, DE if forced else MU])
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
        return _riskiest([*risks, RO if listing and not renaming else MU])
    if sub == "tag":
        if "d" in short or "--delete" in flags:
            return DE
        return _riskiest([*risks, RO if not operands or "l" in short or "--list" in flags else MU])
    if sub == "remote":
        if operands[:1] in (["remove"], ["rm"]):
            return DE
        return _riskiest([*risks, RO if not operands or operands[0] in ("show", "get-url") else MU])
    if sub == "stash":
        if operands[:1] in (["drop"], ["clear"]):
            return DE
        return _riskiest([*risks, RO if operands[:1] in (["list"], ["show"]) else MU])
    if sub == "config":
        reads = any(f.startswith(("--get", "--list", "-l", "--show")) for f in flags)
        writes = any(
            f.startswith(("--unset", "--add", "--replace", "--rename", "--remove", "-e", "--edit"))
            for f in flags
        )
        return _riskiest([*risks, RO if (reads or len(operands) == 1) and not writes else MU])
    if sub == "reflog":
        if operands[:1] in (["expire"], ["delete"]):
            return DE
        return _riskiest([*risks, RO if not operands or operands[0] == "show" else MU])
    if sub == "clean":
        return _riskiest([*risks, RO if "n" in short or "--dry-run" in flags else DE])
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
    return _riskiest([*risks, MU])


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
    return _riskiest(risks)


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
                RO if re.fullmatch(r"\\(d\w*|l\+?|x|dt\+?|conninfo|timing|pset|a|t)", first) else MU
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
    return _riskiest(risks)


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
    return _riskiest([MU] if dynamic else [sql_risk(s) for s in scripts])


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
