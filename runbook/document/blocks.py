"""markdown-it configured to read a runbook's block structure, and nothing more.

The parser needs blocks only (headings, lists, fences, tables, paragraphs): inline
parsing is off, and two changes make the block pass cheaper without changing
which blocks it finds. Each line tries only the rules its first character can
start (`_FirstCharRuler`), and a table is one token per row holding its cells
(`_table`), not markdown-it's thead/tbody/tr/th/td/inline tokens.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate, repeat
from operator import add, sub

from markdown_it import MarkdownIt
from markdown_it.common.utils import mdTrim
from markdown_it.ruler import Ruler
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.fence import fence as markdown_it_fence
from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS, escapedSplit
from markdown_it.rules_core import StateCore
from markdown_it.rules_core.normalize import normalize as markdown_it_normalize
from markdown_it.token import Token
from markdown_it.utils import EnvType
from mdit_py_plugins.front_matter import front_matter_plugin

MAX_NESTING = 40
"""markdown-it stops reading blocks nested deeper than this; the parser warns when that happens."""

BlockRule = Callable[[StateBlock, int, int, bool], bool]
TABLE_ROW = "table_row"
"""The token type of a table row; its cells, as markdown-it splits them, are in `meta["cells"]`."""

_FIRST_CHARACTERS: dict[str, str] = {
    "fence": "`~",
    "blockquote": ">",
    "hr": "*-_",
    "list": "*-+0123456789",
    "simple_list": "*-+0123456789",
    "heading": "#",
}
"""The characters a line must start with (after indentation) for a rule to match it.

Each of these rules returns False at once, with no side effect, on any other first
character; rules not named here (table, paragraph, plugins) are tried on every line.
"""
_INDEXED = "".join(sorted(set("".join(_FIRST_CHARACTERS.values()))))
_DELIMITER_ROW = re.compile(r"(?:[|:][-|: \t]|-[-|:])[-|: \t]*")
"""A table's second line: pipes, dashes, colons and blanks, not starting like a list item."""
_DELIMITER_CELL = re.compile(r":?-+:?")
_FIRST_LINE_ONLY = frozenset({"front_matter"})
"""Rules that return False at once on any line but the document's first."""


def markdown(line_markers: bool = True) -> MarkdownIt:
    """A block-only CommonMark parser with tables and front matter; `line_markers` False
    leaves markdown-it's own line scan (`_LineState`) in place, to compare with."""
    # tasklists is off by default; set, it spares the list rule a KeyError per item.
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING, "tasklists": False})
    md.enable("table")
    md.use(front_matter_plugin)
    # Only block structure is needed: code spans and links are read from inline
    # source with two regexes, which halves parse time on large runbooks.
    md.core.ruler.disable(["inline", "text_join"])
    md.block.ruler.disable(["html_block", "lheading", "reference"])
    md.block.ruler.at("table", _table, {"alt": ["paragraph", "reference"]})
    md.block.ruler.before("list", "simple_list", _simple_list)
    md.core.ruler.at("normalize", _normalize)
    if line_markers:
        alt = ["paragraph", "reference", "blockquote", "list"]  # as markdown-it's fence rule
        md.block.ruler.at("fence", _fence, {"alt": alt})
    ruler = _FirstCharRuler()
    ruler.__rules__ = md.block.ruler.__rules__
    md.block.ruler = ruler
    if line_markers:
        block = md.block

        def parse_blocks(
            src: str, md: MarkdownIt, env: EnvType, out_tokens: list[Token]
        ) -> list[Token] | None:
            """`ParserBlock.parse`, on a `_LineState`."""
            if not src:
                return None
            state = _LineState(src, md, env, out_tokens)
            block.tokenize(state, state.line, state.lineMax)
            return state.tokens

        block.parse = parse_blocks  # type: ignore[method-assign,assignment]
    return md


