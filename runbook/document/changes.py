"""What changed between two versions of a runbook: for the console that reloads one edited
on disk, so the operator sees what changed before confirming against the new text.

```python
changes = compare(old, new)
changes.procedure_lines("Rollback Procedure / Manual Rollback")
# ["step 2 changed: Roll back (make rollback → make rollback-now)", "step 4 added: Verify"]
changes.moves["Rollback Procedure / Manual Rollback"]   # {old step index: new step index}
```

A step keeps its checklist record when the new text has the same step: first one with
the same title and commands, else one with the same title (its commands were edited).
A record whose step is gone is reported, not carried to another step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runbook.model import Procedure, Runbook, Step


def _by_key(runbook: Runbook, key: str) -> Procedure | None:
    """The procedure with exactly this key (no title or substring match: a removed procedure
    must not be taken for another)."""
    return next((p for p in runbook.procedures if p.key == key), None)


def _commands(step: Step) -> tuple[str, ...]:
    return tuple(command.code for command in step.commands)


def _warned(step: Step) -> tuple[str, ...]:
    """What the runbook warns about the step: a changed warning is news before a confirmation."""
    return tuple(admonition.describe() for admonition in step.admonitions)


def step_moves(old: Procedure, new: Procedure) -> dict[int, int]:
    """Old step index → new step index, for the steps the new text still has."""
    moves: dict[int, int] = {}
    taken: set[int] = set()
    for with_commands in (True, False):
        for step in old.steps:
            if step.index in moves:
                continue
            found = next(
                (
                    s
                    for s in new.steps
                    if s.index not in taken
                    and s.title == step.title
                    and (not with_commands or _commands(s) == _commands(step))
                ),
                None,
            )
            if found is not None:
                moves[step.index] = found.index
                taken.add(found.index)
    return moves


def _clip(text: str) -> str:
    return text if len(text) <= 100 else text[:99] + "…"


def _short(commands: tuple[str, ...]) -> str:
    text = " && ".join(line for code in commands for line in code.splitlines() if line.strip())
    return text if len(text) <= 60 else text[:59] + "…"


def procedure_lines(old: Procedure | None, new: Procedure | None) -> list[str]:
    """The changes to one procedure, a line each (empty: none)."""
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        count = len(new.steps)
        return [f"new procedure: {new.title} ({count} step{'' if count == 1 else 's'})"]
    if new is None:
        return [f"procedure removed: {old.title}"]
    moves = step_moves(old, new)
    lines: list[str] = []
    for step in old.steps:
        moved = moves.get(step.index)
        if moved is None:
            lines.append(f"step {step.index} removed: {step.title}")
            continue
        after = next(s for s in new.steps if s.index == moved)
        where = f"step {step.index} is now step {moved}" if moved != step.index else ""
        if _commands(after) != _commands(step):
            change = f"{_short(_commands(step)) or '-'} → {_short(_commands(after)) or '-'}"
            lines.append(f"{where or f'step {moved}'} changed: {after.title} ({change})")
        elif after.risk != step.risk:
            lines.append(f"{where or f'step {moved}'}: {after.title} is now {after.risk}")
        elif where:
            lines.append(f"{where}: {after.title}")
        if _warned(after) != _warned(step):
            said = "; ".join(_warned(after)) or "none now"
            lines.append(f"step {moved}: the runbook's warnings changed: {_clip(said)}")
    for step in new.steps:
        if step.index not in moves.values():
            lines.append(f"step {step.index} added: {step.title}")
    return lines


@dataclass(frozen=True)
class Changes:
    """Two versions of a runbook, compared procedure by procedure (by key)."""

    old: Runbook
    new: Runbook
    moves: dict[str, dict[int, int]] = field(default_factory=dict)
    """Per procedure in both: old step index → new step index."""

    def procedure_lines(self, key: str) -> list[str]:
        return procedure_lines(_by_key(self.old, key), _by_key(self.new, key))

    @property
    def procedures_changed(self) -> list[str]:
        """Keys of the procedures added, removed or changed."""
        keys = [p.key for p in self.old.procedures]
        keys += [p.key for p in self.new.procedures if p.key not in keys]
        return [key for key in keys if self.procedure_lines(key)]


def compare(old: Runbook, new: Runbook) -> Changes:
    moves = {
        procedure.key: step_moves(procedure, found)
        for procedure in old.procedures
        if (found := _by_key(new, procedure.key)) is not None
    }
    return Changes(old, new, moves)
