"""Arbitrary text: the parser returns a Runbook or the loader a LoadError, nothing else."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook.document.parser import LoadError, load, parse
from runbook.model import Runbook

MARKDOWN_BITS = st.sampled_from(
    ["# ", "## ", "- ", "1. ", "> ", "```", "```bash\n", "`", "|", "---\n", "$ ", "\n", "  ",
     "make deploy", "kubectl get $POD", "<previous-sha>", "within 5 minutes", "If ok: go",
     "| Metric | Warning | Critical |", "**", "[a](b)", "\t", "# comment\n", "{ name=x }",
     "\r", "\r\n", "\x00"]
)  # fmt: skip
DOCUMENTS = st.one_of(
    st.text(max_size=2000),
    st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=20)), max_size=200).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_parse_any_text(text: str) -> None:
    runbook = parse(text)
    assert isinstance(runbook, Runbook)
    runbook.to_dict()
    for procedure in runbook.procedures:
        assert procedure.steps
        assert [s.index for s in procedure.steps] == list(range(1, len(procedure.steps) + 1))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=3000))
def test_load_any_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "any.md"
    path.write_bytes(data)
    try:
        runbook = load(path)
    except LoadError as error:
        assert error.exit_code == 2
        assert "\n" not in str(error) and str(path) in str(error)
    else:
        assert isinstance(runbook, Runbook)


def test_a_line_too_long_to_draw_is_refused_in_one_line(tmp_path: Path) -> None:
    from runbook.document.parser import MAX_LINE_BYTES

    path = tmp_path / "huge.md"
    path.write_text("# Big\n\n## P\n\n```bash\necho " + "x" * (MAX_LINE_BYTES + 1) + "\n```\n")
    try:
        load(path)
    except LoadError as error:
        message = str(error)
    else:
        raise AssertionError("a 100,000-byte line was accepted")
    assert "\n" not in message and "line 6 is 100,006 bytes long" in message
    path.write_text("# Big\n\n## P\n\n```bash\necho " + "x" * (MAX_LINE_BYTES - 10) + "\n```\n")
    assert load(path).procedures[0].steps  # up to the limit it opens
