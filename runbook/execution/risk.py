"""Risk of a shell command: read-only, mutating or destructive.

Every simple command of the code is classified, and so is the code every
substitution, wrapper (`sudo`, `env`, `xargs`, `ssh HOST '...'`, `kubectl exec POD
--`, `bash -c`...) and `find -exec` runs; the riskiest wins. Read-only is an
allow-list (`runbook.execution.risk_rules`): a program, its subcommand and each of
its options must be known to be read-only. Unknown programs are mutating.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from runbook.execution import risk_cli, risk_http, risk_rules, risk_scripts
from runbook.execution.risk_rules import ANY, DE, MU, RO
from runbook.execution.shell_words import SAFE_TARGETS, Word, lex
from runbook.model import RISK_ORDER, Risk

_HANDLER_MODULES = (risk_http, risk_scripts)
"""Their handlers register in `risk_cli.HANDLERS` when imported."""
MAX_DEPTH = 8
"""Code nested deeper than this (substitution in wrapper in substitution...) is destructive."""
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?\+?=")
_SYSTEM_DIRS = ("/bin/", "/usr/bin/", "/usr/local/bin/", "/sbin/", "/usr/sbin/", "/usr/local/sbin/")
_RESERVED = frozenset("if then elif else fi do done while until ! { } coproc".split())
_HEADERS = frozenset("for select case function".split())
_ARITHMETIC = frozenset(
    "let test [ [[ printf read unset wait declare typeset local export readonly".split()
)
_DECLARES = frozenset("export declare typeset local readonly".split())
_INJECTABLE = frozenset("@*$(0123456789")
_SHELL_WRAPPERS = frozenset("sudo doas chroot nsenter runuser nohup timeout nice".split())
"""Wrappers that, given no command, start a shell or fail."""
MAX_RATED_BYTES = 64 * 1024
"""A longer command is not read by the rules: it is destructive unread (confirmed before it
runs), when the runbook loads and again when it is planned and run. The rules took some
4 s on a 100,000-line fence, with the console waiting on them; no command in the public
runbooks we read comes near 64 KB."""
UNRATED_REASON = "too long to rate: destructive unread"
"""Why a command over `MAX_RATED_BYTES` is destructive, as the confirmation says it."""


def too_long_to_rate(code: str) -> bool:
    """Whether `code` is longer than the rules read (`MAX_RATED_BYTES`)."""
    return len(code) > MAX_RATED_BYTES


@lru_cache(maxsize=8192)
def classify(code: str) -> Risk:
    """The riskiest command `code` runs, by the rules; destructive unread when it is too
    long to rate (`too_long_to_rate`)."""
    if too_long_to_rate(code):
        return DE
    return classify_at(code, 0)


def classify_at(code: str, depth: int) -> Risk:
    if depth > MAX_DEPTH:
        return DE
    lexed = lex(code)
    risks: list[Risk] = [classify_at(inner, depth + 1) for inner in lexed.inner]
    context = Context(frozenset(lexed.unsafe), frozenset(lexed.assigned), depth)
    for command in lexed.commands:
        for target in command.writes:
            risks.append(DE if target.startswith("/dev/") else MU)
        risks.append(context.words(command.words))
        if risks[-1] == DE:
            break
    return riskiest(risks)


def riskiest(risks: Iterable[Risk]) -> Risk:
    return max(risks, key=RISK_ORDER.__getitem__, default=RO)


def at_least(risk: Risk, floor: Risk) -> Risk:
    return risk if RISK_ORDER[risk] >= RISK_ORDER[floor] else floor


def simple_commands(code: str) -> list[list[str]]:
    """The simple commands of `code` as word lists (quotes removed), substitutions left out."""
    return [[word.text for word in command.words] for command in lex(code).commands]


@dataclass(frozen=True)
class Context:
    unsafe: frozenset[str]
    """Variables the code gives a value that may start with `-` or is known only at run time."""
    assigned: frozenset[str]
    """Variables the code assigns itself: their values are the code's, not the operator's."""
    depth: int

    def injectable(self, word: Word) -> bool:
        """Whether `word` may start with text the code chose at run time (an option, say)."""
        return word.leading_expansion and (
            word.expansions[0] in self.unsafe or word.expansions[0][:1] in _INJECTABLE
        )

    def code_chosen(self, word: Word) -> bool:
        """Whether any part of `word` (a script, say) is text the code itself chose."""
        return any(e in self.assigned or e[:1] in _INJECTABLE for e in word.expansions)

    def code(self, text: str) -> Risk:
        return classify_at(text, self.depth + 1)

    def words(self, words: Sequence[Word], extra_args: bool = False) -> Risk:
        """A simple command's risk; `extra_args`: more arguments come at run time (xargs)."""
        floor: Risk = RO
        start = 0
        while start < len(words):
            word = words[start]
            assignment = _ASSIGNMENT.match(word.text)
            if assignment and -1 < word.quoted_from < assignment.end():
                assignment = None  # `"A=b"` is a word, not an assignment
            if assignment:
                if assignment.group(1) in risk_rules.HOOK_VARIABLES:
                    floor = MU
            elif word.quoted_from == 0 or word.text not in _RESERVED:
                break
            start += 1
        words = words[start:]
        if not words or (words[0].quoted_from != 0 and words[0].text in _HEADERS):
            return floor
        return at_least(self.program(words, extra_args), floor)

    def program(self, words: Sequence[Word], extra_args: bool) -> Risk:
        first = words[0]
        if first.dynamic:
            return MU
        program = program_name(first.text)
        if program is None:
            return MU
        args = list(words[1:])
        texts = [a.text for a in args]
        if program in risk_rules.DESTRUCTIVE_PROGRAMS:
            return _destructive_program(program, texts)
        if program in _ARITHMETIC and any("$(" in t or "`" in t for t in texts):
            return MU  # `let 'a[$(cmd)]'`: bash runs the subscript's substitution
        if program in _DECLARES:
            names = (_ASSIGNMENT.match(t) for t in texts)
            hooks = any(m and m.group(1) in risk_rules.HOOK_VARIABLES for m in names)
            return MU if hooks or any(t in ("-f", "-fx") for t in texts) else RO
        if program == "eval":
            return self.code(" ".join(texts))
        if program == "trap":
            return self.code(texts[0]) if texts and not texts[0].startswith("-") else RO
        if program in risk_rules.SHELLS:
            return self.shell(args, extra_args)
        if program in risk_rules.INTERPRETERS or re.fullmatch(r"python[\d.]*|pypy\d*", program):
            return RO if texts in (["--version"], ["-V"]) else MU
        if program in risk_rules.WRAPPERS or program == "watch":
            return self.wrapper(program, args)
        if "/" not in first.text and texts in (["--version"], ["--help"], ["version"]):
            return RO
        handler = risk_cli.HANDLERS.get(program)
        if handler is not None:
            return handler(self, program, args, extra_args)
        if program in risk_rules.SIMPLE_CLIS:
            return risk_cli.subcommand_cli(self, program, args)
        spec = risk_rules.READ_ONLY.get(program)
        if spec is not None:
            return self.options(program, spec, args, extra_args)
        return risk_cli.fallback(args)

    def options(self, program: str, spec: str, args: Sequence[Word], extra_args: bool) -> Risk:
        """A read-only program's risk given its options: any option outside `spec` is mutating."""
        if spec == ANY:
            return RO
        if extra_args:
            return MU  # xargs may hand it any option
        risks: list[Risk] = [RO]
        positionals = parse_options(spec, args, risks, risk_rules.EFFECTS.get(program, {}), self)
        limit = risk_rules.MAX_POSITIONALS.get(program)
        if limit is not None and len(positionals) > limit:
            risks.append(MU)
        if program == "tee" and any(p not in SAFE_TARGETS for p in positionals):
            risks.append(MU)
        if program == "date" and any(not p.startswith("+") for p in positionals):
            risks.append(MU)
        return riskiest(risks)

    def shell(self, args: Sequence[Word], extra_args: bool) -> Risk:
        """`bash -c 'code'` is its code's risk; a script, stdin or a login shell is mutating."""
        for index, arg in enumerate(args):
            text = arg.text
            if text.startswith("-") and not text.startswith("--") and "c" in text[1:]:
                if index + 1 >= len(args):
                    return MU
                code = args[index + 1]
                if self.injectable(code) or (extra_args and "{}" in code.text):
                    return MU
                return self.code(code.text)
            if text in ("-o", "+o"):
                continue
            if not text.startswith(("-", "+")):
                return MU
        return MU

    def wrapper(self, program: str, args: Sequence[Word]) -> Risk:
        """The risk of the command a wrapper runs (`sudo -u x cmd`, `timeout 5 cmd`...)."""
        if program == "watch":
            return self._watch(args)
        spec = risk_rules.WRAPPERS[program]
        risks: list[Risk] = [RO]
        rest = parse_options(spec, args, risks, {}, self, stop_at_operand=True)
        count = risk_rules.WRAPPER_COUNT_ARGS.get(program, 0)
        if len(rest) < count:
            return MU
        inner = list(args[len(args) - len(rest) + count :])
        if program == "env":
            while inner and _ASSIGNMENT.match(inner[0].text):
                name = _ASSIGNMENT.match(inner[0].text)
                if name and name.group(1) in risk_rules.HOOK_VARIABLES:
                    risks.append(MU)
                inner = inner[1:]
        texts = [a.text for a in args]
        if program == "sudo" and not inner and any(t in ("-l", "-v", "-k", "-K") for t in texts):
            return riskiest(risks)  # lists privileges or drops the cached credentials
        if not inner:  # xargs alone runs echo; exec alone only redirects
            return MU if program in _SHELL_WRAPPERS else riskiest(risks)
        return riskiest([*risks, self.words(inner, extra_args=program == "xargs")])

    def _watch(self, args: Sequence[Word]) -> Risk:
        risks: list[Risk] = [RO]
        rest = parse_options(
            "bcdeghtpwx n:s: --interval= --differences --differences= --exec "
            "--no-title --beep --errexit --chgexit --color --precise",
            args,
            risks,
            {},
            self,
            stop_at_operand=True,
        )
        if not rest:
            return MU
        inner = list(args[len(args) - len(rest) :])
        if any(a.text in ("-x", "--exec") for a in args):
            return riskiest([*risks, self.words(inner)])
        return riskiest([*risks, self.code(" ".join(a.text for a in inner))])


