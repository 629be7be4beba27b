"""A swarm service's logs: `GET /services/{id}/logs`, followed like a container's.

The engine merges every task's output; `details=1` prefixes each line with the task's
swarm attributes (`com.docker.swarm.task.id=...`), which become the line's `task`,
named as the services pane shows it (`web.1`) when the monitor knows the task.
Reconnects, deduplication and skip-ahead are `LogFollower`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from runbook.sources import rawstream
from runbook.sources.docker.engine import Engine
from runbook.sources.logs import LogFollower, LogLine, split_line

TASK_ATTRIBUTE = "com.docker.swarm.task.id"


def split_details(text: str) -> tuple[dict[str, str], str]:
    """(attributes, text) of a `details=1` line: `k=v,k=v text`; no attributes: ({}, text)."""
    head, _, rest = text.partition(" ")
    if "=" not in head:
        return {}, text
    attributes = dict(pair.partition("=")[::2] for pair in head.split(","))
    return attributes, rest


class ServiceLogFollower(LogFollower):
    """Follows services' logs (by name or id) until `stop()`; each line names its task."""

    def __init__(
        self,
        engine: Engine,
        services: Iterable[str],
        *,
        task_name: Callable[[str], str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(engine, services, **options)
        self.task_name = task_name or (lambda task_id: task_id[:12])
        """Task id -> what the logs pane's task column shows."""

    def _open(self, client: Any, container: str, options: dict[str, Any]) -> tuple[Any, bool]:
        spec = client.inspect_service(container)["Spec"]
        tty = bool(((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("TTY"))
        params: dict[str, Any] = {
            "stdout": 1,
            "stderr": 1,
            "timestamps": 1,
            "follow": 1,
            "details": 1,
            "tail": str(options.get("tail", "all")),
        }
        if "since" in options:
            params["since"] = options["since"]
        engine = self.engine
        if rawstream.supports(engine.base_url, tls=engine.tls):
            path = f"/v{engine.api_version}/services/{container}/logs"
            return rawstream.RawStream(engine.base_url, path, params, engine.timeout_s), tty
        response = client._get(
            client._url("/services/{0}/logs", container), params=params, stream=True, timeout=None
        )
        client._raise_for_status(response)
        return response, tty

    def _running(self, client: Any, container: str) -> bool:
        client.inspect_service(container)  # NotFound: the service is gone, said once
        return True

    def _line(self, container: str, raw: bytes) -> LogLine:
        stamp, text = split_line(raw)
        attributes, text = split_details(text)
        task_id = attributes.get(TASK_ATTRIBUTE, "")
        return LogLine(container, stamp, text, task=self.task_name(task_id) if task_id else "")
