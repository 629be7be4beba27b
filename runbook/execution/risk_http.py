"""HTTP clients: curl, wget and httpie, by method, data sent and files written.

Read-only only for a GET (or HEAD, OPTIONS) whose body goes to stdout or /dev/null.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from runbook.execution.risk_cli import handles, worst
from runbook.execution.risk_rules import DE, MU, RO
from runbook.execution.shell_words import SAFE_TARGETS, Word
from runbook.model import Risk

if TYPE_CHECKING:
    from runbook.execution.risk import Context

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
    return worst(risks)


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
    return worst(risks) if stdout else worst([*risks, MU])


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
    return worst(risks)