def program_name(text: str) -> str | None:
    """The program's name; None for a path outside the system directories (`./cat`)."""
    if "/" not in text:
        return text
    directory, _, name = text.rpartition("/")
    if directory + "/" in _SYSTEM_DIRS:
        return name
    if re.fullmatch(r"(?:\./)?\.?venv/bin/python3?", text):
        return "python"
    return None


def _destructive_program(program: str, texts: list[str]) -> Risk:
    if program == "dd":
        return DE if any(t.startswith("of=") for t in texts) else MU
    if program == "kill" and texts and texts[0] in ("-0", "-l", "-L", "--list"):
        return RO
    if program in ("rm", "rmdir", "unlink", "truncate", "shred") and texts in (
        ["--version"],
        ["--help"],
    ):
        return RO
    return DE


def parse_options(
    spec: str,
    args: Sequence[Word],
    risks: list[Risk],
    effects: dict[str, Risk],
    context: Context,
    stop_at_operand: bool = False,
) -> list[str]:
    """Read `args` against a getopt-style `spec`, appending to `risks` what each option brings
    (an unknown one: mutating); the operands. With `stop_at_operand`, the first operand and
    everything after it are the operands (a wrapper's command)."""
    shorts, short_values, longs, long_values = _spec(spec)
    operands: list[str] = []
    index, n = 0, len(args)
    while index < n:
        word = args[index]
        text = word.text
        if context.injectable(word):
            risks.append(MU)
            operands.append(text)
            index += 1
            continue
        if text == "--":
            operands += [a.text for a in args[index + 1 :]]
            break
        if not text.startswith("-") or text == "-":
            if stop_at_operand:
                operands += [a.text for a in args[index:]]
                break
            operands.append(text)
            index += 1
            continue
        if text.startswith("--"):
            name, equals, _ = text.partition("=")
            if name + "=" in effects or name in effects:
                risks.append(effects.get(name + "=", effects.get(name, MU)))
                index += 0 if equals or name in effects else 1
            elif equals and name + "=" in long_values or not equals and name in longs:
                pass
            elif not equals and name + "=" in long_values:
                index += 1
            else:
                risks.append(MU)
            index += 1
            continue
        for position in range(1, len(text)):
            letter = text[position]
            option = "-" + letter
            if option in effects:
                risks.append(effects[option])
            elif letter not in shorts and letter not in short_values and not letter.isdigit():
                risks.append(MU)
                break
            if letter in short_values:
                if position == len(text) - 1:
                    index += 1
                break
        index += 1
    return operands


@lru_cache(maxsize=512)
def _spec(spec: str) -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    shorts: set[str] = set()
    short_values: set[str] = set()
    longs: set[str] = set()
    long_values: set[str] = set()
    for part in spec.split():
        if part.startswith("--"):
            (long_values if part.endswith("=") else longs).add(part)
            if part.endswith("="):
                long_values.add(part)
            continue
        part = part.lstrip("-")
        for index, letter in enumerate(part):
            if letter == ":":
                continue
            if part[index + 1 : index + 2] == ":":
                short_values.add(letter)
            else:
                shorts.add(letter)
    return frozenset(shorts), frozenset(short_values), frozenset(longs), frozenset(long_values)