class _LineState(StateBlock):
    """markdown-it's block state, its line markers (where each line begins and ends, its
    indentation) found a line at a time with string methods, where markdown-it looks at
    each leading blank in turn: a 100,000-line fence spent 0.1 s there. The markers are
    the same (tested on the corpus)."""

    def __init__(self, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]) -> None:
        super().__init__("", md, env, tokens)  # every other field as markdown-it sets it
        self.src = src
        lines = src.split("\n")
        # The text after a final line break, or a final line of blanks alone, is no line.
        if not lines[-1].strip(" \t"):
            lines.pop()
        # Each list made by `map` over the lines (C speed), not by a Python loop.
        lengths = list(map(len, lines))
        begins = list(accumulate(map(add, lengths, repeat(1)), initial=0))
        begins.pop()
        shifts = list(map(sub, lengths, map(len, map(str.lstrip, lines, repeat(" \t")))))
        if "\t" in src:
            counts = [_columns(line[:shift]) for line, shift in zip(lines, shifts, strict=True)]
        else:
            counts = shifts.copy()
        end = len(src)
        self.bMarks = [*begins, end]
        self.eMarks = [*map(add, begins, lengths), end]
        self.tShift = [*shifts, 0]
        self.sCount = [*counts, 0]
        self.bsCount = [0] * (len(lines) + 1)
        self.lineMax = len(lines)
        self.pristine = (self.bMarks.copy(), self.tShift.copy(), self.sCount.copy())
        """The line markers as found in the text: a blockquote moves those of its lines
        while it reads them, and `_fence` reads the text itself only where none moved."""

    def unmoved(self, begin: int, end: int) -> bool:
        """Whether lines `begin` to `end` (exclusive) have the markers the text gives them."""
        b_marks, t_shift, s_count = self.pristine
        return (
            self.bMarks[begin:end] == b_marks[begin:end]
            and self.tShift[begin:end] == t_shift[begin:end]
            and self.sCount[begin:end] == s_count[begin:end]
            and not any(self.bsCount[begin:end])
        )


def _columns(blanks: str) -> int:
    """How many columns leading blanks take, a tab reaching the next multiple of 4."""
    offset = 0
    for char in blanks:
        offset += 4 - offset % 4 if char == "\t" else 1
    return offset


