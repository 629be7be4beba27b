"""The "what is serving" strip on the main screen at 80x24 and 120x40: the live colour and
version behind the proxy (a MockTransport proxy), the error rate the gauges pane shows,
the last deploy or rollback from the deployment history, and an unreachable service."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from textual.widget import Widget

from console.panes.observations import GaugesShown, ServiceWatched
from console.widgets.serving_strip import ServingStrip
from runbook.sources.gauges import GaugeValue
from runbook.sources.prober import Prober
from runbook.sources.serving import ServingWatch
from tests.tui.conftest import FIXED_NOW, MakeConsole
from tests.waiting import wait_until_async as until

SIZES = [(80, 24), (120, 40)]


class Proxy:
    """A blue-green proxy's /health: which colour and version answer, or none."""

    def __init__(self) -> None:
        self.colour: str | None = "blue"
        self.version: str | None = "v1"
        self.agents: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.agents.append(request.headers.get("User-Agent", ""))
        if self.version is None:
            raise httpx.ConnectError("", request=request)
        headers = {"X-Upstream-Colour": self.colour or "", "X-Version": self.version}
        return httpx.Response(200, headers=headers, json={"status": "healthy"})


class Watching(Widget):
    """Live panes as the strip sees them: they say which base URL they watch."""

    def on_mount(self) -> None:
        self.post_message(ServiceWatched("http://service.test", 1.0))


def history(*records: tuple[str, str, float]) -> None:
    """Append (action, version, minutes before FIXED_NOW) records to the test's history."""
    directory = Path(os.environ["DEPLOY_HISTORY_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "deployments.jsonl").open("a", encoding="utf-8") as out:
        for action, version, minutes in records:
            at = FIXED_NOW - timedelta(minutes=minutes)
            out.write(
                json.dumps(
                    {
                        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "action": action,
                        "environment": "prod",
                        "to_version": version,
                        "user": "alice",
                        "outcome": "succeeded",
                    }
                )
                + "\n"
            )


def error_rate(value: float) -> GaugeValue:
    return GaugeValue(
        "Error Rate", "error_rate", value, "%", "ok", 0.0, "scrape", "", (), "", "", "", None
    )


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Proxy:
    fake = Proxy()
    monkeypatch.setattr(
        ServingWatch,
        "client",
        lambda self: httpx.AsyncClient(transport=httpx.MockTransport(fake)),
    )
    return fake


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_strip_follows_a_switch_a_rollback_and_an_outage(
    make_console: MakeConsole, proxy: Proxy, size: tuple[int, int]
) -> None:
    history(("deploy", "v1", 30))
    app = make_console(environment="Production", live_panes=lambda _console: Watching())
    app.embedded.engine_reachable = lambda _host: True
    async with app.run_test(size=size) as pilot:
        await until(lambda: app.main_screen is not None)
        strip = app.screen.query_one(ServingStrip)
        await until(lambda: "blue v1" in strip.text, what="the strip shows blue v1")
        assert strip.region.y == 1 and strip.region.height == 1  # under the status bar
        assert strip.region.right <= size[0]
        assert len(strip.text) <= size[0] - 2  # fitted, not cut
        assert strip.text.startswith("PRODUCTION │" if size[0] > 80 else "PROD")
        if size[0] >= 120:
            assert "deployed v1 30m ago by alice" in strip.text
        else:
            assert "deploy v1 30m" in strip.text

        app.screen.post_message(GaugesShown((error_rate(2.5),)))
        await until(lambda: "2.5 %" in strip.text, what="the gauges' error rate is shown")

        proxy.colour, proxy.version = "green", "v2"  # the switch
        history(("deploy", "v2", 2))
        await until(lambda: "green v2" in strip.text, what="the strip shows green v2")
        await until(lambda: "v2 2m" in strip.text, what="the deploy of v2 is the last change")

        proxy.colour, proxy.version = "blue", "v1"  # the rollback
        history(("rollback", "v1", 1))
        rolled_back = "rolled back to v1 1m ago" if size[0] >= 120 else "rollback v1 1m"
        await until(
            lambda: "blue v1" in strip.text and rolled_back in strip.text,
            what="the strip shows the rollback to blue v1",
        )

        proxy.version = None  # the service stops answering
        await until(lambda: "unreachable since" in strip.text, what="the strip says unreachable")
        assert "blue v1" not in strip.text.replace("last known blue v1", "")
        assert "(last v1)" in strip.text or "last known blue v1" in strip.text
        assert strip.has_class("-down")
        await pilot.pause()
    assert {agent.split("/")[0] for agent in proxy.agents} == {"runbook-console"}


async def test_without_live_panes_it_says_not_watched(make_console: MakeConsole) -> None:
    history(("rollback", "v3", 5))
    app = make_console(live_panes=None)
    async with app.run_test(size=(80, 24)):
        await until(lambda: app.main_screen is not None)
        strip = app.screen.query_one(ServingStrip)
        await until(lambda: strip.history_read and "rollback v3 5m" in strip.text)
        assert "not watched" in strip.text


class WatchingThrough(Widget):
    """Live panes that say which base URL they watch, and the prober they read it with."""

    def __init__(self, prober: Prober) -> None:
        super().__init__()
        self.prober = prober

    def on_mount(self) -> None:
        self.post_message(ServiceWatched("http://service.test", 1.0, self.prober))


async def test_the_strip_reads_on_by_itself_when_the_live_panes_prober_closes(
    make_console: MakeConsole, proxy: Proxy
) -> None:
    prober = Prober(client_factory=lambda: httpx.AsyncClient(transport=httpx.MockTransport(proxy)))
    app = make_console(
        environment="Production", live_panes=lambda _console: WatchingThrough(prober)
    )
    app.embedded.engine_reachable = lambda _host: True
    async with app.run_test(size=(120, 40)):
        await until(lambda: app.main_screen is not None)
        strip = app.screen.query_one(ServingStrip)
        await until(lambda: "blue v1" in strip.text, what="the strip shows blue v1")
        assert prober.requests >= 1  # through the live panes' prober
        prober.close()
        proxy.colour, proxy.version = "green", "v2"
        await until(lambda: "green v2" in strip.text, what="the strip reads on by itself")
