"""What changed between two texts of a runbook, as the console shows it after a reload."""

from __future__ import annotations

from runbook.document.changes import compare
from runbook.document.parser import parse

BEFORE = """# Ops

## Rollback

1. Check the version:

   ```bash
   make status
   ```

2. Roll back:

   ```bash
   make rollback
   ```

3. Tell the team.

## Restart

1. Restart:

   ```bash
   make restart
   ```
"""


def test_changed_added_removed_and_moved_steps() -> None:
    after = BEFORE.replace("make rollback\n", "make rollback-now\n").replace(
        "1. Check the version:", "1. Freeze deploys.\n\n2. Check the version:"
    )
    after = after.replace("2. Roll back:", "3. Roll back:").replace("3. Tell the team.", "")
    after = after.replace("## Restart", "## Restart the web tier")
    old, new = parse(BEFORE), parse(after)
    changes = compare(old, new)
    key = old.procedures[0].key
    assert changes.moves[key] == {1: 2, 2: 3}
    assert changes.procedure_lines(key) == [
        "step 1 is now step 2: Check the version:",
        "step 2 is now step 3 changed: Roll back: (make rollback → make rollback-now)",
        "step 3 removed: Tell the team.",
        "step 1 added: Freeze deploys.",
    ]
    restart, renamed = old.procedures[1].key, new.procedures[1].key
    assert restart not in changes.moves, "a renamed procedure is not taken for another"
    assert changes.procedure_lines(restart) == ["procedure removed: Restart"]
    assert changes.procedure_lines(renamed) == ["new procedure: Restart the web tier (1 step)"]
    assert changes.procedures_changed == [key, restart, renamed]


def test_the_same_text_has_no_changes() -> None:
    changes = compare(parse(BEFORE), parse(BEFORE))
    assert changes.procedures_changed == []
    assert all(moves == {i: i for i in moves} for moves in changes.moves.values())


def test_a_warning_added_before_a_step_is_a_change() -> None:
    warned = BEFORE.replace(
        "2. Roll back:", "> [!CAUTION]\n> Not on a pool repository.\n\n2. Roll back:"
    )
    changes = compare(parse(BEFORE), parse(warned))
    assert changes.procedure_lines("Rollback") == [
        "step 2: the runbook's warnings changed: "
        "⚠ Warning from the runbook: Not on a pool repository."
    ]
    back = compare(parse(warned), parse(BEFORE))
    assert back.procedure_lines("Rollback") == ["step 2: the runbook's warnings changed: none now"]