def _fence(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """markdown-it's fence rule, its block's end and text found by searching the text (C
    speed) instead of looking at each line in Python: a 100,000-line fence spent some
    0.07 s there, before the first frame. Where the search cannot stand in for the lines
    (tabs, a blockquote's moved markers), markdown-it's own rule reads the block. The
    tokens are the same (tested against markdown-it on generated and corpus text)."""
    if silent or not isinstance(state, _LineState) or state.is_code_block(start_line):
        return markdown_it_fence(state, start_line, end_line, silent)
    src = state.src
    pos = state.bMarks[start_line] + state.tShift[start_line]
    maximum = state.eMarks[start_line]
    marker = src[pos : pos + 1]
    if pos + 3 > maximum or marker not in ("`", "~"):
        return False
    markup_end = pos
    while markup_end < maximum and src[markup_end] == marker:
        markup_end += 1
    if markup_end - pos < 3:
        return False
    markup, params = src[pos:markup_end], src[markup_end:maximum]
    if marker == "`" and "`" in params:
        return False
    found = _fence_end(state, start_line, end_line, marker, len(markup))
    if found is None:
        return markdown_it_fence(state, start_line, end_line, silent)
    next_line, closed = found
    state.line = next_line + (1 if closed else 0)
    token = state.push("fence", "code", 0)
    token.info = params
    token.content = _fence_text(state, start_line + 1, next_line, state.sCount[start_line])
    token.markup = markup
    token.map = [start_line, state.line]
    return True


@lru_cache(maxsize=64)
def _fence_stop(indent: int, marker: str) -> re.Pattern[str]:
    """A line break before a line that may end a fence at `indent`: less indented text, or
    the fence's marker. (Led by the line break: `^` with MULTILINE is tried at every
    character, three times slower.)"""
    lesser = rf"\n {{0,{indent - 1}}}[^ \n]|" if indent > 0 else ""
    return re.compile(rf"{lesser}\n *{re.escape(marker)}")


def _fence_end(
    state: _LineState, start_line: int, end_line: int, marker: str, length: int
) -> tuple[int, bool] | None:
    """(the line that ends the fence opened at `start_line`, whether it closes it), as
    markdown-it's rule finds it; None where the text cannot be searched for it (tabs, moved
    line markers): markdown-it's rule must read the lines."""
    first = start_line + 1
    if first >= end_line:
        return end_line, False
    src, b_marks, e_marks = state.src, state.bMarks, state.eMarks
    stop = _fence_stop(state.blkIndent, marker)
    # From the line break that ends the opener's line to the last line's end.
    search_from, search_end = b_marks[first] - 1, e_marks[end_line - 1]
    line, closed = end_line, False
    while True:
        found = stop.search(src, search_from, search_end)
        if found is None:
            break
        candidate = bisect_right(b_marks, found.start() + 1, first, end_line) - 1
        begin = b_marks[candidate] + state.tShift[candidate]
        maximum = e_marks[candidate]
        if begin < maximum and state.sCount[candidate] < state.blkIndent:
            line = candidate  # less indented text ends the list item, and the fence
            break
        if src[begin] == marker and not state.is_code_block(candidate):
            run_end = begin
            while run_end < maximum and src[run_end] == marker:
                run_end += 1
            if run_end - begin >= length and not src[run_end:maximum].strip(" \t"):
                line, closed = candidate, True
                break
        search_from = maximum
        if search_from >= search_end:
            break
    last = min(line + 1, end_line)
    if "\t" in src[b_marks[first] : e_marks[last - 1]] or not state.unmoved(first, last):
        return None
    return line, closed


def _fence_text(state: StateBlock, first: int, end: int, indent: int) -> str:
    """`state.getLines(first, end, indent, True)` for lines without tabs whose markers are
    the text's: each line with up to `indent` leading blanks taken off, in one pass."""
    if first >= end:
        return ""
    return outdent(state.src[state.bMarks[first] : state.eMarks[end - 1] + 1], indent)


def outdent(text: str, width: int) -> str:
    """`text` with up to `width` spaces taken off the start of each line (after each
    `\n`). Where every line that starts with a space has `width` of them, one replace;
    else one substitution led by the line break (`^` with MULTILINE is tried at every
    character: a 100,000-line fence took 27 ms that way, 9 ms this way)."""
    if not width or not text:
        return text
    head, short, each = _outdent(width)
    text = text[head.match(text).end() :]  # type: ignore[union-attr]
    if short is None or short.search(text) is None:
        return text.replace("\n" + " " * width, "\n")
    return each.sub("\n", text)


@lru_cache(maxsize=16)
def _outdent(width: int) -> tuple[re.Pattern[str], re.Pattern[str] | None, re.Pattern[str]]:
    """The spaces `width` takes off the first line; a line with fewer than `width` spaces
    before its text (None for a width of 1); the spaces to take off after each break."""
    short = re.compile(rf"\n {{1,{width - 1}}}(?! )") if width > 1 else None
    return re.compile(rf" {{0,{width}}}"), short, re.compile(rf"\n {{1,{width}}}")


def _normalize(state: StateCore) -> None:
    """markdown-it's `normalize` core rule, which makes every line break `\n` and every NUL
    U+FFFD, without its two substitutions where neither is in the text (they replaced each
    of a 100,000-line fence's line breaks by itself)."""
    if "\r" in state.src or "\0" in state.src:
        markdown_it_normalize(state)


class _FirstCharRuler(Ruler[BlockRule]):
    """A block ruler whose every chain is one rule: a dispatch on the line's first character.

    markdown-it tries each rule of a chain in turn on every line (and on every line
    of a paragraph, to see whether it ends); most fail on the first character. The
    dispatch keeps each chain's order and tries only the rules that can match.
    Indented code lines and the document's first line go through the whole chain;
    front matter is looked for on the first line only.
    """

    def __compile__(self) -> None:
        super().__compile__()
        assert self.__cache__ is not None
        named = {
            chain: [(rule.name, rule.fn) for rule in self.__rules__ if rule.fn in rules]
            for chain, rules in self.__cache__.items()
        }
        self.__cache__ = {chain: [_dispatch(rules)] for chain, rules in named.items()}


def _dispatch(named_rules: list[tuple[str, BlockRule]]) -> BlockRule:
    every_rule = tuple(fn for _, fn in named_rules)

    def candidates(character: str | None, pipe: bool) -> tuple[BlockRule, ...]:
        """The rules that can match a line starting with `character` (None: any other)."""
        return tuple(
            fn
            for name, fn in named_rules
            if name not in _FIRST_LINE_ONLY
            and (
                name not in _FIRST_CHARACTERS
                or (character is not None and character in _FIRST_CHARACTERS[name])
            )
            and (pipe or name != "table")
        )

    # For each first character: the rules for a line with a pipe, and for one without.
    by_character = {c: (candidates(c, True), candidates(c, False)) for c in _INDEXED}
    other = (candidates(None, True), candidates(None, False))

    def dispatch(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        # Indented code (or what would be, if the code rule were off) and the first line
        # (front matter) go through the whole chain.
        if start_line == 0 or state.sCount[start_line] - state.blkIndent >= 4:
            rules = every_rule
        else:
            position = state.bMarks[start_line] + state.tShift[start_line]
            with_pipe, without_pipe = by_character.get(state.src[position : position + 1], other)
            if state.src.find("|", position, state.eMarks[start_line]) < 0:
                rules = without_pipe  # a table's header row has a pipe
            else:
                rules = with_pipe
        for rule in rules:  # noqa: SIM110 (any() over a generator is slower on this hot path)
            if rule(state, start_line, end_line, silent):
                return True
        return False

    return dispatch


_ITEM_MARKER = re.compile(r"(?:(\d{1,9})([.)])|([-*+])) {1,4}")
"""A list item's marker and the one to four spaces before its text."""
_BLOCK_STARTS = frozenset("`~>*-_+#0123456789")
"""First characters with which an item's text might start a block of its own."""


def _simple_list(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A top-level tight list of one-line items, tokenised as markdown-it's list rule does.

    Most runbook lists are this: `1. Restart the service` on consecutive lines. The
    list rule reads each item with a nested block pass, which makes lists most of
    markdown-it's time; here the same tokens (maps, levels, markup, info, hidden
    paragraphs, `start`) come from one look at each line. Anything else (nesting,
    indentation, tabs, pipes, continuation lines, blank lines between items, text
    that could start a block) returns False, and the list rule reads the list.
    """
    if (
        silent
        or start_line == 0
        or state.level != 0
        or state.blkIndent != 0
        or state.listIndent != -1
        or state.parentType != "root"
        or end_line != state.lineMax
    ):
        return False
    items: list[tuple[int, str, int]] = []  # (line, item number, where its text starts)
    marker = ""
    line = start_line
    while True:
        item = _simple_item(state, line)
        if item is None or (marker and item[0] != marker):
            return False
        marker = item[0]
        items.append((line, item[1], item[2]))
        line += 1
        if line >= end_line:
            list_end = end_line
            break
        if state.isEmpty(line):
            list_end = state.skipEmptyLines(line)
            if list_end < end_line and (
                state.sCount[list_end] != 0 or _may_continue(state, list_end, marker)
            ):
                return False  # the list might go on, loose or nested
            break

    ordered = items[0][1] != ""
    kind, tag = ("ordered_list", "ol") if ordered else ("bullet_list", "ul")
    level = state.level
    opening = Token(f"{kind}_open", tag, 1, map=[start_line, list_end], level=level)
    opening.markup, opening.block = marker, True
    if ordered and int(items[0][1]) != 1:
        opening.attrs = {"start": int(items[0][1])}
    tokens = state.tokens
    tokens.append(opening)
    src, ends = state.src, state.eMarks
    for index, (line, number, text_start) in enumerate(items):
        item_end = items[index + 1][0] if index + 1 < len(items) else list_end
        line_map = [line, line + 1]
        tokens += (
            Token("list_item_open", "li", 1, map=[line, item_end], level=level + 1,
                  markup=marker, info=number, block=True),
            Token("paragraph_open", "p", 1, map=line_map, level=level + 2, block=True,
                  hidden=True),
            Token("inline", "", 0, map=line_map, level=level + 3,
                  content=mdTrim(src[text_start : ends[line]]), children=[], block=True),
            Token("paragraph_close", "p", -1, level=level + 2, block=True, hidden=True),
            Token("list_item_close", "li", -1, level=level + 1, markup=marker, block=True),
        )  # fmt: skip
    tokens.append(Token(f"{kind}_close", tag, -1, level=level, markup=marker, block=True))
    state.line = list_end
    return True


def _simple_item(state: StateBlock, line: int) -> tuple[str, str, int] | None:
    """(marker character, number or "", start of text) of a plain one-line item, else None."""
    if state.sCount[line] != 0:
        return None
    begin, end = state.bMarks[line], state.eMarks[line]
    match = _ITEM_MARKER.match(state.src, begin, end)
    if match is None or match.end() >= end:
        return None
    text_start = match.end()
    first = state.src[text_start]
    if first.isspace() or "|" in state.src[begin:end]:
        return None
    if first in _BLOCK_STARTS and not _safe_start(state.src, text_start):
        return None
    number = match.group(1) or ""
    return (match.group(2) or match.group(3)), number, text_start


def _safe_start(src: str, text_start: int) -> bool:
    """Text opening with a code span or bold (not a fence, rule or nested list marker)."""
    if src.startswith("`", text_start):
        return not src.startswith("``", text_start + 1)  # a fence needs three
    after_bold = src[text_start + 2 : text_start + 3]
    return src.startswith("**", text_start) and after_bold not in ("", "*", " ", "\t", "\n")


def _may_continue(state: StateBlock, line: int, marker: str) -> bool:
    """Whether `line` may be another item of a list marked `marker` (which makes it loose)."""
    position = state.bMarks[line] + state.tShift[line]
    if marker in ".)":
        return state.src[position : position + 1].isdigit()
    return state.src.startswith(marker, position)


def _table(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """GFM tables as `table_open`, one `TABLE_ROW` token per row, `table_close`.

    Tables start, end and split into cells where markdown-it's table rule has them,
    with the same line maps, but in a fifth of the tokens and without the
    per-character loops.
    """
    header = _table_header(state, start_line, end_line)
    if header is None:
        return False
    if silent:
        return True
    column_count = len(header)
    level = state.level
    opening = Token("table_open", "table", 1, map=[start_line, 0], level=level, block=True)
    tokens = state.tokens
    tokens.append(opening)
    _row(tokens, start_line, header, column_count, level)

    old_parent_type = state.parentType
    state.parentType = "table"
    # Like markdown-it: what ends a blockquote ends a table.
    terminators = state.md.block.ruler.getRules("blockquote")
    autocompleted_cells = 0
    next_line = start_line + 2
    while next_line < end_line:
        if state.sCount[next_line] < state.blkIndent:
            break
        if any(rule(state, next_line, end_line, True) for rule in terminators):
            break
        text = _line_text(state, next_line)
        if not text:
            break
        if state.is_code_block(next_line):
            break
        cells = _cells(text)
        autocompleted_cells += column_count - len(cells)
        if autocompleted_cells > MAX_AUTOCOMPLETED_CELLS:
            break
        _row(tokens, next_line, cells, column_count, level)
        next_line += 1

    tokens.append(Token("table_close", "table", -1, level=level, block=True))
    opening.map = [start_line, next_line]
    state.parentType = old_parent_type
    state.line = next_line
    return True


def _table_header(state: StateBlock, start_line: int, end_line: int) -> list[str] | None:
    """The header cells if a table starts at `start_line`, by markdown-it's rules; else None."""
    begin = state.bMarks[start_line] + state.tShift[start_line]
    if state.src.find("|", begin, state.eMarks[start_line]) < 0:
        return None  # the header needs a pipe
    delimiter_line = start_line + 1
    if (
        start_line + 2 > end_line
        or state.sCount[delimiter_line] < state.blkIndent
        or state.is_code_block(delimiter_line)
        or state.is_code_block(start_line)
    ):
        return None
    begin = state.bMarks[delimiter_line] + state.tShift[delimiter_line]
    delimiter = state.src[begin : state.eMarks[delimiter_line]]
    if not _DELIMITER_ROW.fullmatch(delimiter):
        return None
    columns = delimiter.split("|")
    aligned_columns = 0
    for index, column in enumerate(columns):
        column = mdTrim(column)
        if not column:
            # Empty columns are allowed before and after the table, not between columns.
            if index == 0 or index == len(columns) - 1:
                continue
            return None
        if not _DELIMITER_CELL.fullmatch(column):
            return None
        aligned_columns += 1
    header = _cells(_line_text(state, start_line))
    if not header or len(header) != aligned_columns:
        return None
    return header


def _line_text(state: StateBlock, line: int) -> str:
    begin = state.bMarks[line] + state.tShift[line]
    return mdTrim(state.src[begin : state.eMarks[line]])


def _cells(text: str) -> list[str]:
    """A row's cells, split at pipes not escaped by a backslash."""
    cells = escapedSplit(text) if "\\" in text else text.split("|")
    if cells and cells[0] == "":
        cells.pop(0)
    if cells and cells[-1] == "":
        cells.pop()
    return cells


def _row(tokens: list[Token], line: int, cells: list[str], column_count: int, level: int) -> None:
    """One row of a table at `level`, padded or cut to the header's `column_count` cells.

    The row sits at the level markdown-it gives a cell's text (inside tr and th/td),
    so the parser's nesting check sees the same depth.
    """
    kept = [mdTrim(cell) for cell in cells[:column_count]]
    kept.extend([""] * (column_count - len(kept)))
    tokens.append(
        Token(
            TABLE_ROW,
            "tr",
            0,
            map=[line, line + 1],
            level=level + 4,
            meta={"cells": kept},
            block=True,
        )
    )
