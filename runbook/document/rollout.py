"""Steps that roll across hosts: Runme-style fence attributes read into a `Rollout`.

```` ```sh {"hosts": "all", "batch": 1, "max_failures": 0, "canary": 1} ````

A plain Markdown reader sees a shell block with a note on it; the console runs the
block once per Docker engine of the environment (`docker_hosts` in the config), canary
first, then in batches. Runme's `{ hosts=all batch=2 }` form works too, a list of hosts
then written `hosts=a,b`. Names are matched against the config when the step is
planned (runbook.execution.rollout); here only the shape is checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace

from runbook.model import Command, Problem, Procedure, Rollout

GIVEN_PER_HOST = ("DOCKER_HOST", "DOCKER_CONTEXT", "RUNBOOK_ROLL_HOST")
"""What a rolled step is told on each host: never asked of the operator."""
HOSTS = "hosts"
COUNTS = {"batch": 1, "max_failures": 0, "canary": 0}
"""The numeric attributes and the least each may be."""
KEYS = (HOSTS, *COUNTS)


class RolloutError(ValueError):
    """The roll attributes cannot be read; the message is one line."""


def read_rollout(attributes: Sequence[tuple[str, str]], line: int = 0) -> Rollout | None:
    """The rollout a fence's attributes declare, None when they name no `hosts`.

    Raises:
        RolloutError: a value is not what the attribute takes.
    """
    given = {name: value for name, value in attributes if name in KEYS}
    if not given:
        return None
    if HOSTS not in given:
        named = ", ".join(sorted(given))
        raise RolloutError(f'{named} without hosts: add "hosts": "all" (or a list of names)')
    counts = {name: _count(name, given[name]) for name in COUNTS if name in given}
    return Rollout(
        hosts=_hosts(given[HOSTS]),
        batch=counts.get("batch", 1),
        max_failures=counts.get("max_failures", 0),
        canary=counts.get("canary", 1),
        line=line,
    )


def step_rollout(commands: Sequence[Command]) -> Rollout | None:
    """The rollout of a step from its commands' fences; a bad one keeps its `error`."""
    found: list[Rollout | None] = []
    for command in commands:
        try:
            found.append(read_rollout(command.attributes, command.line))
        except RolloutError as error:
            return Rollout(hosts=None, line=command.line, error=str(error))
    rolled = [rollout for rollout in found if rollout is not None]
    if not rolled:
        return None
    first = rolled[0]
    if len(rolled) != len(found) or any(_shape(r) != _shape(first) for r in rolled):
        return Rollout(
            hosts=None,
            line=first.line,
            error="hosts applies to the whole step: give every block of the step the same "
            "hosts, batch, max_failures and canary",
        )
    return first


def without_host_variables(commands: Sequence[Command]) -> tuple[Command, ...]:
    """A rolled step's commands without the variables each host's run is given."""
    return tuple(
        replace(
            command,
            variables=tuple(
                v for v in command.variables if not (v.kind == "env" and v.name in GIVEN_PER_HOST)
            ),
        )
        for command in commands
    )


def rollout_problems(procedures: Iterable[Procedure]) -> list[Problem]:
    """Steps whose roll attributes cannot be read: errors, since such a step never runs."""
    return [
        Problem(step.rollout.line, f"step {step.index}: {step.rollout.error}", "error")
        for procedure in procedures
        for step in procedure.steps
        if step.rollout is not None and step.rollout.error
    ]


def _shape(rollout: Rollout) -> tuple[object, ...]:
    return (rollout.hosts, rollout.batch, rollout.max_failures, rollout.canary)


def _hosts(value: str) -> tuple[str, ...] | None:
    text = value.strip()
    if text.casefold() == "all":
        return None
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if not isinstance(loaded, list) or not all(isinstance(item, str) for item in loaded):
            raise RolloutError(f'hosts={text!r}: expected "all" or a list of host names')
        names = [item.strip() for item in loaded]
    else:
        names = [item.strip() for item in text.split(",")]
    if not names or any(not name for name in names):
        raise RolloutError(f'hosts={text!r}: expected "all" or a list of non-empty host names')
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise RolloutError(f"hosts names {', '.join(twice)} twice")
    return tuple(names)


def _count(name: str, value: str) -> int:
    least = COUNTS[name]
    try:
        number = int(value.strip())
    except ValueError:
        number = None
    if number is None or number < least:
        wanted = "a whole number" + (f" of at least {least}" if least else " (0 or more)")
        raise RolloutError(f"{name}={value!r}: expected {wanted}")
    return number
