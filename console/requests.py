"""What the modal screens are asked to show: plain data, so the core bridge needs no widgets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runbook.execution.plan import Plan
    from runbook.model import Admonition


@dataclass(frozen=True)
class ConfirmRequest:
    """Everything the operator must see before saying yes."""

    title: str
    risk: str
    commands: tuple[str, ...]
    cwd: str
    environment: str
    production: bool
    procedure: str = ""
    lock_note: str = ""
    deploy_env: str = ""
    """The `DEPLOY_ENV` the commands are told (empty: none)."""
    inherited: tuple[tuple[str, str], ...] = ()
    """Inherited variables that change what the commands do (name, value; secrets masked)."""
    drill: bool = False
    """A drill's step: the same dialog as a real incident's, marked [DRILL]."""
    admonitions: tuple[Admonition, ...] = ()
    """The runbook's warnings and notes written just before the step."""
    hosts: tuple[str, ...] = ()
    """For a step that rolls across hosts: the summary line, then one line per batch."""
    risk_reason: str = ""
    """Why the risk is what it is when the rules did not decide it ("too long to rate:
    destructive unread"); empty when they did."""

    @property
    def target(self) -> str:
        """The environment as shown: `Development (DEPLOY_ENV=dev)`."""
        if not self.deploy_env:
            return self.environment
        return f"{self.environment} (DEPLOY_ENV={self.deploy_env})"

    @classmethod
    def from_plan(
        cls, plan: Plan, *, title: str = "", lock_note: str = "", drill: bool = False
    ) -> ConfirmRequest:
        """What to ask about a plan: its commands, directory, environment and inherited settings."""
        return cls(
            title=title or plan.step_title,
            risk=plan.risk,
            commands=plan.resolved_commands,
            cwd=plan.cwd,
            environment=plan.environment,
            production=plan.production,
            procedure=plan.procedure,
            lock_note=lock_note,
            deploy_env=plan.deploy_env,
            inherited=plan.inherited,
            drill=drill,
            admonitions=plan.admonitions,
            hosts=tuple(plan.roll.describe()) if plan.roll is not None else (),
            risk_reason=plan.risk_reason,
        )


@dataclass(frozen=True)
class VariableQuestion:
    """One variable to ask for."""

    name: str
    default: str = ""
    suggestions: tuple[str, ...] = ()
    hint: str = ""
    secret: bool = False
    """A secret-named variable: asked in a password box, its default never shown."""
