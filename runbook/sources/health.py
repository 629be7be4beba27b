"""Endpoint checks: every row of the runbook's endpoints table against a base URL.

All checks of a round run concurrently, each under its own deadline
(`asyncio.wait_for` around the whole request, body included), so an endpoint that
accepts and never answers costs its own row a timeout and nobody else anything.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runbook.model import Endpoint
from runbook.sources.probe import PROBE_HEADERS
from runbook.sources.prober import Probed, probe_once

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class CheckResult:
    path: str
    url: str
    ok: bool
    status: int | None
    """HTTP status, None when no response arrived."""
    latency_s: float | None
    detail: str
    """Why it failed ("timed out after 2.0 s", "expected 200, got 503", ...), or "ok"."""
    expected: str
    checked_at: float
    changed_at: float
    """When `ok` last flipped (or the first check)."""


@dataclass(frozen=True)
class HealthChecked:
    results: tuple[CheckResult, ...]


def body_matches(expected: Any, response_text: str) -> tuple[bool, str]:
    """Whether a response body contains the expected JSON (a subset match for objects)."""
    if expected is None:
        return True, ""
    try:
        actual = json.loads(response_text)
    except ValueError:
        return False, "body is not JSON"
    if _contains(actual, expected):
        return True, ""
    return False, f"body {json.dumps(actual)[:80]} lacks {json.dumps(expected)}"


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _contains(actual[key], value) for key, value in expected.items()
        )
    return bool(actual == expected)


def join_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


PLAIN_HTTP_ERRORS = {
    "ReadError": "the connection was reset while reading the answer",
    "WriteError": "the connection was reset while sending the request",
    "RemoteProtocolError": "the server closed the connection without an answer",
    "ConnectError": "could not connect",
    "ReadTimeout": "no answer in time",
    "ConnectTimeout": "could not connect in time",
    "PoolTimeout": "no free connection in time",
}
"""What an httpx error means when it carries no message of its own."""


def http_error_text(error: BaseException) -> str:
    """`ReadError: the connection was reset ...`: the error's name and what happened, never
    an empty `ReadError:`."""
    name = type(error).__name__
    text = str(error).strip() or str(error.__cause__ or "").strip()
    return f"{name}: {text or PLAIN_HTTP_ERRORS.get(name, 'no detail given')}"


def endpoint_outcome(
    probed: Probed, endpoint: Endpoint
) -> tuple[bool, int | None, float | None, str]:
    """What one GET says of an endpoint: (ok, status, latency seconds, detail)."""
    if probed.timed_out_s is not None:
        return False, None, None, f"timed out after {probed.timed_out_s:g} s"
    if probed.status is None:
        error = probed.error or ConnectionError("no answer")
        return False, None, None, http_error_text(error)[:160]
    status, latency = probed.status, probed.latency_s
    if endpoint.expect_status is not None and status != endpoint.expect_status:
        return False, status, latency, f"expected {endpoint.expect_status}, got {status}"
    if endpoint.expect_status is None and status >= 400:
        return False, status, latency, f"HTTP {status}"
    matched, why = body_matches(endpoint.expect_body, probed.text)
    if not matched:
        return False, status, latency, why
    return True, status, latency, "ok"


async def check_endpoint(
    client: httpx.AsyncClient, base_url: str, endpoint: Endpoint, deadline_s: float
) -> tuple[bool, int | None, float | None, str]:
    """One check: (ok, status, latency seconds, detail)."""
    url = join_url(base_url, endpoint.path)
    return endpoint_outcome(await probe_once(client, url, deadline_s), endpoint)


class HealthChecker:
    """Checks all endpoints each round and remembers when each one last changed."""

    def __init__(
        self, endpoints: Sequence[Endpoint], base_url: str, *, deadline_s: float = 2.0
    ) -> None:
        self.endpoints = tuple(endpoints)
        self.base_url = base_url
        self.deadline_s = deadline_s
        self.last: dict[str, CheckResult] = {}

    @property
    def urls(self) -> tuple[str, ...]:
        """Each endpoint's URL, in the endpoints' order."""
        return tuple(join_url(self.base_url, endpoint.path) for endpoint in self.endpoints)

    async def check_all(self, client: httpx.AsyncClient) -> tuple[CheckResult, ...]:
        outcomes = await asyncio.gather(
            *(
                check_endpoint(client, self.base_url, endpoint, self.deadline_s)
                for endpoint in self.endpoints
            )
        )
        return self._results(list(outcomes))

    def results(self, answers: Mapping[str, Probed]) -> tuple[CheckResult, ...]:
        """This round's results from a `Prober`'s answers (by URL, as `urls` names them)."""
        return self._results(
            [
                endpoint_outcome(answers[url], endpoint)
                for url, endpoint in zip(self.urls, self.endpoints, strict=True)
            ]
        )

    def _results(
        self, outcomes: list[tuple[bool, int | None, float | None, str]]
    ) -> tuple[CheckResult, ...]:
        now = time.time()
        results = []
        for endpoint, (ok, status, latency, detail) in zip(self.endpoints, outcomes, strict=True):
            previous = self.last.get(endpoint.path)
            changed_at = now if previous is None or previous.ok != ok else previous.changed_at
            result = CheckResult(
                path=endpoint.path,
                url=join_url(self.base_url, endpoint.path),
                ok=ok,
                status=status,
                latency_s=latency,
                detail=detail,
                expected=endpoint.expect_text,
                checked_at=now,
                changed_at=changed_at,
            )
            self.last[endpoint.path] = result
            results.append(result)
        return tuple(results)

    def client(self) -> httpx.AsyncClient:
        """A client whose own timeout backs up the per-check deadline; its requests are
        marked as the console's probes (runbook.sources.probe)."""
        import httpx

        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.deadline_s + 1.0), headers=PROBE_HEADERS
        )


__all__ = [
    "CheckResult",
    "HealthChecked",
    "HealthChecker",
    "check_endpoint",
    "endpoint_outcome",
]
