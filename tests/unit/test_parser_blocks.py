"""runbook.document.blocks finds the blocks and cells markdown-it finds, in fewer tokens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.fence import fence as markdown_it_fence
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from runbook.document import blocks
from runbook.document.blocks import MAX_NESTING, TABLE_ROW, markdown

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed_runbook.md"
LINES = st.sampled_from(
    ["# Title", "## Section", "1. Check `kubectl get pod x`", "2. Restart", "10) ten", "- item",
     "* star", "+ plus", "- [link](http://a)", "> quote", "> | a | b |", "| Metric | Warning |",
     "|---|---|", ":--|--:", "| CPU | > 70% |", "a | b", "--- | ---", "| a \\| b | c |", "```bash",
     "```", "~~~", "$ kubectl get pods", "# comment", "make rollback", "---", "***", "___", "",
     "text", "**Label:** value", "<div>", "    indented", "[ref]: http://r", "===", "- | x | y |",
     "  |---|---|", "\t- tab", "#no-space", "-", "1.", "`", "|", "|-|", "|:-:|", "- |", "-|-",
     "| - |", "|--|--", "--:|", ":-", "| |", "a|b|c", "|a|", "\\|", "-:|:-", "||", "|-||-|",
     "- | -", "|\t-|", "-- |", "| x | `a|b` |"]
)  # fmt: skip
INDENTS = st.sampled_from(["", "", "", " ", "  ", "   ", "    ", "      ", "\t"])
DOCUMENTS = st.lists(st.tuples(INDENTS, LINES), max_size=60).map(
    lambda lines: "\n".join(indent + line for indent, line in lines)
)
ITEMS = st.tuples(
    st.sampled_from(["1.", "2.", "1)", "-", "-", "*", "+", "0.", "1234567890.", ""]),
    st.sampled_from([" ", " ", "  ", "    ", "     ", "\t", ""]),
    st.sampled_from(
        [
            "Restart",
            "Check `kubectl get x`",
            "**Note:** y",
            "** x",
            "*x*",
            "``x",
            "```sh",
            "~~~",
            "> q",
            "# h",
            "- nested",
            "1. nested",
            "* * *",
            "a | b",
            "",
            " ",
            "\u00a0x",
            "x  ",
            "9 a",
        ]
    ),  # fmt: skip
).map("".join)
LIST_DOCUMENTS = st.lists(
    st.one_of(ITEMS, ITEMS, st.sampled_from(["", "", "text", "  more", "    code", "```", "---"])),
    max_size=12,
).map("\n".join)


def reference() -> MarkdownIt:
    """markdown-it with every rule tried on every line and its own table rule."""
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).enable("table")
    md.use(front_matter_plugin)
    md.core.ruler.disable(["inline", "text_join"])
    md.block.ruler.disable(["html_block", "lheading", "reference"])
    return md


BLOCKS = markdown()
REFERENCE = reference()


def shape(tokens: list[Token]) -> list[tuple[object, ...]]:
    """Every field of each token; a table row as its cells, at its cells' level."""
    shaped: list[tuple[object, ...]] = []
    row: list[str] | None = None
    for token in tokens:
        if token.type == TABLE_ROW:
            shaped.append(("row", token.map, token.level, token.meta["cells"]))
        elif token.type == "tr_open":
            row, row_map = [], token.map
        elif token.type == "tr_close" and row is not None:
            shaped.append(("row", row_map, token.level + 2, row))
            row = None
        elif row is not None:
            if token.type == "inline":
                row.append(token.content)
        elif token.type not in ("thead_open", "thead_close", "tbody_open", "tbody_close"):
            shaped.append(tuple(token.as_dict().items()))
    return shaped


def test_seed_blocks_match_markdown_it() -> None:
    text = SEED.read_text(encoding="utf-8")
    assert shape(BLOCKS.parse(text)) == shape(REFERENCE.parse(text))


