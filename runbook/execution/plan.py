"""What a step will do, worked out before anything runs: the Plan and its Confirmation.

A Plan holds the exact resolved commands, the working directory, the target
environment and whether it is production, the risk, whether confirmation is
needed, the runbook's sha256 and any variables still missing. The UI shows it;
the operator's yes becomes a Confirmation bound to the plan's digest (commands,
directory, environment and runbook hash), which the executor checks again just
before the step runs.
"""

from __future__ import annotations

import getpass
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from runbook.config import DEFAULT_ENVIRONMENT, Config
from runbook.document.commands import find_variables
from runbook.execution.environment import DEPLOY_ENV, deploy_env_name, inherited_overrides
from runbook.execution.masking import MASK, is_secret_name
from runbook.execution.resolve import resolve
from runbook.execution.risk import UNRATED_REASON, classify, too_long_to_rate
from runbook.execution.rollout import RollError, RollPlan, environment_engines, roll_plan
from runbook.model import RISK_ORDER, Admonition, Command, Procedure, Risk, Runbook, Step
from runbook.storage import paths


class PlanError(ValueError):
    """The procedure or step asked for does not exist."""


class ConfirmationError(ValueError):
    """The operator's answer does not confirm the plan (for production: wrong name typed)."""


@dataclass(frozen=True)
class PlannedCommand:
    code: str
    """Exactly what bash will run, values substituted and quoted."""
    risk: Risk
    """Of `code` as it will run (values substituted), raised by `rb-risk`, never lowered."""
    line: int
    timeout_s: float
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """Variable values also given as environment (may hold secrets; never printed)."""
    risk_reason: str = ""
    """Why the risk is what it is when the rules did not read the code (`UNRATED_REASON`)."""


@dataclass(frozen=True)
class PlannedVerify:
    """An `rb-verify` command, run after the step's commands succeed."""

    code: str
    """Exactly what bash will run, values substituted and quoted."""
    risk: Risk
    """By the risk rules alone (`rb-risk` does not apply): only read-only ones run."""
    line: int
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """Variable values also given as environment (may hold secrets; never printed)."""

    @property
    def runnable(self) -> bool:
        return self.risk == "read-only"


@dataclass(frozen=True)
class Confirmation:
    """The operator's yes to one plan; stale as soon as the plan or the runbook changes."""

    plan_digest: str
    runbook_sha256: str
    environment: str
    by: str
    at: str


