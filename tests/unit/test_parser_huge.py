"""Huge inputs parse in time for the first frame: a command longer than the risk rules
read at load is destructive unread (and `check` says so), a shorter one is rated."""

from __future__ import annotations

import gc
import weakref

from runbook.document import parser
from runbook.document.commands import MAX_RATED_BYTES
from runbook.document.parser import parse


def fence(body: str) -> str:
    return f"# Huge\n\n## Fence\n\n1. Run:\n\n   ```bash\n{body}\n   ```\n"


def test_a_hundred_thousand_line_fence_is_one_destructive_step_check_explains() -> None:
    lines = 100_000
    runbook = parse(fence("\n".join(f"   echo line {n}" for n in range(lines))))
    (step,) = runbook.procedures[0].steps
    (command,) = step.commands
    assert command.code.count("\n") == lines - 1
    assert command.code.startswith("echo line 0\necho line 1\n")
    assert command.risk == "destructive", "not read by the rules: confirmed before it runs"
    (problem,) = [p for p in runbook.problems if "rated destructive unread" in p.message]
    assert problem.line == command.line == 8
    assert f"{lines:,} lines" in problem.message


def test_a_command_under_the_limit_is_rated_by_the_rules() -> None:
    body = "\n".join(f"   echo line {n}" for n in range(MAX_RATED_BYTES // 20))
    runbook = parse(fence(body))
    (command,) = runbook.procedures[0].steps[0].commands
    assert len(command.code) < MAX_RATED_BYTES
    assert command.risk == "read-only"
    assert not [p for p in runbook.problems if "unread" in p.message]


def test_a_huge_fence_keeps_its_comment_groups_and_sessions() -> None:
    """The plain-line shortcut still splits at comments and stops at a session opener."""
    plain = "\n".join(f"echo line {n}" for n in range(5_000))
    body = f"# First\n{plain}\n# Then on the node\nssh node-1\nrm -rf /var/tmp/x\nexit"
    steps = parse(f"# Huge\n\n```bash\n{body}\n```\n").procedures[0].steps
    assert [s.text.split("\n")[0] for s in steps] == [
        "First",
        "Then on the node (inside `ssh node-1`)",
    ]
    assert steps[0].commands[0].code.count("\n") == 4_999
    assert steps[1].session_commands, "the lines after `ssh node-1` are typed into it"
    assert not any("rm -rf" in c.code for s in steps for c in s.commands)


def test_a_parse_leaves_nothing_for_the_cycle_collector() -> None:
    """The builder's tokens and drafts are freed by reference counting when `parse` returns,
    not left (in a reference cycle) for a full collection that would walk every one."""
    text = fence("\n".join(f"   echo line {n}" for n in range(100)))
    gc.collect()
    gc.disable()
    try:
        builder = parser._Builder(text, None)  # noqa: SLF001
        builder.read(parser._MD.parse(text))  # noqa: SLF001
        builder.finish("digest")
        gone = weakref.ref(builder)
        del builder
        assert gone() is None, "a reference cycle keeps the builder alive"
    finally:
        gc.enable()