def test_table_is_rows_of_cells() -> None:
    tokens = BLOCKS.parse("| a | b |\n|---|---|\n| 1 |\n| 2 | 3 | 4 |\n")
    assert [(t.type, t.map, t.meta.get("cells")) for t in tokens] == [
        ("table_open", [0, 4], None),
        (TABLE_ROW, [0, 1], ["a", "b"]),
        (TABLE_ROW, [2, 3], ["1", ""]),
        (TABLE_ROW, [3, 4], ["2", "3"]),
        ("table_close", None, None),
    ]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_any_document_blocks_match_markdown_it(text: str) -> None:
    assert shape(BLOCKS.parse(text)) == shape(REFERENCE.parse(text))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LIST_DOCUMENTS)
def test_any_list_blocks_match_markdown_it(text: str) -> None:
    assert shape(BLOCKS.parse(text)) == shape(REFERENCE.parse(text))


FENCE_LINES = st.sampled_from(
    ["```", "````", "```sh", "``` `x`", "```  ", "~~~", "~~~~ text", "``", "echo x", "", " ",
     "- ```sh", "1. ```", "* item", "> ```", "> echo", ">", "text", "# h", "````` x", "`~~`",
     "~~~ `ok`", "\t```", "  \t~~~", "| a | b |", "|---|---|"]
)  # fmt: skip
FENCE_INDENTS = st.sampled_from(["", "", " ", "  ", "   ", "    ", "     ", "       "])
FENCE_DOCUMENTS = st.lists(st.tuples(FENCE_INDENTS, FENCE_LINES), max_size=40).map(
    lambda lines: "\n".join(indent + line for indent, line in lines)
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FENCE_DOCUMENTS)
def test_any_fence_blocks_match_markdown_it(text: str) -> None:
    """The fence rule that searches the text ends and cuts fences where markdown-it's does:
    closers of every length and indentation, less indented text in a list item, fences in
    quotes and list items, tabs."""
    assert shape(BLOCKS.parse(text)) == shape(REFERENCE.parse(text))


def test_a_huge_fence_is_read_by_searching_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 100,000-line fence in a list item: markdown-it's rule, which looks at each line in
    Python, is not called, and the tokens are markdown-it's."""
    body = "\n".join(f"   echo line {n}" for n in range(100_000))
    text = f"# Huge\n\n1. Run:\n\n   ```bash\n{body}\n   ```\n\n   after\n2. Next\n"
    calls: list[int] = []

    def counted(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        calls.append(start)
        return markdown_it_fence(state, start, end, silent)

    monkeypatch.setattr(blocks, "markdown_it_fence", counted)
    tokens = markdown().parse(text)
    (fence,) = [token for token in tokens if token.type == "fence"]
    assert not calls
    assert fence.content.count("\n") == 100_000
    assert fence.content.startswith("echo line 0\necho line 1\n")
    assert fence.content.endswith("echo line 99999\n")
    assert shape(tokens) == shape(REFERENCE.parse(text))


def test_a_quoted_or_tabbed_fence_is_read_by_markdown_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the text's own lines are not what the rule reads (a quote moves each line's
    start past its `>`; a tab counts to the next multiple of four), markdown-it's rule reads
    the fence, and the tokens are still markdown-it's."""
    calls: list[int] = []

    def counted(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        calls.append(start)
        return markdown_it_fence(state, start, end, silent)

    monkeypatch.setattr(blocks, "markdown_it_fence", counted)
    for text in ("> ```sh\n> echo a\n> ```\n", "- x\n\n  ```sh\n\techo a\n  ```\n"):
        calls.clear()
        assert shape(BLOCKS.parse(text)) == shape(REFERENCE.parse(text))
        assert calls, text


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(["", " ", "  ", "   ", "    ", "x", " x", "  x", "   x", "\tx"])).map(
        "\n".join
    ),
    st.integers(min_value=0, max_value=4),
)
def test_outdent_takes_off_what_a_multiline_caret_would(text: str, width: int) -> None:
    expected = re.sub(rf"^ {{1,{width}}}", "", text, flags=re.MULTILINE) if width else text
    assert blocks.outdent(text, width) == expected
