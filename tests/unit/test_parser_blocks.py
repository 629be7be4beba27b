"""runbook.blocks finds the same blocks as markdown-it's own rules, in fewer tokens."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from runbook.blocks import MAX_NESTING, markdown

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
    """What the parser reads of each token; table cells as rows of `inline` tokens."""
    kept = ("table_open", "table_close", "tr_open", "tr_close", "inline")
    table_depth = 0
    shaped: list[tuple[object, ...]] = []
    for token in tokens:
        table_depth += token.type == "table_open"
        table_depth -= token.type == "table_close"
        if table_depth and token.type not in kept:
            continue
        shaped.append((token.type, token.map, token.level, token.content, token.info))
    return shaped


def test_seed_blocks_match_markdown_it() -> None:
    text = SEED.read_text(encoding="utf-8")
    assert shape(BLOCKS.parse(text)) == shape(REFERENCE.parse(text))


def test_table_is_rows_of_cells() -> None:
    tokens = BLOCKS.parse("| a | b |\n|---|---|\n| 1 |\n| 2 | 3 | 4 |\n")
    assert [(t.type, t.content) for t in tokens] == [
        ("table_open", ""),
        ("tr_open", ""), ("inline", "a"), ("inline", "b"), ("tr_close", ""),
        ("tr_open", ""), ("inline", "1"), ("inline", ""), ("tr_close", ""),
        ("tr_open", ""), ("inline", "2"), ("inline", "3"), ("tr_close", ""),
        ("table_close", ""),
    ]  # fmt: skip
    assert tokens[0].map == [0, 4]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_any_document_blocks_match_markdown_it(text: str) -> None:
    assert shape(BLOCKS.parse(text)) == shape(REFERENCE.parse(text))
