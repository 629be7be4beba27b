"""Container actions (restart, logs, inspect) as plans the executor runs.

A row's action in the containers pane is never run by the pane itself: it
becomes a `Plan` for the executor, which confirms and audits it like a step.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Literal, Protocol

from runbook.config import DEFAULT_ENVIRONMENT, Config
from runbook.execution.plan import Plan, PlannedCommand

ContainerAction = Literal["restart", "logs", "inspect"]


class ActionTarget(Protocol):
    """A container or a swarm service: what a live row's action names."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


ActionKind = Literal["container", "service"]
COMMANDS: dict[ActionKind, dict[ContainerAction, str]] = {
    "container": {
        "restart": "restart",
        "logs": "logs --tail 200 --timestamps",
        "inspect": "inspect",
    },
    # A service's restart is a rolling `service update --force` (its own update policy applies).
    "service": {
        "restart": "service update --force --detach",
        "logs": "service logs --tail 200 --timestamps",
        "inspect": "service inspect",
    },
}


def action_plan(
    action: ContainerAction,
    target: ActionTarget,
    *,
    kind: ActionKind = "container",
    docker_host: str | None = None,
    environment: str | None = None,
    config: Config | None = None,
    runbook_sha256: str = "",
    runbook_path: str | None = None,
) -> Plan:
    """A plan the executor runs (after confirmation, with an audit record) for a row's action
    on a container or (`kind="service"`) a swarm service; only restart changes anything.

    The command names the target by id as well as showing its name, so a
    container recreated under the same name in between is not the one acted on.
    With a `docker_host`, the command names its engine too (`docker --host URL` or
    `docker --context NAME`), so the confirmation and the audit say where it ran.
    """
    short = target.id[:12]
    docker = f"docker {engine_option(docker_host)}" if docker_host else "docker"
    noun = "service " if kind == "service" else ""
    config = config or Config()
    environment = environment or DEFAULT_ENVIRONMENT
    risk: Literal["read-only", "mutating"] = "mutating" if action == "restart" else "read-only"
    return Plan(
        runbook_path=runbook_path,
        runbook_sha256=runbook_sha256,
        procedure=f"live: {kind}s / {action}",
        procedure_title=f"{kind.capitalize()} {action}",
        step_index=1,
        step_title=f"{action} {noun}{target.name} ({short})",
        commands=(
            PlannedCommand(
                code=f"{docker} {COMMANDS[kind][action]} {short}",
                risk=risk,
                line=0,
                timeout_s=60.0,
            ),
        ),
        cwd=str(Path.cwd()),
        environment=environment,
        production=config.is_production(environment),
        risk=risk,
        needs_confirmation=risk != "read-only",
        missing=(),
        grace_s=config.execution.grace_s,
        env=tuple(sorted(config.environment(environment).env.items())),
    )


def engine_option(docker_host: str) -> str:
    """The docker CLI option naming an engine: `--host URL`, or `--context NAME` for a context."""
    if "://" in docker_host or docker_host.startswith("/"):
        return f"--host {shlex.quote(docker_host)}"
    return f"--context {shlex.quote(docker_host)}"
