"""Markdown in, Runbook out.

`parse` reads markdown-it-py tokens (CommonMark + tables + front matter) into
sections, procedures, steps and typed tables; it does no IO. `load` reads a
file and turns every way a file can be unusable into a one-line `LoadError`.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from markdown_it.token import Token

from runbook.document.admonitions import closes_docusaurus, opens_docusaurus, read_admonition
from runbook.document.assignments import carry_assignments
from runbook.document.blocks import MAX_NESTING, TABLE_ROW, markdown, outdent
from runbook.document.commands import (
    PLAIN_LANGUAGES,
    SHELL_LANGUAGES,
    is_runnable_block,
    is_transcript,
    literal_value,
    looks_like_command,
    make_command,
    parse_fence_info,
    risk_problems,
    shows_root_prompts,
    split_block,
    unread_reason,
)
from runbook.document.lines import first_line
from runbook.document.rollout import rollout_problems, step_rollout, without_host_variables
from runbook.document.sessions import SessionTracker, opener_line
from runbook.document.shell import session_opener
from runbook.document.tables import read_table, typed_rows
from runbook.document.values import DURATION_WORDS, parse_duration, plain_text
from runbook.model import (
    Admonition,
    Command,
    Problem,
    Procedure,
    Reference,
    Runbook,
    Section,
    SessionOrigin,
    Severity,
    Step,
    StepKind,
    Table,
)
from runbook.terminal import visible_controls

MAX_BYTES = 8 * 1024 * 1024
"""Larger files are refused: no real runbook is this big, and parsing one would stall the UI."""
MAX_LINE_BYTES = 100_000
"""A longer line is refused too: no runbook line is this long, and drawing one stalls the
console for seconds (a 5 MB line took over 30 s to the first frame)."""

_MARKER = re.compile(r"^(\s*)(?:[-*+]|\d{1,9}[.)])(\s+|$)")
_HEADING_NUMBER = re.compile(r"^\s*(?:\d+(?:\.\d+)*[.)]?|[A-Z][.)])\s+")
_DECISION = re.compile(
    r"^(?:if|when|unless|in case|otherwise)\b\s*(.*?)\s*[:,]\s*(?:then\s+)?(.+)$", re.I
)
_DEADLINE = re.compile(rf"\bwithin\s+(\d+(?:\.\d+)?)\s*({DURATION_WORDS})\b", re.I)
_WAIT = re.compile(
    rf"^(?:monitor|wait|watch|observe|sleep|pause|let it run|allow|give it)\b.*?"
    rf"(\d+(?:\.\d+)?)\s*({DURATION_WORDS})\b",
    re.I,
)
_SEVERITY = re.compile(r"^(P|SEV|S)\s*-?\s*(\d)\b\s*[-:–—]?\s*(.*)$", re.I)
_LABEL_ITEM = re.compile(r"^\s*(\*\*|__)[^*_]+?(:\s*\1|\1\s*:)")
_STEP_LABEL = re.compile(r"^\s*(?:step|option|phase|stage|part)\s*[\w.]{0,4}\s*[-:.)–—]+\s*", re.I)
"""`Step 1:`, `Option A -`: a label naming a step, not what it does."""
_DESCRIBES_PREVIOUS = re.compile(r"\b(this|it|which|that)\s+(will|does|would)\b[^.]*:\s*$", re.I)
_NEWLINES = re.compile(r"\r\n?")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_LINK = re.compile(
    r"(?<!!)\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<(https?://[^>\s]+)>"
)
_REFERENCED = re.compile(
    r"\b(?:passed|given|sent|piped|added|appended)\s+to\s*$|\b(?:output|flags?|options?)\s+of\s*$",
    re.I,
)
"""Prose just before a code span naming it as a thing, not an order: "passed to `x`"."""
_SETTING = re.compile(r"[A-Z][A-Z0-9_]*=[^\s$`;&|<>()]*$")
"""`K3S_RESOLV_CONF=/etc/resolv.conf`: a literal setting, nothing computed or run."""
_EXPORT_LINE = re.compile(r"\s*export\s+([A-Za-z_]\w*)=(\S*)")
_REFERENCE_SECTION = re.compile(r"reference|see also|related|further reading|links", re.I)
_DESCRIPTIVE_SECTION = re.compile(
    r"(?:(?:possible|probable|likely|common|known|root)\s+)?(?:causes?|symptoms?|impact|"
    r"indicators?|signs?|background|related\s+alerts?|references?|see\s+also|further\s+reading|"
    r"meaning|description|summary|context)(?:\s+\d+)?\s*:?",
    re.I,
)
"""A heading whose lists describe (causes, symptoms, impact): their items are steps only
when they hold a command or give an order."""
_NAMED_ITEM = re.compile(r"^\s*(\*\*|__)[^*_\n]+?\1[^:\n]{0,80}:")
"""`**Apply lag** (`metric`): ...`: an item that names something, then says what it is."""
_ORDER_OBJECTS = frozenset(
    """the a an all any each every your its their this that these those it them some both
    whether if for up down out back off over to with what which how where""".split()
)
"""Words that follow a verb given as an order ("Check the disk", "Scale down"); after
another word the verb is likely a noun ("Log rotation stopped", "Increase in errors")."""
_ACTION_VERBS = frozenset(
    """check verify run restart ensure confirm investigate inspect look review deploy rollback
    roll switch monitor scale clean apply document triage schedule escalate acknowledge notify
    open update delete remove increase decrease set add create stop start kill drain cordon
    uncordon identify find test validate compare wait make use try contact page call reboot
    reload rotate back restore edit fix enable disable describe get ssh login log collect capture
    examine determine consider talk read follow tick mark record announce post declare assign
    communicate resolve mitigate build tag push pull merge revert promote upgrade downgrade
    install purge flush clear rerun retry trigger silence pause resume go""".split()
)


class LoadError(Exception):
    """A runbook file that cannot be used; `str()` is one line naming the file."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load(path: str | Path) -> Runbook:
    """Read and parse a runbook file.

    Raises:
        LoadError: the file is missing, unreadable, a directory, binary or too large.
    """
    file = Path(path)
    try:
        if file.is_dir():
            raise LoadError(f"{path}: is a directory, not a runbook file")
        with file.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file") from None
    except OSError as error:
        raise LoadError(f"{path}: cannot read ({error.strerror or error})") from None
    if len(data) > MAX_BYTES:
        raise LoadError(f"{path}: too large (over {MAX_BYTES // (1024 * 1024)} MB); not a runbook")
    if b"\x00" in data:
        raise LoadError(f"{path}: binary file (NUL bytes), not markdown")
    problems: list[Problem] = []
    longest = max(map(len, data.split(b"\n")))  # C speed: a fence's 100,000 lines in 3 ms
    if longest > MAX_LINE_BYTES:
        number = next(n for n, line in enumerate(data.split(b"\n"), 1) if len(line) == longest)
        raise LoadError(
            f"{path}: line {number} is {longest:,} bytes long (the limit is "
            f"{MAX_LINE_BYTES:,}): not a runbook"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        text = data.decode("utf-8", errors="replace")
        problems.append(
            Problem(
                text.count("\n", 0, error.start) + 1,
                f"not valid UTF-8 (byte {error.start}); undecodable bytes shown as \ufffd",
            )
        )
    runbook = parse(text, path=str(file), sha256=hashlib.sha256(data).hexdigest())
    return replace(runbook, problems=(*problems, *runbook.problems)) if problems else runbook


_MD = markdown()


def parse(text: str, path: str | None = None, sha256: str | None = None) -> Runbook:
    """Build the Runbook model from markdown text. Never raises on any text.

    Control characters (an escape sequence in a title, a command or a table) are shown
    as symbols (`␛`), so no terminal acts on them and the command that runs is the one
    shown; `check` reports where they were."""
    digest = sha256 or hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    shown = visible_controls(text)
    with _collector_paused():
        builder = _Builder(shown, path)
        builder.read(_MD.parse(shown))
        runbook = builder.finish(digest)
        del builder  # its tokens and drafts go now, before the collector sees them
    if shown != text:
        line = next(
            n
            for n, (a, b) in enumerate(zip(text.split("\n"), shown.split("\n"), strict=True), 1)
            if a != b
        )
        problem = Problem(
            line,
            "control characters (escape sequences) shown as symbols such as ␛: "
            "a terminal would act on them, and a command holding them runs as shown",
        )
        runbook = replace(runbook, problems=(problem, *runbook.problems))
    return runbook


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, process-wide, while a runbook is parsed.

    A parse allocates tokens and model objects by the hundred thousand and keeps
    them until it returns, and makes no reference cycles: collections triggered
    meanwhile walk all of them and free nothing, a sixth of a large parse. Reference
    counting still frees everything; the collector resumes as soon as the parse ends.
    """
    if not gc.isenabled():
        yield  # paused by the caller: leave it as it is
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass
class _Block:
    kind: str
    tokens: list[Token]
    line: int
    """1-based."""
    end: int
    """1-based, exclusive."""
    items: list[tuple[int, int, list[Token]]] | None = None
    """A list's items, once asked for (`_Builder._items`)."""
    labelled: bool | None = None
    """Whether most of a list's items open with a bold label, once asked for."""
    holds_code: bool = False
    """Whether a fenced or indented block sits inside (a list item's, a quote's)."""


@dataclass
class _OpenSection:
    title: str
    level: int
    line: int
    blocks: list[_Block] = field(default_factory=list)
    children: list[_OpenSection] = field(default_factory=list)


@dataclass
class _Draft:
    text: str
    line: int
    commands: list[Command] = field(default_factory=list)
    admonitions: list[Admonition] = field(default_factory=list)
    session_from: SessionOrigin | None = None


class _Builder:
    def __init__(self, text: str, path: str | None) -> None:
        self.text = text
        # Token line numbers count lines as markdown-it does: after it folds \r\n and \r.
        self.lines = _NEWLINES.sub("\n", text).split("\n")
        self.path = path
        self.root = _OpenSection("", 0, 1)
        self.stack = [self.root]
        self.metadata: dict[str, Any] = {}
        self.problems: list[Problem] = []
        self.procedures: list[Procedure] = []
        self.tables: list[Table] = []
        self.references: dict[tuple[str, str], Reference] = {}
        self.exports: dict[str, str] = {}
        self.first_h1: str | None = None
        self.item_commands: dict[int, list[Command]] = {}
        self.item_fence_commands: dict[int, list[Command]] = {}
        self.fences: list[tuple[Token, str]] = []
        """Every fenced or indented block, with the kind of top-level block holding it."""
        self.read_fences: set[int] = set()
        """The ids of the blocks that gave commands."""
        self.headings: list[tuple[int, int]] = []
        """(line, level) of every heading, in order."""
        self.sessions: SessionTracker | None = None
        """Carries a session left open at the end of a fence to the steps after it."""
        self.root_convention = False
        """Whether a script block of the document shows `# cmd` root prompts and their output:
        the author's lone `# cmd` lines elsewhere are prompted commands too."""

    # -- tokens to blocks -------------------------------------------------
    def read(self, tokens: list[Token]) -> None:
        deepest = 0
        start = 0
        linking: list[Token] = []  # the current block's tokens whose text may hold a link
        nested_fences: list[Token] = []  # the current block's fences, in lists or quotes
        # markdown-it's token stream is balanced: a top-level block is an opening
        # token at level 0 up to the next level-0 token (its closing one), or a
        # single level-0 token (fence, hr, code block, front matter).
        for index, token in enumerate(tokens):
            level = token.level
            if level:
                if level > deepest:
                    deepest = level
                kind = token.type
                if kind == "inline":
                    # Both forms of link need these characters: most text has neither.
                    if "](" in token.content or "<http" in token.content:
                        linking.append(token)
                elif kind == TABLE_ROW:
                    linking.append(token)
                elif kind == "fence" or kind == "code_block":
                    nested_fences.append(token)
            elif token.nesting == 1:
                start = index
            else:
                block_tokens = tokens[start if token.nesting else index : index + 1]
                self._read_block(block_tokens, linking, nested_fences)
                linking.clear()
                nested_fences.clear()
        if deepest >= MAX_NESTING - 1:
            self.problems.append(
                Problem(
                    0, f"nesting deeper than {MAX_NESTING} levels; the deepest part is not read"
                )
            )

    def _read_block(
        self, block_tokens: list[Token], linking: list[Token], nested_fences: list[Token]
    ) -> None:
        token = block_tokens[0]
        first, last = token.map or (0, 0)
        kind = token.type.removesuffix("_open")
        if kind == "heading":
            self._open_section(token, block_tokens)
        elif kind == "front_matter":
            self._front_matter(token)
        else:
            block = _Block(kind, block_tokens, first + 1, last + 1)
            self.stack[-1].blocks.append(block)
            self._collect_links(block, linking)
            if kind == "fence" or kind == "code_block":
                self.fences.append((token, ""))
            elif nested_fences:
                block.holds_code = True
                self.fences.extend((fence, kind) for fence in nested_fences)

    @staticmethod
    def _block_end(tokens: list[Token], start: int) -> int:
        token = tokens[start]
        if token.nesting != 1:
            return start
        closing = token.type.replace("_open", "_close")
        for index in range(start + 1, len(tokens)):
            if tokens[index].type == closing and tokens[index].level == token.level:
                return index
        return len(tokens) - 1

    def _open_section(self, token: Token, block_tokens: list[Token]) -> None:
        level = int(token.tag[1:])
        inline = block_tokens[1] if len(block_tokens) > 1 else None
        title = _HEADING_NUMBER.sub("", plain_text(inline.content if inline else "")).strip()
        if level == 1 and self.first_h1 is None:
            self.first_h1 = title
        while len(self.stack) > 1 and self.stack[-1].level >= level:
            self.stack.pop()
        section = _OpenSection(title or "(untitled)", level, (token.map or (0, 0))[0] + 1)
        self.headings.append((section.line, level))
        self.stack[-1].children.append(section)
        self.stack.append(section)

    def _front_matter(self, token: Token) -> None:
        import yaml  # only runbooks with front matter need it (~8 ms to import)

        try:
            loaded = yaml.safe_load(token.content)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            self.problems.append(
                Problem(line, f"front matter is not valid YAML: {error}".split("\n")[0])
            )
            return
        if isinstance(loaded, dict):
            self.metadata = {str(key): value for key, value in loaded.items()}
        elif loaded is not None:
            self.problems.append(Problem(1, "front matter is not a mapping; ignored"))

    def _collect_links(self, block: _Block, tokens: list[Token]) -> None:
        for token in tokens:
            for text in _texts(token):
                if "](" not in text and "<http" not in text:
                    continue
                for match in _LINK.finditer(text):
                    title, target = match.group(1), match.group(2) or match.group(3)
                    if not target.startswith("#"):
                        self._add_reference(
                            plain_text(title or target) or target, target, block.line
                        )

    def _add_reference(self, title: str, target: str, line: int) -> None:
        self.references.setdefault((title, target), Reference(title, target, line))

    # -- blocks to model --------------------------------------------------
    def finish(self, digest: str) -> Runbook:
        # A lone H1 is the document's title, not a section worth naming in every path.
        lone_h1 = len(self.root.children) == 1 and self.root.children[0].level == 1
        top = self.root.children[0] if lone_h1 else None
        self.sessions = SessionTracker(self.lines, self.headings, self._code_spans)
        self.root_convention = any(
            token.type == "fence"
            and shows_root_prompts(token.content, parse_fence_info(token.info).language)
            for token, _ in self.fences
        )
        # In document order: a session left open in one section runs on into the next.
        root_procedure = self._procedure(self.root, ())
        sections = tuple(
            self._finish_section(child, () if child is not top else None)
            for child in self.root.children
        )
        if root_procedure:
            self.procedures.insert(0, root_procedure)
        self._check_duplicates()
        self._report_unread_fences()
        self.problems += risk_problems(self.procedures)
        self.problems += rollout_problems(self.procedures)
        title = self.metadata.get("title") or self.first_h1
        if not title and self.path:
            title = Path(self.path).stem
        if not self.text.strip():
            self.problems.append(Problem(1, "empty file: nothing to read"))
        thresholds, endpoints, environments = typed_rows(self.tables)
        # The tracker holds a method of this builder: a cycle that would keep every token
        # and draft alive until the collector's next full pass, which then walks them all.
        self.sessions = None
        return Runbook(
            title=str(title or "Untitled runbook"),
            sha256=digest,
            path=self.path,
            metadata=self.metadata,
            sections=sections,
            procedures=tuple(self.procedures),
            thresholds=thresholds,
            endpoints=endpoints,
            environments=environments,
            severities=tuple(self._severities()),
            references=tuple(self.references.values()),
            tables=tuple(self.tables),
            problems=tuple(self.problems),
        )

    def _finish_section(self, section: _OpenSection, path: tuple[str, ...] | None) -> Section:
        """Finish a section; `path` None marks the title H1, left out of its children's paths."""
        procedure = self._procedure(section, path or ())
        if procedure:
            self.procedures.append(procedure)
        if _REFERENCE_SECTION.search(section.title):
            self._reference_items(section)
        child_path = () if path is None else (*path, section.title)
        children = tuple(self._finish_section(c, child_path) for c in section.children)
        body = "\n\n".join(self._source(block) for block in section.blocks)
        return Section(section.title, section.level, section.line, body, children, procedure)

    def _procedure(self, section: _OpenSection, path: tuple[str, ...]) -> Procedure | None:
        drafts: list[_Draft] = []
        intro: list[str] = []
        pending: list[_Block] = []
        waiting: list[Admonition] = []  # warnings and notes no step has followed yet
        docusaurus: list[_Block] = []  # the paragraphs of an open `:::warning` block
        descriptive = _DESCRIPTIVE_SECTION.fullmatch(section.title.strip()) is not None

        def attach(markdown: str) -> None:
            if drafts:
                drafts[-1].text += "\n\n" + markdown
            else:
                intro.append(markdown)

        def admonish(admonition: Admonition, blocks: list[_Block]) -> None:
            """It speaks about what follows: the next step gets it, no step before. One
            that gives an order with a command ("!!! attention Switch to the namespace
            using `oc project x`") is also a step of its own, carrying it."""
            if ordered := self._admonition_step(blocks, admonition):
                for pending_block in pending:
                    attach(self._source(pending_block))
                pending.clear()
                ordered.admonitions += [*waiting, admonition]
                drafts.append(ordered)
                waiting.clear()
            waiting.append(admonition)

        def close_docusaurus() -> None:
            for admonition in self._docusaurus(docusaurus):
                admonish(admonition, list(docusaurus))
            docusaurus.clear()

        for block in section.blocks:
            if docusaurus:
                if block.kind == "paragraph":
                    docusaurus.append(block)
                    if closes_docusaurus(self._source(block)):
                        close_docusaurus()
                    continue
                close_docusaurus()  # unclosed: it ends where prose does
            if block.kind in ("paragraph", "blockquote") and not block.holds_code:
                source = self._source(block)
                if block.kind == "paragraph" and opens_docusaurus(source):
                    docusaurus.append(block)
                    continue
                if admonition := read_admonition(block.kind, source, block.line):
                    admonish(admonition, [block])
                    continue
            step_count = len(drafts)
            self._read_procedure_block(block, section, drafts, pending, attach, descriptive)
            if waiting and len(drafts) > step_count:
                drafts[step_count].admonitions += waiting
                waiting.clear()
        close_docusaurus()
        if not drafts:
            return None
        for block in pending:
            attach(self._source(block))
        self._follow_sessions(drafts, " / ".join((*path, section.title or "(preamble)")))
        steps = carry_assignments(
            tuple(_step(index, draft) for index, draft in enumerate(drafts, start=1)),
            self.exports,
        )
        return Procedure(
            title=section.title or "(preamble)",
            line=section.line,
            steps=steps,
            path=path,
            level=section.level,
            intro="\n\n".join(intro),
            admonitions=tuple(waiting),
        )

    def _admonition_step(self, blocks: list[_Block], admonition: Admonition) -> _Draft | None:
        """A step for an admonition (its blocks) that gives an order with a command in its
        code spans (`Switch to … using `oc project rook-ceph``), else None: one that only
        names a command (`… cleaned up manually using `rbd rm``) gives none."""
        if "`" not in admonition.text or not _gives_order(admonition.text):
            return None
        commands = self._inline_commands([t for block in blocks for t in block.tokens])
        if not commands:
            return None
        return _Draft(admonition.text, blocks[0].line, list(commands))

    def _follow_sessions(self, drafts: list[_Draft], procedure: str) -> None:
        """Mark the commands typed into a session an earlier step left open (an earlier
        fence, often an earlier section: `runbook.document.sessions`). A step whose lines
        leave the session (`exit`) and go on locally becomes two steps."""
        tracker = self.sessions
        if tracker is None or (
            tracker.open is None
            and not any(c.session is not None for d in drafts for c in d.commands)
        ):
            return  # no session open, none opened here: the common case
        followed_drafts: list[_Draft] = []
        for draft in drafts:
            followed_drafts.append(draft)
            if not draft.commands or (
                tracker.open is None and all(c.session is None for c in draft.commands)
            ):
                continue
            own = any(c.session is not None for c in draft.commands)
            followed = tracker.follow(
                draft.commands,
                procedure,
                len(followed_drafts),
                lambda code, line: make_command(code, line, defaults=self.exports),
            )
            draft.commands = followed.commands
            if followed.origin is None or followed.opener is None:
                continue
            typed = [c for c in draft.commands if c.session == followed.opener]
            after = draft.commands[draft.commands.index(typed[-1]) + 1 :]
            if after and all(c.session is None for c in after):
                # `rm -rf /tmp/x`, `exit`, then `make report`: the last runs here.
                draft.commands = draft.commands[: len(draft.commands) - len(after)]
                first = after[0].code.strip().splitlines()[0].strip()
                followed_drafts.append(_Draft(f"Run `{first}`", after[0].line, after))
            self._typed_inside(draft, followed.origin, followed.opener, procedure, own)
        drafts[:] = followed_drafts

    def _typed_inside(
        self, draft: _Draft, origin: SessionOrigin, opener: str, procedure: str, own: bool
    ) -> None:
        """Say in a step's text that it is typed into the session `origin` opened."""
        session = opener_line(opener)
        draft.session_from = origin
        where = f"step {origin.step}" + (
            "" if origin.procedure == procedure else f" of “{origin.procedure}”"
        )
        typed = "\n".join(c.code for c in draft.commands if c.session == opener and c.code)
        title, _, rest = draft.text.partition("\n")
        inside = f"inside `{session}`"
        title = f"{title} {inside}" if title.startswith("Run `") else f"{title} ({inside})"
        note = (
            f"Typed into the interactive session {where} opened (line {origin.line}), "
            "not a command of this machine: the console does not run it."
        )
        body = rest.strip("\n") if own else f"```sh\n{typed}\n```\n\n{rest.strip()}"
        draft.text = f"{title}\n\n{note}\n\n{body}".rstrip()
        self.problems.append(
            Problem(
                draft.line,
                f"typed inside `{_clip(session)}`, which {where} opened (line "
                f"{origin.line}): a manual step (the console does not run it)",
            )
        )

    def _code_spans(self) -> list[tuple[int, int]]:
        """(first line, end line exclusive) of every fenced or indented block."""
        return [(token.map[0] + 1, token.map[1] + 1) for token, _ in self.fences if token.map]

    def _docusaurus(self, blocks: list[_Block]) -> list[Admonition]:
        """A `:::warning ... :::` block read from its paragraphs, as one admonition."""
        if not blocks:
            return []
        source = "\n\n".join(self._source(block) for block in blocks)
        admonition = read_admonition("paragraph", source, blocks[0].line)
        return [admonition] if admonition else []

    def _read_procedure_block(
        self,
        block: _Block,
        section: _OpenSection,
        drafts: list[_Draft],
        pending: list[_Block],
        attach: Callable[[str], None],
        descriptive: bool,
    ) -> None:
        """Turn one block of a section into steps, or into text of the step before it."""

        def flush_pending() -> None:
            for pending_block in pending:
                attach(self._source(pending_block))
            pending.clear()

        if block.kind == "paragraph":
            pending.append(block)
        elif block.kind in ("bullet_list", "ordered_list"):
            lead_in = self._source(pending[-1]) if pending else ""
            fenced = self._has_fence_commands(block)
            if drafts and lead_in and not fenced and _DESCRIBES_PREVIOUS.search(lead_in):
                flush_pending()
                drafts[-1].text += "\n\n" + self._source(block)
            elif descriptive:
                # Causes, symptoms, impact: an item that holds a command or gives an order
                # is a step; the others stay the section's text.
                flush_pending()
                for item_draft in self._command_items(block, descriptive=True):
                    if isinstance(item_draft, _Draft):
                        drafts.append(item_draft)
                    else:
                        attach(item_draft)
            elif block.kind == "ordered_list" or self._is_action_list(block):
                flush_pending()
                drafts.extend(self._list_steps(block))
            elif fenced or self._has_inline_commands(block):
                # Not a checklist, but an item holding a command is a step all the same.
                flush_pending()
                for item_draft in self._command_items(block):
                    if isinstance(item_draft, _Draft):
                        drafts.append(item_draft)
                    else:
                        attach(item_draft)
            else:
                flush_pending()
                attach(self._source(block))
        elif block.kind == "table":
            self.tables.append(read_table(block.tokens, self.lines, section.title, self.problems))
            flush_pending()
            attach(self._source(block))
        elif block.kind == "hr":
            return  # a thematic break separates sections; it is no step's text
        elif block.kind in ("fence", "code_block"):
            token = block.tokens[0]
            info = parse_fence_info(token.info if block.kind == "fence" else "")
            if not is_runnable_block(info, token.content, self.root_convention):
                flush_pending()
                attach(self._source(block))
                return
            lead = " ".join(self._source(b) for b in pending)
            pending.clear()
            drafts.extend(self._block_steps(token, info, block.line + 1, lead))
        else:
            flush_pending()
            attach(self._source(block))

    def _source(self, block: _Block) -> str:
        return "\n".join(self.lines[block.line - 1 : block.end - 1]).strip("\n")

    def _items(self, block: _Block) -> list[tuple[int, int, list[Token]]]:
        """(first line, end line, tokens) of each top-level item of a list block."""
        if block.items is not None:
            return block.items
        items: list[tuple[int, int, list[Token]]] = []
        tokens = block.tokens
        item_level = tokens[0].level + 1
        start = 0
        # Only the items' own opening and closing tokens sit at the item level.
        for index, token in enumerate(tokens):
            if token.level != item_level:
                continue
            if token.nesting == 1:
                start = index
            else:
                first, last = tokens[start].map or (block.line - 1, block.end - 1)
                items.append((first + 1, last + 1, tokens[start : index + 1]))
        block.items = items
        return items

    def _is_labelled_list(self, block: _Block) -> bool:
        """Whether most items open with a bold label (`- **Secrets:** never commit`)."""
        if block.labelled is None:
            items = self._items(block)
            labelled = sum(
                1
                for first, _, _ in items
                if _LABEL_ITEM.match(_strip_marker(self.lines[first - 1]))
            )
            block.labelled = bool(items) and labelled * 2 >= len(items)
        return block.labelled

    def _is_action_list(self, block: _Block) -> bool:
        if self._is_labelled_list(block):
            return False
        items = self._items(block)
        # Most items must read as actions: one "read only filesystem" among
        # symptoms does not make a checklist.
        actions = sum(
            1
            for first, end, tokens in items
            if self._item_commands(block, tokens, first)
            or _first_word(self._item_text(first, end)) in _ACTION_VERBS
        )
        return actions > 0 and actions * 2 >= len(items)

    def _has_fence_commands(self, block: _Block) -> bool:
        return block.holds_code and any(
            self._fence_commands(tokens, first) for first, _, tokens in self._items(block)
        )

    def _has_inline_commands(self, block: _Block) -> bool:
        """Whether an item has a command in its code spans; a labelled list's spans are values."""
        if self._is_labelled_list(block):
            return False
        return any(self._inline_commands(tokens) for _, _, tokens in self._items(block))

    def _command_items(self, block: _Block, descriptive: bool = False) -> list[_Draft | str]:
        """A list that is no checklist: items holding a command, or reading as an action
        once a `Step 1:` label is set aside, are steps; runs of other items stay text.
        In a `descriptive` section (causes, symptoms) only an order reads as an action."""
        labelled = self._is_labelled_list(block)
        parts: list[_Draft | str] = []
        text_lines: list[str] = []
        for first, end, tokens in self._items(block):
            commands = self._fence_commands(tokens, first) if block.holds_code else []
            if not commands and not labelled:
                commands = self._inline_commands(tokens)
            text = self._item_text(first, end)
            if commands or (_gives_order(text) if descriptive else _reads_as_action(text)):
                if text_lines:
                    parts.append("\n".join(text_lines).strip("\n"))
                    text_lines = []
                parts.append(_Draft(text, first, list(commands)))
            else:
                text_lines.extend(self.lines[first - 1 : end - 1])
        if text_lines:
            parts.append("\n".join(text_lines).strip("\n"))
        return parts

    def _item_text(self, first: int, end: int) -> str:
        raw = self.lines[first - 1 : end - 1]
        if not raw:
            return ""
        marker = _MARKER.match(raw[0])
        width = marker.end() if marker else 0
        rest = "\n".join(raw[1:])
        if width and rest:
            # Up to `width` leading spaces off each line, in one pass over the item.
            rest = outdent(rest, width)
        return (raw[0][width:] + "\n" + rest).strip() if len(raw) > 1 else raw[0][width:].strip()

    def _inline_commands(self, tokens: list[Token]) -> list[Command]:
        """Commands in the code spans of an item (memoised: lists are asked twice)."""
        key = id(tokens[0]) if tokens else 0
        if key in self.item_commands:
            return list(self.item_commands[key])
        commands: list[Command] = []
        for token in tokens:
            if token.type != "inline" and token.type != TABLE_ROW:
                continue
            line = (token.map[0] + 1) if token.map else 0
            for code in _code_spans(token, commands_only=True):
                if not looks_like_command(code):
                    continue
                if session_opener(code):
                    # "Run `kubectl exec -it pod -- bash` to enter the pod": the operator's.
                    commands.append(make_command("", line, session=code))
                else:
                    commands.append(make_command(code, line, defaults=self.exports))
        self.item_commands[key] = commands
        return commands

    def _fence_commands(self, tokens: list[Token], first: int) -> list[Command]:
        """Commands of the runnable blocks in an item, nested lists included (memoised)."""
        key = id(tokens[0]) if tokens else 0
        if key in self.item_fence_commands:
            return self.item_fence_commands[key]
        commands: list[Command] = []
        for token in tokens:
            if token.type == "fence" or token.type == "code_block":
                info = parse_fence_info(token.info if token.type == "fence" else "")
                if is_runnable_block(info, token.content, self.root_convention):
                    # A fence's code starts on the line after its opening marker.
                    offset = 2 if token.type == "fence" else 1
                    line = (token.map[0] + offset) if token.map else first
                    for group in self._block_steps(token, info, line, ""):
                        commands.extend(group.commands)
        self.item_fence_commands[key] = commands
        return commands

    def _item_commands(self, block: _Block, tokens: list[Token], first: int) -> list[Command]:
        """An item's commands: those of its blocks, else those of its code spans."""
        if block.holds_code:
            return self._fence_commands(tokens, first) or self._inline_commands(tokens)
        return self._inline_commands(tokens)

    def _list_steps(self, block: _Block) -> list[_Draft]:
        return [
            _Draft(
                self._item_text(first, end), first, list(self._item_commands(block, tokens, first))
            )
            for first, end, tokens in self._items(block)
        ]

    def _block_steps(self, token: Token, info: Any, line: int, lead: str) -> list[_Draft]:
        drafts: list[_Draft] = []
        if self._unread_settings(token.content):
            self.read_fences.add(id(token))
            self.problems.append(
                Problem(
                    line - 1,
                    "block holds only settings that nothing in the runbook reads "
                    "(`NAME=value` lines for a file, not commands): not read as a step",
                )
            )
            return drafts
        transcript = is_transcript(token.content, info.language, self.root_convention)
        joins = False  # whether the last draft takes the transcript's next command
        for group in split_block(token.content, line, info.language, self.root_convention):
            code, at, comments = group.code, group.line, group.comments
            if not code.strip() and group.session is None:
                continue
            if "export" in code and group.session is None:
                for export_line in code.split("\n"):
                    match = _EXPORT_LINE.match(export_line)
                    value = literal_value(match.group(2)) if match else None
                    if match and value is not None:
                        self.exports.setdefault(match.group(1), value)
            command = make_command(
                code,
                at,
                comments=tuple(comments),
                info=info,
                defaults=self.exports,
                prompt=group.prompt,
                session=group.session,
            )
            if group.session is not None:
                drafts.append(_session_draft(command, group.session, comments, lead))
                self.problems.append(
                    Problem(
                        at,
                        f"`{_clip(opener(group.session))}` opens an interactive session: the lines "
                        "after it run inside it, so this is a manual step (the console does "
                        "not run them)",
                    )
                )
                lead, joins = "", False
                continue
            last = drafts[-1].commands[-1] if joins and drafts[-1].commands else None
            if last is not None and last.prompt == command.prompt:
                # A terminal session is one action: its prompts stay together in one step.
                drafts[-1].commands.append(command)
                continue
            if comments:
                text = comments[0] + ("\n\n" + " ".join(comments[1:]) if comments[1:] else "")
            else:
                text = lead or f"Run `{first_line(code).strip()}`"
            if group.prompt:
                text += f"\n\nprompt: `{group.prompt}` (run it there)"
            lead = ""
            drafts.append(_Draft(text, at, [command]))
            joins = transcript
        if drafts:
            self.read_fences.add(id(token))
            if info.language not in SHELL_LANGUAGES and info.language not in PLAIN_LANGUAGES:
                self.problems.append(
                    Problem(
                        line - 1,
                        f"`{info.language}` block holds shell commands only: read as commands",
                    )
                )
        return drafts

    def _unread_settings(self, content: str) -> bool:
        """Whether a block is only `NAME=value` lines (no `export`) whose names the runbook
        never reads (`$NAME`): lines for an env file (`K3S_RESOLV_CONF=/etc/resolv.conf`)."""
        if not _SETTING.match(content.lstrip().partition("\n")[0].rstrip()):
            return False  # the first line is no setting: most blocks
        lines = [x.strip() for x in content.split("\n") if x.strip()]
        if not lines or not all(_SETTING.match(x) for x in lines):
            return False
        names = {x.split("=", 1)[0] for x in lines}
        return not any(f"${name}" in self.text or f"${{{name}" in self.text for name in names)

    def _report_unread_fences(self) -> None:
        """A block that reads as shell but gave no command gets a problem saying why."""
        for token, holder in self.fences:
            if id(token) in self.read_fences:
                continue
            info = parse_fence_info(token.info if token.type == "fence" else "")
            line = (token.map[0] + 1) if token.map else 0
            if is_runnable_block(info, token.content, self.root_convention):
                reason: str | None = (
                    "shell block inside a quote: an aside, not read as a step"
                    if holder == "blockquote"
                    else "shell block not read as a step"
                )
            else:
                reason = unread_reason(info, token.content)
            if reason is not None:
                self.problems.append(Problem(line, reason))

    def _reference_items(self, section: _OpenSection) -> None:
        for block in section.blocks:
            if block.kind != "bullet_list" and block.kind != "ordered_list":
                continue
            for first, end, tokens in self._items(block):
                text = self._item_text(first, end)
                label, _, rest = plain_text(text).partition(":")
                codes = [code for token in tokens for code in _code_spans(token)]
                if codes and rest:
                    self._add_reference(label.strip(), codes[0], first)

    def _severities(self) -> list[Severity]:
        severities = []
        for procedure in self.procedures:
            match = _SEVERITY.match(procedure.title)
            if not match:
                continue
            level = f"{match.group(1).upper()}{match.group(2)}"
            acknowledge = escalate = None
            for step in procedure.steps:
                if step.deadline_s is None:
                    continue
                action = step.incident_action
                if action == "acknowledge" and acknowledge is None:
                    acknowledge = step.deadline_s
                elif action == "escalate" and escalate is None:
                    escalate = step.deadline_s
            severities.append(
                Severity(
                    level,
                    match.group(3).strip(),
                    acknowledge,
                    escalate,
                    procedure.key,
                    procedure.line,
                )
            )
        return severities

    def _check_duplicates(self) -> None:
        seen: dict[str, int] = {}
        for procedure in self.procedures:
            if procedure.key in seen:
                self.problems.append(
                    Problem(
                        procedure.line,
                        f"duplicate procedure title {procedure.title!r} "
                        f"(also at line {seen[procedure.key]})",
                    )
                )
            else:
                seen[procedure.key] = procedure.line


def _texts(token: Token) -> list[str]:
    """The inline markdown a token holds: an inline token's content, a table row's cells."""
    if token.type == "inline":
        return [token.content]
    if token.type == TABLE_ROW:
        cells: list[str] = token.meta["cells"]
        return cells
    return []


def _code_spans(token: Token, commands_only: bool = False) -> list[str]:
    """Code spans of an inline token or a table row, read from source (inline parsing is off).
    With `commands_only`, a span the prose names as what something is given to ("the flag
    is passed to `velero backup create`") is left out: it is a reference, not an order."""
    return [
        m.group(2).strip()
        for text in _texts(token)
        if "`" in text
        for m in _CODE_SPAN.finditer(text)
        if m.group(2).strip()
        and not (commands_only and _REFERENCED.search(text, max(0, m.start() - 40), m.start()))
    ]


def _strip_marker(line: str) -> str:
    return _MARKER.sub("", line, count=1)


def _reads_as_action(text: str) -> bool:
    """An item opening with an action verb or a decision, past any `Step 1:` label."""
    first_line = _STEP_LABEL.sub("", plain_text(text.split("\n", 1)[0]), count=1)
    return _first_word(first_line) in _ACTION_VERBS or bool(_DECISION.match(first_line))


def _gives_order(text: str) -> bool:
    """An item opening with an action verb used as a verb, past any `Step 1:` label or
    bold name (`**Apply errors**: errors that occur...` names a kind of error): stricter
    than `_reads_as_action`, for lists that mostly describe."""
    first_line = text.split("\n", 1)[0]
    if label := _NAMED_ITEM.match(first_line):
        first_line = first_line[label.end() :]
    plain = _STEP_LABEL.sub("", plain_text(first_line), count=1)
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", plain.lower())
    if not words or words[0] not in _ACTION_VERBS:
        return False
    if len(words) == 1 or words[1] in _ORDER_OBJECTS:
        return True
    # Or the verb acts on something quoted: "Restart `web`", "Delete "old-claims"".
    acted_on = re.search(rf"\b{words[0]}\s*(\S)", first_line, re.I)
    return acted_on is not None and acted_on.group(1) in "`\"'*<"


def _first_word(text: str) -> str:
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", plain_text(text))
    return words[0].lower() if words else ""


def opener(session: str) -> str:
    """The command that opens a session (its last line: earlier ones set its variables)."""
    return session.strip().rsplit("\n", 1)[-1].strip()


def _clip(code: str, width: int = 60) -> str:
    return code if len(code) <= width else code[: width - 1].rstrip() + "…"


def _session_draft(command: Command, session: str, comments: list[str], lead: str) -> _Draft:
    """A manual step: open `session`, then type its lines there (shown in a fence)."""
    inside = f"inside `{opener(session)}`"
    if comments:
        title = f"{comments[0]} ({inside})"
        if comments[1:]:
            title += "\n\n" + " ".join(comments[1:])
    elif lead:
        title = f"{lead}\n\n{inside[0].upper()}{inside[1:]}."
    else:
        first = command.code.strip().splitlines()[0].strip() if command.code.strip() else ""
        title = f"Run `{first}` {inside}" if first else f"Open `{session}`"
    body = "\n".join((session, command.code)).strip("\n")
    text = (
        f"{title}\n\nAn interactive session: open it, then type the lines after it there. "
        f"The console does not run them.\n\n```sh\n{body}\n```"
    )
    return _Draft(text, command.line, [command])


def _step(index: int, draft: _Draft) -> Step:
    plain = plain_text(draft.text.split("\n", 1)[0])
    # Code typed inside an interactive session is never one of the step's own commands.
    commands = tuple(c for c in draft.commands if c.session is None)
    inside = tuple(c for c in draft.commands if c.session is not None)
    rollout = step_rollout(commands)
    if rollout is not None and rollout.error is None:
        commands = without_host_variables(commands)
    kind: StepKind = "command" if commands else "manual"
    wait_s = deadline_s = None
    condition = outcome = None
    # A decision wins over a deadline, a deadline over a wait: look no further than needed.
    if decision := _DECISION.match(plain):
        kind = "decision"
        condition, outcome = decision.group(1) or "otherwise", decision.group(2)
    elif deadline := _DEADLINE.search(plain):
        kind = "deadline"
        deadline_s = parse_duration(deadline.group(1) + deadline.group(2))
    elif wait := _WAIT.search(plain):
        kind = "wait"
        wait_s = parse_duration(wait.group(1) + wait.group(2))
    return Step(
        index=index,
        text=draft.text,
        line=draft.line,
        kind=kind,
        commands=commands,
        wait_s=wait_s,
        deadline_s=deadline_s,
        condition=condition,
        outcome=outcome,
        session=inside[0].session if inside else None,
        session_commands=inside,
        session_from=draft.session_from if inside else None,
        admonitions=tuple(draft.admonitions),
        rollout=rollout,
    )
