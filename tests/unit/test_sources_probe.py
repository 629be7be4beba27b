"""The console's own requests are marked: every probe client sends the console's user agent,
and a log line naming it is told from a real request."""

from __future__ import annotations

import io
import urllib.request
from typing import Any

import pytest

from runbook import __version__
from runbook.drills import embedded, probes
from runbook.sources.fallback import ServiceScraper
from runbook.sources.health import HealthChecker
from runbook.sources.probe import PROBE_USER_AGENT, is_probe_line, without_probes

PROBE = f'2026-12-03T19:51:55Z monkeytown-web 127.0.0.1 "GET /health HTTP/1.1" 200 - "{PROBE_USER_AGENT}"'  # noqa: E501
REAL = '2026-12-03T19:51:54Z monkeytown-web 127.0.0.1 "GET / HTTP/1.1" 200 - "curl/7.88.1"'
NGINX = (
    '127.0.0.1 - - [03/Dec/2026:19:51:56 +0000] "GET /ready HTTP/1.1" 200 17 "-" '
    '"runbook-console/0.0.9 (probe)"'
)


def test_the_user_agent_names_the_console_and_its_version() -> None:
    assert f"runbook-console/{__version__} (probe)" == PROBE_USER_AGENT


def test_probe_lines_are_told_from_real_requests() -> None:
    assert is_probe_line(PROBE) and is_probe_line(NGINX)
    assert not is_probe_line(REAL)
    # A request that only mentions the console, or only says "(probe)", is a real one.
    assert not is_probe_line('"GET /?q=runbook-console/ HTTP/1.1" 200 - "curl/8"')
    assert not is_probe_line('"GET /health HTTP/1.1" 200 - "(probe) kube-probe/1.29"')
    assert without_probes([REAL, PROBE, NGINX, REAL]) == ([REAL, REAL], 2)


def test_async_probe_clients_send_it() -> None:
    checker = HealthChecker([], "http://service.test")
    assert checker.client().headers["User-Agent"] == PROBE_USER_AGENT
    assert ServiceScraper.client().headers["User-Agent"] == PROBE_USER_AGENT


class Answer(io.BytesIO):
    status = 200

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.mark.parametrize("call", ["drill-probe", "embedded-wait"])
def test_drill_and_sandbox_probes_send_it(call: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[urllib.request.Request] = []

    def urlopen(request: Any, timeout: float = 0) -> Answer:
        sent.append(request)
        return Answer(b"{}")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    if call == "drill-probe":
        assert probes.fetch("http://service.test/health", 1.0)[0] == 200
    else:
        assert embedded._answers("http://service.test/ready")  # noqa: SLF001
    assert isinstance(sent[0], urllib.request.Request)
    assert sent[0].get_header("User-agent") == PROBE_USER_AGENT