@dataclass(frozen=True)
class Plan:
    runbook_path: str | None
    runbook_sha256: str
    procedure: str
    """The procedure's key (section path and title)."""
    procedure_title: str
    step_index: int
    step_title: str
    commands: tuple[PlannedCommand, ...]
    cwd: str
    environment: str
    production: bool
    risk: Risk
    needs_confirmation: bool
    missing: tuple[str, ...]
    grace_s: float
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """The environment's settings from config and its `DEPLOY_ENV`, given to every command."""
    inherited: tuple[tuple[str, str], ...] = ()
    """Variables the commands inherit from the operator's environment that their Makefile
    or scripts read and that differ from those files' defaults (secret values masked)."""
    verify: tuple[PlannedVerify, ...] = ()
    """Read-only checks run, in order, once the step's commands have succeeded."""
    verify_timeout_s: float = 60.0
    """Each check's timeout: `[execution] verify_timeout_s`, at most the step's timeout."""
    admonitions: tuple[Admonition, ...] = ()
    """The warnings and notes the runbook writes just before the step."""
    roll: RollPlan | None = None
    """For a step that rolls across hosts: its hosts and batches (one run per host)."""

    @property
    def resolved_commands(self) -> tuple[str, ...]:
        return tuple(command.code for command in self.commands)

    @property
    def deploy_env(self) -> str:
        """The deploy environment the commands are told (`DEPLOY_ENV`)."""
        return dict(self.env).get(DEPLOY_ENV, "")

    @property
    def target(self) -> str:
        """The environment as the confirmation names it: `Development (DEPLOY_ENV=dev)`."""
        return (
            f"{self.environment} ({DEPLOY_ENV}={self.deploy_env})"
            if self.deploy_env
            else (self.environment)
        )

    @property
    def mutating(self) -> bool:
        return self.risk != "read-only"

    @property
    def risk_reason(self) -> str:
        """Why the step's risk is what it is, when the rules did not decide it ("" when they
        did): a command too long to rate is destructive unread."""
        return next((c.risk_reason for c in self.commands if c.risk_reason), "")

    @property
    def digest(self) -> str:
        """A hash of everything the confirmation vouches for."""
        parts = [self.runbook_sha256, self.environment, self.cwd, *self.resolved_commands]
        parts += ["env", *(f"{name}={value}" for name, value in (*self.env, *self.inherited))]
        if self.verify:
            parts += ["verify", *(check.code for check in self.verify)]
        if self.roll is not None:
            parts += self.roll.digest_parts()
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def describe(self) -> str:
        """The text a confirmation prompt shows: the runbook's warnings about the step,
        commands, directory, environment."""
        target = f"{self.target} PRODUCTION" if self.production else self.target
        lines = [f"Step {self.step_index}: {self.step_title}"]
        lines += [f"  {admonition.describe()}" for admonition in self.admonitions]
        reason = f" ({self.risk_reason})" if self.risk_reason else ""
        lines.append(f"  risk:        {self.risk}{reason}")
        lines += [f"  environment: {target}", f"  directory:   {self.cwd}"]
        lines += [f"  inherited:   {name}={value}" for name, value in self.inherited]
        if self.roll is not None:
            first, *batches = self.roll.describe()
            lines.append(f"  hosts:       {first} (DOCKER_HOST set per host)")
            lines += [f"    {batch}" for batch in batches]
        lines.append("  command:")
        for code in self.resolved_commands:
            lines += [f"    {text}" for text in code.splitlines()]
        for check in self.verify:
            note = "" if check.runnable else f"  (will not run: {check.risk}, not read-only)"
            lines.append(f"  verify:      {check.code.splitlines()[0] if check.code else ''}{note}")
        return "\n".join(lines)

    def confirm(self, typed: str | None = None, by: str | None = None) -> Confirmation:
        """Turn the operator's answer into a Confirmation.

        Args:
            typed: for production, the environment name as the operator typed it.
            by: who confirms (the current user by default).

        Raises:
            ConfirmationError: production and `typed` is not the environment's name.
        """
        if self.production and (typed or "").strip().casefold() != self.environment.casefold():
            raise ConfirmationError(
                f"type the environment name ({self.environment}) to confirm a production step"
            )
        return Confirmation(
            plan_digest=self.digest,
            runbook_sha256=self.runbook_sha256,
            environment=self.environment,
            by=by or _user(),
            at=datetime.now(UTC).isoformat(timespec="seconds"),
        )


def find_step(
    runbook: Runbook, procedure: Procedure | str, step: Step | int
) -> tuple[Procedure, Step]:
    """Look up a procedure (by key, title or unambiguous substring) and a step (1-based index)."""
    found = runbook.procedure(procedure) if isinstance(procedure, str) else procedure
    if found is None:
        raise PlanError(f"no procedure {procedure!r} in {runbook.path or runbook.title}")
    if isinstance(step, Step):
        return found, step
    for candidate in found.steps:
        if candidate.index == step:
            return found, candidate
    raise PlanError(f"procedure {found.title!r} has no step {step} (it has {len(found.steps)})")


def plan_procedure(
    runbook: Runbook, procedure: Procedure, *, values: Mapping[str, str] | None = None
) -> list[Plan]:
    """The plans of a procedure's steps that have a command, in order; nothing runs.

    Raises:
        PlanError: a step cannot be planned.
    """
    return [
        plan(runbook, procedure, step, values=values) for step in procedure.steps if step.commands
    ]


def verify_commands(step: Step) -> tuple[Command, ...]:
    """The step's `rb-verify` commands as commands of their own (their variables found)."""
    return tuple(
        Command(
            code=command.verify,
            line=command.line,
            risk=classify(command.verify),
            variables=find_variables(command.verify),
        )
        for command in step.commands
        if command.verify
    )


