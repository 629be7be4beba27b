"""What is serving, against the real service: a local blue-green sandbox (DEPLOY_RUNTIME=local,
no Docker) deployed, switched and rolled back through the Makefile while the console's
serving strip reads the proxy; and the service's logs telling the console's probes from
real requests by their user agent.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_sandbox import LocalSandbox, local_sandbox
from textual.widget import Widget

from console.app import RunbookConsole
from console.panes.observations import ServiceWatched
from console.settings import ConsoleSettings
from console.widgets.serving_strip import ServingStrip
from runbook.document.parser import load
from runbook.drills.sandboxes import free_ports
from runbook.sources.health import HealthChecker
from runbook.sources.probe import PROBE_USER_AGENT, is_probe_line, without_probes
from tests.waiting import wait_until_async as until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "tests" / "fixtures" / "seed_runbook.md"
FOLLOWS_WITHIN_S = 2.0
"""The strip shows a switch or a rollback this soon after the deploy script returns."""


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSandbox]:
    box = local_sandbox(tmp_path_factory.mktemp("serving"), tuple(free_ports(3)))  # type: ignore[arg-type]
    box.make("local-engine")
    box.make("build", "VERSION=v1")
    box.make("build", "VERSION=v2")
    box.make("deploy", "VERSION=v1")
    yield box
    box.shutdown()


class Watching(Widget):
    """Live panes as the strip sees them: they watch the sandbox's proxy."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def on_mount(self) -> None:
        self.post_message(ServiceWatched(self.base_url, 1.0))


async def test_the_strip_follows_a_switch_and_a_rollback(
    box: LocalSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(box.history_dir))
    settings = ConsoleSettings(
        runbook_path=str(SEED),
        session_dir=tmp_path / "sessions",
        cpu_meter=lambda: 0.0,
        live_panes=lambda _console: Watching(box.url),
    )
    app = RunbookConsole(load(SEED), settings)
    app.embedded.engine_reachable = lambda _host: True  # the sandbox is what is watched
    async with app.run_test(size=(80, 24)):
        await until(lambda: app.main_screen is not None)
        strip = app.screen.query_one(ServingStrip)
        await until(lambda: "blue v1" in strip.text, what=f"blue v1 shown: {strip.text!r}")
        assert "deploy v1" in strip.text

        await asyncio.to_thread(box.make, "deploy", "VERSION=v2")
        await until(
            lambda: "green v2" in strip.text and "deploy v2" in strip.text,
            timeout=FOLLOWS_WITHIN_S,
            what=f"the switch to green v2 shown: {strip.text!r}",
        )

        await asyncio.to_thread(box.make, "rollback")
        await until(
            lambda: "blue v1" in strip.text and "rollback v1" in strip.text,
            timeout=FOLLOWS_WITHIN_S,
            what=f"the rollback to blue v1 shown: {strip.text!r}",
        )
        assert len(strip.text) <= 78


async def test_the_logs_name_each_request_s_user_agent_and_probes_filter_out(
    box: LocalSandbox,
) -> None:
    live = box.container(
        "blue" if box.get("/health").headers["X-Upstream-Colour"] == "blue" else "green"
    )
    real = urllib.request.Request(box.url + "/?from=the-test", headers={"User-Agent": "curl/8.5"})
    with urllib.request.urlopen(real, timeout=5) as answer:  # noqa: S310 - loopback
        assert answer.status == 200
    checker = HealthChecker([], box.url)
    async with checker.client() as client:
        assert (await client.get(box.url + "/ready?from=the-probe")).status_code == 200

    def logged() -> tuple[list[str], list[str]]:
        lines = box.logs(live) + box.logs(f"{box.prefix}-proxy")
        return [line for line in lines if "from=the-" in line], lines

    await until(lambda: len(logged()[0]) == 4, what="both requests in the web and proxy logs")
    ours, _ = logged()
    assert sum('"curl/8.5"' in line for line in ours) == 2
    assert sum(f'"{PROBE_USER_AGENT}"' in line for line in ours) == 2
    kept, left_out = without_probes(ours)
    assert left_out == 2 and all("from=the-test" in line for line in kept)
    assert [is_probe_line(line) for line in ours] == ["the-probe" in line for line in ours]

    tail = box.make("logs-tail", "LOG_LINES=200").stdout
    assert "/?from=the-test" in tail and "from=the-probe" not in tail
    assert "console probe lines left out; PROBES=1 shows them" in tail
    shown = box.make("logs-tail", "LOG_LINES=200", "PROBES=1").stdout
    assert "/ready?from=the-probe" in shown
