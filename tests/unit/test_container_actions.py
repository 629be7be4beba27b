"""Container actions become plans the executor confirms and audits like any step."""

from __future__ import annotations

from runbook.config import Config, EnvironmentConfig
from runbook.execution.container_actions import action_plan
from runbook.execution.executor import Executor
from runbook.sources.docker.containers import ContainerInfo


def test_actions_are_plans_for_the_executor() -> None:
    container = ContainerInfo("0123456789abcdef", "web", "img", "running")
    config = Config(environments={"Production": EnvironmentConfig("Production", production=True)})
    restart = action_plan("restart", container, environment="Production", config=config)
    assert restart.resolved_commands == ("docker restart 0123456789ab",)
    assert restart.needs_confirmation and restart.production and restart.risk == "mutating"
    refusal = Executor(config).refusal(restart, None)
    assert refusal is not None and "confirmation" in refusal
    inspect = action_plan("inspect", container, docker_host="tcp://127.0.0.1:1")
    assert not inspect.needs_confirmation
    assert inspect.resolved_commands == ("docker --host tcp://127.0.0.1:1 inspect 0123456789ab",)
    assert action_plan("logs", container).resolved_commands[0].startswith("docker logs")


def test_the_command_names_the_containers_engine() -> None:
    container = ContainerInfo("0123456789abcdef", "web", "img", "running", host="ssh://ops@box")
    restart = action_plan("restart", container, docker_host="ssh://ops@box")
    assert restart.resolved_commands == ("docker --host ssh://ops@box restart 0123456789ab",)
    by_context = action_plan("logs", container, docker_host="prod east")
    assert by_context.resolved_commands[0].startswith("docker --context 'prod east' logs ")
    unix = action_plan("inspect", container, docker_host="unix:///tmp/a b/docker.sock")
    assert unix.resolved_commands == (
        "docker --host 'unix:///tmp/a b/docker.sock' inspect 0123456789ab",
    )


def test_a_service_action_is_the_same_plan_with_the_service_commands() -> None:
    from runbook.sources.services import ServiceInfo

    service = ServiceInfo("fedcba9876543210", "web", "img:v1", "replicated", 1, 1, "", "", ())
    restart = action_plan("restart", service, kind="service", docker_host="tcp://127.0.0.1:1")
    assert restart.resolved_commands == (
        "docker --host tcp://127.0.0.1:1 service update --force --detach fedcba987654",
    )
    assert restart.needs_confirmation and restart.risk == "mutating"
    assert restart.procedure == "live: services / restart"
    assert restart.step_title == "restart service web (fedcba987654)"
    logs = action_plan("logs", service, kind="service")
    assert logs.resolved_commands == ("docker service logs --tail 200 --timestamps fedcba987654",)
    assert not logs.needs_confirmation
    assert action_plan("inspect", service, kind="service").resolved_commands == (
        "docker service inspect fedcba987654",
    )
