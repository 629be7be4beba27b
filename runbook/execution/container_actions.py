"""Container actions (restart, logs, inspect) as plans the executor runs.

A row's action in the containers pane is never run by the pane itself: it
becomes a `Plan` for the executor, which confirms and audits it like a step.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from runbook.config import DEFAULT_ENVIRONMENT, Config
from runbook.execution.plan import Plan, PlannedCommand

if TYPE_CHECKING:
    from runbook.sources.docker.containers import ContainerInfo
    from runbook.sources.services import ServiceInfo

ContainerAction = Literal["restart", "logs", "inspect"]


def action_plan(
    action: ContainerAction,
    container: ContainerInfo,
    *,
    docker_host: str | None = None,
    environment: str | None = None,
    config: Config | None = None,
    runbook_sha256: str = "",
    runbook_path: str | None = None,
) -> Plan:
    """A plan the executor runs (after confirmation, with an audit record) for a row's action.

    The command names the container by id as well as showing its name, so a
    container recreated under the same name in between is not the one acted on.
    With a `docker_host`, the command names its engine too (`docker --host URL` or
    `docker --context NAME`), so the confirmation and the audit say where it ran.
    """
    short = container.id[:12]
    docker = f"docker {engine_option(docker_host)}" if docker_host else "docker"
    code = {
        "restart": f"{docker} restart {short}",
        "logs": f"{docker} logs --tail 200 --timestamps {short}",
        "inspect": f"{docker} inspect {short}",
    }[action]
    return _plan(
        "container",
        action,
        code,
        f"{action} {container.name} ({short})",
        environment=environment,
        config=config,
        runbook_sha256=runbook_sha256,
        runbook_path=runbook_path,
    )


def service_action_plan(
    action: ContainerAction,
    service: ServiceInfo,
    *,
    docker_host: str | None = None,
    environment: str | None = None,
    config: Config | None = None,
    runbook_sha256: str = "",
    runbook_path: str | None = None,
) -> Plan:
    """A swarm service's row action as a plan: restart is a rolling `service update --force`
    (the service's own update policy applies), logs and inspect are read-only."""
    short = service.id[:12]
    docker = f"docker {engine_option(docker_host)}" if docker_host else "docker"
    code = {
        "restart": f"{docker} service update --force --detach {short}",
        "logs": f"{docker} service logs --tail 200 --timestamps {short}",
        "inspect": f"{docker} service inspect {short}",
    }[action]
    return _plan(
        "service",
        action,
        code,
        f"{action} service {service.name} ({short})",
        environment=environment,
        config=config,
        runbook_sha256=runbook_sha256,
        runbook_path=runbook_path,
    )


def _plan(
    kind: str,
    action: ContainerAction,
    code: str,
    title: str,
    *,
    environment: str | None,
    config: Config | None,
    runbook_sha256: str,
    runbook_path: str | None,
) -> Plan:
    config = config or Config()
    environment = environment or DEFAULT_ENVIRONMENT
    production = config.is_production(environment)
    risk: Literal["read-only", "mutating"] = "mutating" if action == "restart" else "read-only"
    return Plan(
        runbook_path=runbook_path,
        runbook_sha256=runbook_sha256,
        procedure=f"live: {kind}s / {action}",
        procedure_title=f"{kind.capitalize()} {action}",
        step_index=1,
        step_title=title,
        commands=(PlannedCommand(code=code, risk=risk, line=0, timeout_s=60.0),),
        cwd=str(Path.cwd()),
        environment=environment,
        production=production,
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