def plan(
    runbook: Runbook,
    procedure: Procedure | str,
    step: Step | int,
    *,
    environment: str | None = None,
    values: Mapping[str, str] | None = None,
    config: Config | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    """Work out exactly what running a step would do, without running anything.

    Args:
        runbook: the parsed runbook (its `path` gives the working directory).
        procedure: a Procedure, or its key/title.
        step: a Step, or its 1-based index.
        environment: the target environment (default "Development").
        values: the operator's variable values, by name (placeholders without `<>`).
        config: the operator's config (defaults when None).
        environ: the operator's environment (os.environ when None).
    """
    config = config or Config()
    environ = os.environ if environ is None else environ
    found_procedure, found_step = find_step(runbook, procedure, step)
    inside = found_step.session or next((c.session for c in found_step.commands if c.session), None)
    if inside is not None:
        # Its lines are typed into another program (a debug pod, a remote host, psql):
        # run here they would hit the operator's own machine.
        raise PlanError(
            f"step {found_step.index} runs inside `{inside.splitlines()[-1]}`: open that "
            "session and type its lines there; the console does not run them"
        )
    environment = environment or DEFAULT_ENVIRONMENT
    roll = _roll(found_step, config, environment, environ)
    settings = dict(config.environment(environment).env)
    if deploy_env := deploy_env_name(environment, settings):
        settings[DEPLOY_ENV] = deploy_env  # what make and deploy/*.sh act on
    production = config.is_production(environment)
    commands: list[PlannedCommand] = []
    missing: list[str] = []
    for command in found_step.commands:
        resolution = resolve(command, values or {}, settings, environ, config.secrets.names)
        missing += [name for name in resolution.missing if name not in missing]
        unread = too_long_to_rate(resolution.code) or too_long_to_rate(command.code)
        commands.append(
            PlannedCommand(
                code=resolution.code,
                # Too long to rate: destructive unread, as at load, and never read here.
                risk="destructive" if unread else _planned_risk(command, resolution.code),
                line=command.line,
                timeout_s=command.timeout_s or config.execution.default_timeout_s,
                env=tuple(sorted(resolution.env.items())),
                risk_reason=UNRATED_REASON if unread else "",
            )
        )
    checks: list[PlannedVerify] = []
    for check in verify_commands(found_step):
        resolution = resolve(check, values or {}, settings, environ, config.secrets.names)
        missing += [name for name in resolution.missing if name not in missing]
        checks.append(
            PlannedVerify(
                code=resolution.code,
                risk=classify(resolution.code),  # as it will run, values in place
                line=check.line,
                env=tuple(sorted(resolution.env.items())),
            )
        )
    risk: Risk = max((c.risk for c in commands), key=RISK_ORDER.__getitem__, default="read-only")
    step_timeout_s = sum(command.timeout_s for command in commands)
    cwd = paths.repository_root(runbook.path)
    planned: list[PlannedCommand | PlannedVerify] = [*commands, *checks]
    declared = {*settings, *(name for c in planned for name, _ in c.env)}
    inherited = tuple(
        (name, MASK if is_secret_name(name, config.secrets.names) else value)
        for name, value in inherited_overrides(cwd, [c.code for c in planned], environ, declared)
    )
    return Plan(
        runbook_path=str(Path(runbook.path).resolve()) if runbook.path else None,
        runbook_sha256=runbook.sha256,
        procedure=found_procedure.key,
        procedure_title=found_procedure.title,
        step_index=found_step.index,
        step_title=found_step.title,
        commands=tuple(commands),
        cwd=str(cwd),
        environment=environment,
        production=production,
        risk=risk,
        needs_confirmation=_needs_confirmation(found_step, risk, production),
        missing=tuple(missing),
        grace_s=config.execution.grace_s,
        env=tuple(sorted(settings.items())),
        inherited=inherited,
        verify=tuple(checks),
        verify_timeout_s=min(config.execution.verify_timeout_s, step_timeout_s or 60.0),
        admonitions=found_step.admonitions,
        roll=roll,
    )


def _roll(
    step: Step, config: Config, environment: str, environ: Mapping[str, str]
) -> RollPlan | None:
    """The hosts a rolled step runs on in this environment, None for an ordinary step.

    Raises:
        PlanError: the step's roll attributes are wrong, or name a host the environment lacks.
    """
    rollout = step.rollout
    if rollout is None:
        return None
    if rollout.error:
        raise PlanError(f"step {step.index} does not run: {rollout.error}")
    engines = environment_engines(config.environment(environment).engines, environ)
    try:
        return roll_plan(rollout, engines)
    except RollError as error:
        raise PlanError(f"step {step.index} in {environment}: {error}") from None


def _planned_risk(command: Command, code: str) -> Risk:
    """The risk of `code` as it will run, values in place, by the rules; a risk the
    document set above the rules' (`rb-risk`) stays: it may raise, never lower."""
    found = classify(code)
    if RISK_ORDER[command.risk] > max(RISK_ORDER[found], RISK_ORDER[classify(command.code)]):
        return command.risk
    return found


def _needs_confirmation(step: Step, risk: Risk, production: bool) -> bool:
    """Mutating and destructive steps need a yes; `rb-confirm` can ask for one, or waive it
    for a mutating step outside production (never for a destructive or production one)."""
    overrides = {c.confirm for c in step.commands if c.confirm is not None}
    if True in overrides:
        return True
    if risk == "read-only":
        return False
    return not (overrides == {False} and risk == "mutating" and not production)


def file_sha256(path: str) -> str | None:
    """The sha256 of the runbook file as it is on disk now, None if it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return str(os.getuid())
