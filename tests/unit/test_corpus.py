"""Every public runbook of ../shared/corpus opens: check exits 0 or 1, never 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.document.check import check_file
from runbook.document.parser import load

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
FILES = sorted(CORPUS.rglob("*.md")) if CORPUS.exists() else []

pytestmark = pytest.mark.skipif(not FILES, reason="../shared/corpus is not beside this checkout")


def test_corpus_is_there() -> None:
    assert len(FILES) >= 100


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_runbook(path: Path) -> None:
    result = check_file(str(path))
    assert result["readable"], result
    runbook = load(path)
    if "```" in path.read_text(encoding="utf-8", errors="replace"):
        commands = [c for p in runbook.procedures for s in p.steps for c in s.commands]
        assert runbook.procedures or commands, f"{path.name}: a fenced block but nothing found"


def test_corpus_commands_found_widely() -> None:
    """Most corpus runbooks with a shell block yield at least one runnable command."""
    with_shell = [p for p in FILES if "```shell" in p.read_text(encoding="utf-8")]
    found = [
        p for p in with_shell if any(s.commands for pr in load(p).procedures for s in pr.steps)
    ]
    assert len(found) == len(with_shell)
