"""Reading shell text line by line: nesting, open quotes, prompts, output and sessions.

Pure functions on one line (or one command) each; `commands.split_block` uses them
to tell where a command ends, which lines of a transcript are commands, which
lines are output, and which commands open an interactive session whose following
lines run inside it, not on the operator's machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_WORD = re.compile(r"'[^']*'|\"(?:\\.|[^\"\\])*\"|\\.|;;|&&|\|\||[;&|()]|[^\s;&|()'\"\\]+|['\"].*")
"""Shell words, quoted strings and control operators, in order; a quote left open takes
the rest of the line as one word."""
_OPENING_WORDS = frozenset(("for", "while", "until", "if", "case", "select", "{"))
_CLOSING_WORDS = frozenset(("done", "fi", "esac", "}"))
_NESTING_HINT = re.compile(r"\b(?:for|while|until|if|case|select|done|fi|esac)\b|[{}()]")
_KEEPS_COMMAND_POSITION = frozenset(("do", "then", "else", "elif", "!", "{", "time"))
"""After these words the next word is a command again (`then fi`, `do done`)."""


def nesting_change(line: str) -> int:
    """How much deeper a line leaves the shell's compound commands: `for ...; do` +1,
    `done` -1, `for x in a; do echo; done` 0, `if x; then` +1, `f() {` +1."""
    if _NESTING_HINT.search(line) is None:
        return 0  # most lines: no keyword, brace or parenthesis at all
    change = 0
    command_position = True
    words = [match.group() for match in _WORD.finditer(line)]
    for index, word in enumerate(words):
        if word.startswith("#"):
            break  # a comment: the rest of the line is not shell
        if word in (";", ";;", "&&", "||", "|", "&", "(", ")"):
            command_position = True
            continue
        if word == "{" and index == len(words) - 1:
            change += 1  # `name() {`, `function name {`
            command_position = True
            continue
        if command_position:
            if word in _OPENING_WORDS:
                change += 1
            elif word in _CLOSING_WORDS:
                change -= 1
        command_position = word in _KEEPS_COMMAND_POSITION
    stripped = line.strip()
    if stripped.endswith("(") and not stripped.startswith("#"):
        change += 1  # `pods=$(` ... `)`: a substitution or subshell over several lines
    elif stripped.startswith(")"):
        change -= 1
    return change


def open_quote(line: str, quote: str | None = None) -> str | None:
    """The quote character still open at the end of `line` (`quote`: open at its start).

    `curl -d '{` leaves `'` open; the lines up to the closing `'` are the same command.
    An unquoted `#` after a blank starts a comment, whose apostrophes count for nothing.
    """
    if quote is None and "'" not in line and '"' not in line:
        return None
    previous = " "
    escaped = False
    for char in line:
        if escaped:
            escaped = False
        elif quote == "'":
            if char == "'":
                quote = None
        elif char == "\\":
            escaped = True
        elif quote == '"':
            if char == '"':
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and previous in " \t":
            break
        previous = char
    return quote


# -- prompts ----------------------------------------------------------------

_SHELL_PROMPT = re.compile(
    r"""^\s*(?P<prompt>
        (?:\([\w.-]+\)\s)?                           # (venv) before any prompt
        (?:
            \[[^\]\s\[][^\]\n]{0,79}\]\s?[$#%]      # [root@host ~]#  [cluster-1]$ (not `[ -f x ]`)
          | [\w.-]+@[\w.-]+(?::[^\s$#%>]*)?\s?[$#%>] # user@host:~$  root@node:/etc#  me@laptop:~/>
          | (?:ba|z|k|da)?sh-\d+(?:\.\d+)*[$#]       # sh-5.1$  bash-4.4#
          | [\w.-]+:[~/][^\s$#%]*\s?[$#%]            # host:~ #  node1:/var/log$
          | ~[\w/.-]*\s?[$#%]                        # ~/src $
          | PS\s[^>\n]{1,80}>                        # PS C:\>  PS /home/me>
          | [$#%]|->|➜                               # $  #  %  ->  ➜
        )
    )\s+(?P<code>\S.*)$""",
    re.X,
)
_PROSE_END = re.compile(r"[A-Za-z)][.:]$")
_PROMPT_CHARACTERS = re.compile(r"[$#%>➜]")
_BARE = frozenset(("$", "#", "%", "->", "➜"))
_AMBIGUOUS = frozenset(("#", "%", "->", "➜"))
"""Prompts that are also comments, progress output or arrows: read as prompts only before
a program (`# dnf install gdb`, `-> kubectl get pod`), never before prose (`# Restart it`)."""
PROMPT_PROGRAMS = frozenset(
    """kubectl oc docker docker-compose podman make curl wget helm systemctl journalctl git npm
    yarn pnpm node python python3 pip pip3 bash sh zsh ssh scp rsync aws gcloud az terraform
    kustomize etcdctl amtool promtool redis-cli psql mysql ps top df du free tail cat grep ls
    ping dig nslookup openssl service kill pkill rm cp mv mkdir chmod chown sudo su tar gzip jq
    yq awk sed find env export echo ip ss netstat lsof vmstat iostat dmesg uptime htop nc telnet
    crictl ctr nerdctl virsh ansible ansible-playbook vault consul nomad mongo mongosh go cargo
    java kubeadm kubelet minikube kind k9s stern argocd flux istioctl linkerd velero pg_dump
    pg_restore mysqldump uname hostname date watch timeout xargs tee head less more sort uniq wc
    cut tr cd pwd whoami id dnf yum apt apt-get rpm dpkg mount umount lsblk blkid fdisk mkfs
    chroot nsenter iptables nft tcpdump strace gdb ceph rbd rados rook cephadm time touch ln
    exit source export unset alias which type file stat sysctl modprobe lsmod reboot shutdown
    history clear gpg gpg2 rados radosgw-admin nvme multipath iscsiadm fio dd sync perf gcore
    lsscsi fsck e2fsck fsck.ext4 fsck.xfs xfs_repair etcdutl cmctl cosign dmsetup blkdiscard
    partprobe sgdisk wipefs""".split()
) | frozenset(("k", "kl", "kc"))
ALIASES = {"k": "kubectl", "kl": "kubectl", "kc": "kubectl", "kubectl.exe": "kubectl"}
"""Shell aliases runbooks use for a program (`alias k=kubectl`; `kl` in Longhorn's, for
`kubectl -n longhorn-system`): a line starting with one is read as that program's."""


def unaliased(word: str) -> str:
    """The program an alias stands for (`k` -> `kubectl`), else the word as it is."""
    return ALIASES.get(word, word)


def read_prompt(line: str, *, root: bool = True) -> tuple[str, str] | None:
    """(prompt, command) when `line` is a command after a shell prompt, else None.

    `$ ` and prompts naming a user, host, cluster or directory (`user@host:~$ `,
    `[cluster-1]$ `, `sh-5.1# `, `PS C:\\> `) are always prompts; `# `, `% `, `-> `
    only before a known program, and `# ` only when `root` (in a transcript, where
    it is a root prompt rather than a comment). Another program's prompt
    (`mysql> `, `(gdb) `, `postgres=# `, `gpg/card> `) is not a shell prompt.
    """
    if not _PROMPT_CHARACTERS.search(line):
        return None
    match = _SHELL_PROMPT.match(line)
    if match is None:
        return None
    prompt, code = match.group("prompt"), match.group("code")
    bare = prompt.split(")")[-1].strip() if prompt.startswith("(") else prompt
    if bare in _AMBIGUOUS:
        if bare == "#" and not root:
            return None
        words = code.split()
        program = words[1] if words[0] == "sudo" and len(words) > 1 else words[0]
        if program not in PROMPT_PROGRAMS and not program.startswith(("./", "/")):
            return None
        if _PROSE_END.search(code):
            return None  # `# find the pod and delete it.`: a sentence, not a command
    return prompt, code.rstrip()


def prompt_context(prompt: str) -> str | None:
    """Where a prompt says the command runs (`[cluster-1]`, `root@node1:~`), None if bare."""
    words = prompt.strip()
    if words in _BARE:
        return None
    if words.startswith("PS "):
        return words
    context = words.rstrip("$#%>").rstrip()
    return context or None


# -- lines that are not shell -------------------------------------------------

_OUTPUT_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "a log line",
        re.compile(
            r"""^\s*(?:
                [IWEF]\d{4}\s+\d\d:\d\d:\d\d                   # klog: E0219 01:25:20.123
              | \[?\d{4}[-/]\d\d[-/]\d\d(?:[T\s]\d\d:\d\d)?    # ISO or 2024/01/02 dates
              | [\w./-]+\.(?:go|py|java|rs|c|cc|js|ts):\d+\]   # update.go:2641]
              | \[\s*\d+\.\d+\]                                # dmesg [51717.039319]
              | (?:time|level|ts|msg)=                         # logfmt
              | [A-Z][a-z]{2}\s+\d{1,2}\s+\d\d:\d\d:\d\d       # syslog: Feb 19 01:25:20
              | \d\d:\d\d:\d\d(?:[.,]\d+)?\s                   # 01:25:20.123 message
              | (?:INFO|WARN|WARNING|ERROR|DEBUG|FATAL|TRACE)[\s:\]]
            )""",
            re.X,
        ),
    ),
    (
        "PromQL",
        re.compile(
            r"""^\s*(?:
                (?:histogram_quantile|sum|avg|max|min|count|rate|irate|increase|topk|bottomk
                  |absent|delta|deriv|predict_linear|quantile|stddev|label_replace|label_join
                  |count_over_time|avg_over_time|max_over_time|min_over_time|sum_over_time
                  |quantile_over_time|clamp_min|clamp_max|round|ceil|floor|abs)
                \s*(?:\(|\b(?:by|without)\s*\()
              | [a-zA-Z_:][\w:]*\{[^}\n]*\}(?:\[\d+[smhdwy]\])?(?:\s*(?:[<>=!]=?|[-+*/])|\s*$)
              | [a-zA-Z_:][\w:]*\[\d+[smhdwy]\]
            )""",
            re.X,
        ),
    ),
    ("elided output", re.compile(r"^\s*(?:\.{3}|…)")),
    ("JSON", re.compile(r'^\s*(?:[{}\[\]],?\s*$|\{\s*"|"[^"\n]+"\s*:)')),
    (
        "YAML",
        re.compile(
            r"^\s*(?:---\s*$|(?:-\s+)?[A-Za-z_][\w./-]*:(?:\s+[^\s=]|\s*$)(?!.*(?:&&|\|\|)))"
        ),
    ),
    (
        "SQL",
        re.compile(
            r"""^\s*(?:
                (?:SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|GRANT|REVOKE|SHOW|DESCRIBE
                  |EXPLAIN|BEGIN|COMMIT|ROLLBACK|VACUUM|ANALYZE|TRUNCATE|WITH|REINDEX|CHECKPOINT)\b
              | (?:select|insert|update|delete|create|drop|alter|show|explain|vacuum)\s.*;\s*$
              | \\[a-z]{1,4}(?:\+|\s|$)                           # psql: \dt  \c db  \l
            )""",
            re.X,
        ),
    ),
    (
        "another program's prompt",
        re.compile(
            r"""^\s*(?:
                \((?:gdb|pprof|pdb|lldb|Pdb)\)                   # (gdb) bt
              | [\w.-]+[=\-]?[#>]\s                              # postgres=#  mysql>  redis>
              | [\w./-]+>\s                                      # gpg/card> admin
              | [\d.]+:\d+>                                      # 127.0.0.1:6379>
              | >>>\s|\.\.\.\s                                   # python
              | \w+\s?\[\d+\]\s?(?:>|pry)                        # irb(main):001>
            )""",
            re.X,
        ),
    ),
    (
        "a table",
        re.compile(
            r"""^\s*(?:
                \+[-=+]*-[-=+]*\|?\s*$                          # +-------+------+
              | \|.*\|\s*$                                      # | HASH | REVISION |
              | [^\s=#]+(?:\ [^\s#]+)*(?:\ {3,}[^\s#]+(?:\ [^\s#]+)*){2,}\s*$
                                                            # CONTAINER ID   IMAGE   COMMAND
            )""",
            re.X,
        ),
    ),
    (
        "an option's description",  # `--cluster[=false]: use all…`, `-w, --write-out string  set…`
        re.compile(r"^\s*--?[A-Za-z][\w-]*(?:\[=[^\]]*\]|=\S*?)?[,:]\s"),
    ),
    ("a URL", re.compile(r"^\s*[a-z][\w+.-]*://\S+\s*$")),
    ("a key", re.compile(r"^\s*[\w.-]+/[0-9a-f]{12,}\s*$")),  # my-election/694d99fafea88404
    (
        "prose",
        re.compile(
            r"""^\s*(?:
                # Snapshot saved at my.db
                [A-Z][a-z]+\ [a-z]+\ [a-z][\w.,'-]*(?:\ [\w.,'"-]+)*[.:!]?\s*$
              | [A-Za-z][a-z]*(?:\ [a-z]+)*:\s*$                   # another election:
              | [a-z]+(?:\ [a-z]+)*,\ .*                           # wrong fs type, bad option, …
              | (?:[^>|]*\ >\ ){2,}[^>|]*$                          # A > B > C: an order, not files
              | \d[\d.]*(?::\d+)?\ [a-z].*                          # 10.0.0.17:2379 is healthy
            )""",
            re.X,
        ),
    ),
    ("key=value output", re.compile(r"^\s*[A-Za-z_]\w*[-.][\w.-]*=")),
)
_SYNOPSIS = re.compile(r"\s\((?:-{1,2}|<)[^()]*\|[^()]*\)(?:\s|$)")
"""`etcdctl endpoint status (--endpoints=$ENDPOINTS|--cluster)`: a usage line, a shell syntax
error if run."""


def output_kind(line: str) -> str | None:
    """What a line is when it is not shell (a log line, PromQL, JSON, YAML, SQL, another
    program's prompt), else None. Blank lines, comments and commands give None."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if "(" in stripped and _SYNOPSIS.search(stripped):
        return "a usage synopsis"
    first = stripped.split(None, 1)[0]
    if first in PROMPT_PROGRAMS or first.startswith(("./", "$", "/")):
        return None  # a program first: shell, whatever follows (`kubectl ... rate(x[5m])`)
    for kind, pattern in _OUTPUT_KINDS:
        if pattern.match(line):
            return kind
    return None


# -- interactive sessions -----------------------------------------------------

SESSION_EXITS = frozenset(
    ("exit", "logout", "quit", "exit;", "quit;", "\\q", "\\quit", ".exit", "\\exit")
)
"""Lines that leave an interactive session."""
_SHELLS = frozenset(
    "sh bash zsh ash dash ksh fish /bin/sh /bin/bash /bin/zsh /bin/ash /usr/bin/bash".split()
)
SHELLS = _SHELLS
"""Shell programs: `bash`, `/bin/sh` …"""
_SESSION_PROGRAMS = _SHELLS | frozenset(
    """sudo oc kubectl docker podman nerdctl crictl ssh psql mysql redis-cli mongo mongosh
    sqlite3 chroot su gdb lldb python python3 toolbox nsenter go gpg gpg2 telnet virsh""".split()
)
"""The programs `session_opener` looks at further; any other first word opens no session."""


def _trie(words: Iterable[str]) -> str:
    """A regex matching any of `words`, one character at a time (`g(?:it|pg2?)`): the
    regex engine tries alternatives in turn, and a list of 200 programs took it 200 tries
    a line."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        branches = [
            re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char
        ]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        return f"(?:{'|'.join(branches)})" + ("?" if "" in node else "")

    return pattern(tree)


_PLAIN_PROGRAMS = PROMPT_PROGRAMS - _SESSION_PROGRAMS - ALIASES.keys() - {"time"}
"""Programs whose line `split_block` may take as it is (`time` puts a command after it)."""
_PLAIN_LINE = rf"[ \t]*{_trie(_PLAIN_PROGRAMS)}[ \t]+[^\s(){{}}'\"\\<#;&|][^(){{}}'\"\\<#;&|\n]*"
PLAIN_COMMAND = re.compile(_PLAIN_LINE)
"""A line `split_block` needs to look at no further (`echo line 1`, `kubectl get pod -A`):
a known program that opens no session, then no quote, brace, parenthesis, backslash, `<`,
`#`, `;`, `&` or `|` (so no word after the program is in command position, and no
`for`/`done` there nests anything). Such a line is a command of the group it is in: the
long way round reads it the same (see the corpus test), only slower. Matched with
`fullmatch`."""
PLAIN_RUN = re.compile(rf"(?:{_PLAIN_LINE}(?:\n|\Z))++")
"""Consecutive `PLAIN_COMMAND` lines, each with its line break (the last may have none):
taken in one match from where one is found. Possessive (`++`): nothing follows the run, so
no line of it is ever given back, and the engine keeps no state to give it back with (a
100,000-line run matched in 10 ms instead of 34)."""


def may_hold_prompt(text: str) -> bool:
    """Whether any line of `text` may be prompted (`$ `, `# `, `% `, `> `, `➜ `)."""
    return _PROMPT_CHARACTERS.search(text) is not None


FOREIGN_PROMPTED = re.compile(
    r"^\s*(?:\((?:gdb|pprof|pdb|Pdb|lldb)\)|[\w./-]+[=\-]?[#>]|[\d.]+:\d+>|>>>)\s+(?=\S)"
)
_OPTIONS_WITH_VALUES = {
    "ssh": frozenset("-p -i -l -o -F -J -L -R -D -b -c -E -e -I -m -O -Q -S -W -w -B".split()),
    "redis-cli": frozenset("-h -p -a -n -s -u -r -i -d --user --pass --tls --cacert".split()),
    "rsh": frozenset("-c -n --container --namespace --shell --timeout".split()),
    "kubectl": frozenset(
        "-n --namespace -c --container --context --kubeconfig --cluster --user -s --server "
        "--as --image -l --selector --profile --target --request-timeout".split()
    ),
    "sqlite3": frozenset("-cmd -separator -newline -nullvalue".split()),
}


_PLACEHOLDER = re.compile(r"<[A-Za-z](?:[\w.:/-]| (?=\w))*>")
"""`<pod>`, `<pid of the process>`: a value to fill, not a redirection."""
_SUBSTITUTION = re.compile(r"\$\([^()]*\)|`[^`]*`")


def strip_foreign_prompt(line: str) -> str:
    """`postgres=# SELECT 1;` -> `SELECT 1;`: the line as typed into the other program."""
    return FOREIGN_PROMPTED.sub("", line, count=1).strip()


def _positionals(words: list[str], with_values: frozenset[str]) -> list[str]:
    found: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in with_values
        else:
            found.append(word)
    return found


def session_opener(code: str) -> bool:
    """Whether a one-line command opens an interactive session the following lines are typed
    into: `oc debug node/x`, `kubectl exec -it pod -- sh`, `oc rsh pod`, `ssh host`,
    `docker exec -it c sh`, `psql`, `mysql`, `redis-cli`, `chroot /host`, `sudo -i` …

    A command given its input (`| psql`, `psql -c`, `ssh host uptime`, `<<EOF`) is no session.
    """
    words = code.split()
    if not words or unaliased(words[0]) not in _SESSION_PROGRAMS:
        return False
    # A `<pod>` to fill is no redirection, and a pipe inside `$(...)` feeds no session.
    bare = _SUBSTITUTION.sub("x", _PLACEHOLDER.sub("x", code))
    if "|" in bare or "<" in bare or ";" in bare or "&&" in bare:
        return False
    words = bare.split()
    words[0] = unaliased(words[0])
    if words[:1] == ["sudo"]:
        rest = words[1:]
        if rest in (["-i"], ["-s"], ["su"], ["su", "-"], ["-iu", "root"]) or rest[:1] == ["su"]:
            return True
        while rest and rest[0].startswith("-"):
            rest = rest[2:] if rest[0] in ("-u", "-g") else rest[1:]
        words = rest
    if not words:
        return False
    program, args = unaliased(words[0]), words[1:]
    if program in _SHELLS:
        return not args or args in (["-l"], ["-i"])
    if program in ("oc", "kubectl") and args:
        return _cluster_session(args)
    if program in ("docker", "podman", "nerdctl", "crictl") and args[:1] in (["exec"], ["run"]):
        interactive = any(w in ("-it", "-ti", "-i", "--interactive") for w in args)
        command = args[args.index("--") + 1 :] if "--" in args else args[-1:]
        return interactive and _opens_shell(command)
    if program == "ssh":
        return len(_positionals(args, _OPTIONS_WITH_VALUES["ssh"])) == 1
    if program == "psql":
        return not any(w.startswith(("-c", "--command", "-f", "--file", "-l")) for w in args)
    if program == "mysql":
        return not any(w.startswith(("-e", "--execute")) for w in args)
    if program == "redis-cli":
        return not _positionals(args, _OPTIONS_WITH_VALUES["redis-cli"])
    if program in ("mongo", "mongosh"):
        return not any(w.startswith("--eval") or w.endswith(".js") for w in args)
    if program == "sqlite3":
        return len(_positionals(args, _OPTIONS_WITH_VALUES["sqlite3"])) <= 1
    if program == "chroot":
        return len([w for w in args if not w.startswith("-")]) == 1
    if program == "su":
        return len([w for w in args if w != "-" and not w.startswith("-")]) <= 1
    if program in ("gdb", "lldb"):
        return not any(w in ("-batch", "--batch", "-ex", "--ex") for w in args)
    if program in ("python", "python3") or program in ("toolbox", "nsenter"):
        return not args or program in ("toolbox",) or args[-1] in ("-a", "--all")
    if program == "go" and args[:2] == ["tool", "pprof"]:
        return not any(
            w.lstrip("-").split("=")[0] in ("top", "text", "png", "svg", "pdf", "http", "web",
                                           "list", "raw", "output", "o", "traces", "tree")
            for w in args[2:]
            if w.startswith("-")
        )  # fmt: skip
    if program in ("gpg", "gpg2"):
        return any(w in ("--card-edit", "--edit-key", "--edit-card") for w in args)
    return program in ("telnet", "virsh") and (program == "telnet" or args[:1] == ["console"])


def _cluster_session(args: list[str]) -> bool:
    """`oc`/`kubectl` opening a shell: debug, rsh, attach, or exec/run with a terminal."""
    positionals = _positionals(args, _OPTIONS_WITH_VALUES["kubectl"])
    verb = next(iter(positionals), "")
    if "--" in args:
        command = args[args.index("--") + 1 :]
    else:
        # The old form, `kubectl exec -it pod bash`: the words after the pod are its command.
        command = positionals[2:] if verb == "exec" else []
    if verb == "rsh":
        after = args[args.index("rsh") + 1 :]
        return len(_positionals(after, _OPTIONS_WITH_VALUES["rsh"])) <= 1
    if verb == "debug":
        return not command or _opens_shell(command)
    if verb == "exec" and "--" not in args and len(positionals) <= 2:
        # `kubectl exec -c etcdctl POD`, no command: kubectl refuses it; the runbook
        # means "exec into the container" (it then types the container's commands).
        return True
    if verb in ("exec", "run", "attach"):
        tty = any(w in ("-it", "-ti", "-i", "--stdin", "-t", "--tty") for w in args)
        if verb == "attach" or (verb == "run" and not command):
            return tty  # `kubectl run -it --rm x --image=busybox`: the image's shell
        return tty and _opens_shell(command)
    return False


def _opens_shell(command: list[str]) -> bool:
    """Whether the command a container or pod is given (after `--`) is a shell or a session."""
    return bool(command) and (command[0] in _SHELLS or session_opener(" ".join(command)))
