"""Shell code read as the risk rules need it: simple commands, their words, what they write.

Not a shell: enough of bash's grammar to see every command that would run.
Command substitution (`$(...)`, backticks, `<(...)`, `>(...)`, in any quoting
but single quotes), `${...}` and `$((...))` give their inner code back as
separate code to classify; heredoc bodies are data, but an unquoted one's
substitutions are code. A `<name>` placeholder is a value to fill, never a
redirection (the same pattern `runbook.document.commands` reads as a variable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z0-9_.-]*>")
"""As `commands._PLACEHOLDER`: not after `<` or a word character."""
SUBSTITUTED = "\x01"
"""What a command substitution's output stands as in a word's text."""
SAFE_TARGETS = frozenset(("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "-"))
_SPACED_PLACEHOLDER = re.compile(r"<[A-Za-z][\w.-]*(?: [\w.-]+)+>(?=[ \t]*(?:$|\n|;))", re.M)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL = frozenset("@*#?-$!0123456789")
_OPERATORS = ("&&", "||", ";;&", ";;", ";&", "|&", ";", "&", "|", "\n")


@dataclass
class Word:
    text: str = ""
    """The word as the program sees it, quotes removed (expansions left as written)."""
    expansions: list[str] = field(default_factory=list)
    """Names of the parameters expanded in it (`@` for `$@`, `$(` for a substitution)."""
    leading_expansion: bool = False
    """The word starts with an expansion: its first characters are not known here."""
    quoted: bool = False
    quoted_from: int = -1
    """Where in `text` the first quoted or escaped part starts (-1: none is)."""

    def mark_quoted(self) -> None:
        if not self.quoted:
            self.quoted = True
            self.quoted_from = len(self.text)

    @property
    def dynamic(self) -> bool:
        return bool(self.expansions)


@dataclass
class Simple:
    words: list[Word] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    """Files a redirection writes (`>`, `>>`, `&>`, `<>`, `>&file`), /dev/null left out."""
    reads: list[str] = field(default_factory=list)
    """Files a `<` redirection reads."""
    stdin_data: bool = False
    """Fed by a heredoc or here-string."""


@dataclass
class Lexed:
    commands: list[Simple] = field(default_factory=list)
    inner: list[str] = field(default_factory=list)
    """Code run by substitutions, in any order."""
    assigned: set[str] = field(default_factory=set)
    """Variables the code itself assigns: their values are the code's, not the operator's."""
    unsafe: set[str] = field(default_factory=set)
    """Of those, the ones whose value may start with `-` or is not known before it runs
    (read, for, a substitution)."""
    unbalanced: bool = False


class _Lexer:
    def __init__(self, code: str) -> None:
        self.code = code
        self.i = 0
        self.out = Lexed()
        self.command = Simple()
        self.word: Word | None = None
        self.heredocs: list[tuple[str, bool, bool]] = []
        """Pending (delimiter, strip tabs, expands) to read at the next newline."""

    # words and commands -------------------------------------------------------------
    def _w(self) -> Word:
        if self.word is None:
            self.word = Word()
        return self.word

    def end_word(self) -> None:
        if self.word is not None:
            self.command.words.append(self.word)
            self.word = None

    def end_command(self) -> None:
        self.end_word()
        if self.command.words or self.command.writes:
            self.out.commands.append(self.command)
        self.command = Simple()

    def expansion(self, name: str) -> None:
        word = self._w()
        if not word.text and not word.expansions:
            word.leading_expansion = True
        word.expansions.append(name)

    # the scan -------------------------------------------------------------------------
    def run(self) -> Lexed:
        code, n = self.code, len(self.code)
        while self.i < n:
            char = code[self.i]
            if char in " \t\r":
                self.end_word()
                self.i += 1
            elif char == "\n":
                self.end_command()
                self.i += 1
                if self.heredocs:
                    self.read_heredocs()
            elif char == "#" and self.word is None:
                end = code.find("\n", self.i)
                self.i = n if end < 0 else end
            elif char == "\\":
                if self.code.startswith("\\\n", self.i):
                    self.i += 2
                    continue
                self._w().mark_quoted()
                self._w().text += code[self.i + 1 : self.i + 2]
                self.i += 2
            elif char == "'":
                end = code.find("'", self.i + 1)
                if end < 0:
                    self.out.unbalanced = True
                    end = n
                self._w().mark_quoted()
                self._w().text += code[self.i + 1 : end]
                self.i = end + 1
            elif char == '"':
                self.double_quoted()
            elif char == "`":
                self.backtick()
            elif char == "$":
                self.dollar()
            elif char in "<>" and self.redirection():
                continue
            elif char == "(" and self.word is not None and self.word.text.endswith("="):
                end = self.matching(self.i + 1, "(", ")")
                self.lex_inner(code[self.i + 1 : end], words_only=True)
                self.word.text += code[self.i : end + 1]
                self.i = end + 1
            elif char in ";&|()\n":
                self.operator()
            elif char in "{}!" and self.word is None and self._reserved_here(char):
                self.end_command()
                self.i += 1
            else:
                start = self.i
                while self.i < n and code[self.i] not in " \t\r\n;&|()<>'\"\\`$":
                    self.i += 1
                self._w().text += code[start : self.i]
        self.end_command()
        return self.out

    def _reserved_here(self, char: str) -> bool:
        """`!` alone at a command's start is grammar; so is a lone `{` or `}` anywhere
        (`function f { ...; }`): taken as a command boundary, which at worst splits an
        `echo {` into two commands, the second unknown, so riskier, never less."""
        after = self.code[self.i + 1 : self.i + 2]
        alone = after == "" or after in " \t\n;"
        return alone and (char != "!" or not self.command.words)

    def operator(self) -> None:
        self.end_command()
        for op in _OPERATORS:
            if self.code.startswith(op, self.i):
                self.i += len(op)
                return
        self.i += 1  # ( or )

    def double_quoted(self) -> None:
        code, n = self.code, len(self.code)
        word = self._w()
        word.mark_quoted()
        self.i += 1
        while self.i < n and code[self.i] != '"':
            char = code[self.i]
            if char == "\\" and self.i + 1 < n:
                following = code[self.i + 1]
                if following == "\n":
                    pass
                elif following in '"\\$`':
                    word.text += following
                else:
                    word.text += char + following
                self.i += 2
            elif char == "`":
                self.backtick()
            elif char == "$":
                self.dollar(in_quotes=True)
            else:
                word.text += char
                self.i += 1
        if self.i >= n:
            self.out.unbalanced = True
        self.i += 1

    def backtick(self) -> None:
        code, n = self.code, len(self.code)
        start = self.i + 1
        self.i = start
        inner = []
        while self.i < n and code[self.i] != "`":
            if code[self.i] == "\\" and self.i + 1 < n:
                following = code[self.i + 1]
                inner.append(following if following in "`\\$" else "\\" + following)
                self.i += 2
            else:
                inner.append(code[self.i])
                self.i += 1
        if self.i >= n:
            self.out.unbalanced = True
        self.i += 1
        self.out.inner.append("".join(inner))
        self.expansion("$(")
        self._w().text += SUBSTITUTED

    def dollar(self, in_quotes: bool = False) -> None:
        code = self.code
        nxt = code[self.i + 1 : self.i + 2]
        if code.startswith("$((", self.i):
            end = self.matching(self.i + 2, "(", ")")
            self.substitutions_in(code[self.i + 3 : end])
            self.expansion("$((")
            self._w().text += "0"
            self.i = min(end + 2, len(code))
        elif nxt == "(":
            end = self.matching(self.i + 2, "(", ")")
            self.out.inner.append(code[self.i + 2 : end])
            self.expansion("$(")
            self._w().text += SUBSTITUTED
            self.i = end + 1
        elif nxt == "{":
            end = self.matching(self.i + 2, "{", "}")
            body = code[self.i + 2 : end]
            self.substitutions_in(body)
            name = _NAME.match(body.lstrip("!#"))
            self.expansion(name.group(0) if name else body[:1] or "?")
            self._w().text += code[self.i : end + 1]
            self.i = end + 1
        elif nxt == "'" and not in_quotes:  # $'...' ANSI-C quoting: literal text
            end = self.i + 2
            while end < len(code) and code[end] != "'":
                end += 2 if code[end] == "\\" else 1
            self._w().mark_quoted()
            self._w().text += code[self.i + 2 : end]
            self.i = end + 1
        elif nxt and (nxt in _SPECIAL):
            self.expansion(nxt)
            self._w().text += code[self.i : self.i + 2]
            self.i += 2
        else:
            name = _NAME.match(code, self.i + 1)
            if name:
                self.expansion(name.group(0))
                self._w().text += "$" + name.group(0)
                self.i = name.end()
            else:
                self._w().text += "$"
                self.i += 1

    def matching(self, start: int, opening: str, closing: str) -> int:
        """The index of the `closing` that ends a group opened just before `start`
        (quotes and nested groups skipped); len(code) when it never comes."""
        code, n, depth, i = self.code, len(self.code), 1, start
        while i < n:
            char = code[i]
            if char == "\\":
                i += 2
                continue
            if char == "'" and opening == "(":
                end = code.find("'", i + 1)
                i = n if end < 0 else end + 1
                continue
            if char == '"':
                i += 1
                while i < n and code[i] != '"':
                    i += 2 if code[i] == "\\" else 1
                i += 1
                continue
            if char == opening:
                depth += 1
            elif char == closing:
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        self.out.unbalanced = True
        return n

    def substitutions_in(self, text: str) -> None:
        """Code inside `${...}`, `$((...))` or a heredoc: only its substitutions run."""
        if "$" in text or "`" in text:
            inner = lex(text)
            self.out.inner += inner.inner
            self.out.unbalanced |= inner.unbalanced

    def lex_inner(self, text: str, words_only: bool = False) -> None:
        inner = lex(text)
        self.out.inner += inner.inner
        self.out.unbalanced |= inner.unbalanced

    def redirection(self) -> bool:
        code, i = self.code, self.i
        if code[i] == "<":
            placeholder = PLACEHOLDER.match(code, i)
            before = code[i - 1 : i]
            if not placeholder:
                # `<Issuer name>` at a line's end: bash would refuse it (`>` with no target)
                placeholder = _SPACED_PLACEHOLDER.match(code, i)
            if placeholder and not (before == "<" or before.isalnum() or before == "_"):
                self._w().text += placeholder.group(0)
                self.i = placeholder.end()
                return True
        if code.startswith(("<(", ">("), i):
            end = self.matching(i + 2, "(", ")")
            self.out.inner.append(code[i + 2 : end])
            self.expansion("$(")
            self._w().text += "/dev/fd/63"
            self.i = end + 1
            return True
        fd = self.word.text if self.word is not None and not self.word.quoted else None
        if fd is not None and not (fd.isdigit() or re.fullmatch(r"\{\w+\}", fd)):
            fd = None
        if fd is not None:
            self.word = None
        else:
            self.end_word()
        for op in ("&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", ">&", ">>", ">|", "<", ">"):
            if code.startswith(op, i):
                break
        self.i = i + len(op)
        target = self.next_word()
        text = target.text if target else ""
        if op in ("<<", "<<-"):
            self.heredocs.append((text, op == "<<-", not (target and target.quoted)))
            self.command.stdin_data = True
        elif op == "<<<":
            self.command.stdin_data = True
        elif op == "<":
            self.command.reads.append(text)
        elif op in (">&", "<&") and (text.isdigit() or text in ("-", "")) or op == "<&":
            pass
        elif text not in SAFE_TARGETS and not re.fullmatch(r"/dev/fd/\d+", text):
            self.command.writes.append(text or "?")
        return True

    def next_word(self) -> Word | None:
        """Read the word after a redirection operator into a fresh Word."""
        code, n = self.code, len(self.code)
        while self.i < n and code[self.i] in " \t":
            self.i += 1
        saved, self.word = self.word, None
        words_before = len(self.command.words)
        while self.i < n and code[self.i] not in " \t\r\n;&|()<>":
            char = code[self.i]
            if char == "'":
                end = code.find("'", self.i + 1)
                end = n if end < 0 else end
                self._w().mark_quoted()
                self._w().text += code[self.i + 1 : end]
                self.i = end + 1
            elif char == '"':
                self.double_quoted()
            elif char == "$":
                self.dollar()
            elif char == "`":
                self.backtick()
            elif char == "\\":
                self._w().mark_quoted()
                self._w().text += code[self.i + 1 : self.i + 2]
                self.i += 2
            else:
                self._w().text += char
                self.i += 1
        target, self.word = self.word, saved
        del self.command.words[words_before:]
        return target

    def read_heredocs(self) -> None:
        code, n = self.code, len(self.code)
        for delimiter, strip, expands in self.heredocs:
            body: list[str] = []
            while self.i < n:
                end = code.find("\n", self.i)
                end = n if end < 0 else end
                line = code[self.i : end]
                self.i = end + 1
                if (line.lstrip("\t") if strip else line) == delimiter:
                    break
                body.append(line)
            if expands:
                self.substitutions_in("\n".join(body))
        self.heredocs = []


_ASSIGNED = re.compile(
    r"""(?:^|[\s;&|(`])(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)*)?"""
    r"""([A-Za-z_]\w*)(?:\[[^\]]*\])?\+?=("[^"]*"|'[^']*'|[^\s;&|]*)"""
)
_READ_NAMES = re.compile(r"\b(?:read|mapfile|readarray|for|select|getopts)\b((?:\s+[-\w]+)+)")


def lex(code: str) -> Lexed:
    """The simple commands of `code`, the code its substitutions run, the names it assigns."""
    lexed = _Lexer(code).run()
    if "=" in code:
        for name, value in _ASSIGNED.findall(code):
            lexed.assigned.add(name)
            value = value.strip("\"'")
            if value[:1] in ("-", "(") or "$" in value or "`" in value:
                lexed.unsafe.add(name)
    if "read" in code or "for" in code or "map" in code or "select" in code or "getopts" in code:
        for group in _READ_NAMES.findall(code):
            names = {w for w in group.split() if _NAME.fullmatch(w)}
            lexed.assigned |= names
            lexed.unsafe |= names
    return lexed
