"""Every public runbook of ../shared/corpus opens (check exits 0 or 1, never 2), and
no shell block in it vanishes: each gives a step or a problem saying why it did not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runbook.document import commands
from runbook.document.blocks import markdown
from runbook.document.check import check_file
from runbook.document.commands import KNOWN_PROGRAMS, SHELL_LANGUAGES
from runbook.document.parser import load
from tests.required import unavailable

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
FILES = sorted(CORPUS.rglob("*.md")) if CORPUS.exists() else []


@pytest.fixture(autouse=True)
def corpus_present() -> None:
    if not FILES:
        unavailable("../shared/corpus is not beside this checkout")


_PROMPT = re.compile(r"^\s*(?:\S{0,60}?\s?(?:->|[$#>%])\s+)?")
"""Any prompt a transcript line may start with: `$ `, `# `, `-> `, `host:~# `, `[c1]$ `."""


def shell_blocks(text: str) -> list[tuple[int, int]]:
    """First and last lines of the blocks an operator would take for shell: labelled so, or
    unlabelled with a line that is a known program and an argument, after any prompt."""
    found = []
    for token in markdown().parse(text):
        if token.type not in ("fence", "code_block") or not token.map:
            continue
        language = token.info.strip().split(" ")[0].lower() if token.type == "fence" else ""
        if language in SHELL_LANGUAGES:
            found.append((token.map[0] + 1, token.map[1]))
        elif language in ("", "text", "txt", "plain", "plaintext"):
            for line in token.content.split("\n"):
                words = line[_PROMPT.match(line).end() :].split()  # type: ignore[union-attr]
                if len(words) > 1 and words[0] in KNOWN_PROGRAMS:
                    found.append((token.map[0] + 1, token.map[1]))
                    break
    return found


def test_corpus_is_there() -> None:
    assert len(FILES) >= 100


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_runbook(path: Path) -> None:
    result = check_file(str(path))
    assert result["readable"], result
    runbook = load(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    command_lines = {
        c.line
        for p in runbook.procedures
        for s in p.steps
        for c in (*s.commands, *s.session_commands)  # a session's lines make a manual step
    }
    problem_lines = {p.line for p in runbook.problems}
    for first, last in shell_blocks(text):
        assert any(first <= line <= last for line in command_lines) or first in problem_lines, (
            f"{path.name}:{first}: a shell block gives neither a step nor a problem"
        )
    assert not [p for p in runbook.problems if p.message == "shell block not read as a step"]


def test_corpus_commands_found_widely() -> None:
    """Every corpus runbook with a shell block yields at least one command: runnable, or
    typed into a session (NodeFilesystemSpaceFillingUp's only commands after its
    `kubectl debug node/…` + `chroot /host` fence are the `exit`s of that session)."""
    with_shell = [p for p in FILES if "```shell" in p.read_text(encoding="utf-8")]
    found = [
        p
        for p in with_shell
        if any(s.commands or s.session_commands for pr in load(p).procedures for s in pr.steps)
    ]
    assert len(found) == len(with_shell)


def test_the_plain_line_shortcut_splits_every_corpus_block_as_the_long_way_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`split_block` takes a line `PLAIN_COMMAND` matches without reading it further: every
    fence of the corpus splits the same with the shortcut and without it."""
    blocks = [
        (token.content, token.info.strip().split(" ")[0].lower())
        for path in FILES
        for token in markdown().parse(path.read_text(encoding="utf-8", errors="replace"))
        if token.type == "fence"
    ]
    fast = [commands.split_block(content, 1, language) for content, language in blocks]
    assert (
        sum(
            bool(commands.PLAIN_COMMAND.fullmatch(line))
            for c, _ in blocks
            for line in c.split("\n")
        )
        > 300
    ), "the shortcut is taken"
    monkeypatch.setattr(commands, "PLAIN_COMMAND", re.compile(r"(?!)"))
    slow = [commands.split_block(content, 1, language) for content, language in blocks]
    assert fast == slow
