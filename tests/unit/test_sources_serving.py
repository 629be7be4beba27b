"""What is serving: reads of the proxy's /health, the last known version, the last change
in the deployment history, and the strip's line fitted to a width."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from runbook.sources.gauges import GaugeValue
from runbook.sources.probe import PROBE_USER_AGENT
from runbook.sources.serving import (
    ChangeWatch,
    LastChange,
    ServingRead,
    ServingWatch,
    age_text,
    clock_text,
    fit_segments,
    last_change,
    read_response,
    strip_segments,
)

NOW = datetime(2026, 1, 17, 3, 12, 0, tzinfo=UTC)
FULL_WIDTH = 200


def proxy(colour: str | None, version: str | None, status: int = 200) -> httpx.MockTransport:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {}
        if colour:
            headers["X-Upstream-Colour"] = colour
        if version:
            headers["X-Version"] = version
        return httpx.Response(status, headers=headers, json={"status": "healthy"})

    transport = httpx.MockTransport(answer)
    transport.seen = seen  # type: ignore[attr-defined]
    return transport


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("", request=request)


def line(segments: list[tuple[object, str]]) -> str:
    return " │ ".join(text for _, text in segments)


def test_a_response_names_colour_and_version_in_any_header_case() -> None:
    read = read_response(200, {"x-upstream-colour": "green", "X-VERSION": " v2 "}, at=5.0)
    assert (read.status, read.colour, read.version) == (200, "green", "v2")
    bare = read_response(200, {}, at=5.0)
    assert bare.colour is None and bare.version is None


async def test_poll_reads_the_proxy_health_as_a_marked_probe() -> None:
    transport = proxy("blue", "v1")
    watch = ServingWatch("http://service.test/")
    async with httpx.AsyncClient(transport=transport) as client:
        serving = await watch.poll(client)
    assert serving.current and serving.healthy
    assert (serving.read.colour, serving.read.version) == ("blue", "v1")  # type: ignore[union-attr]
    request = transport.seen[0]  # type: ignore[attr-defined]
    assert str(request.url) == "http://service.test/health"
    assert request.headers["User-Agent"] == PROBE_USER_AGENT
    assert watch.client().headers["User-Agent"] == PROBE_USER_AGENT


async def test_unreachable_keeps_the_last_version_as_last_known_never_current() -> None:
    watch = ServingWatch("http://service.test")
    async with httpx.AsyncClient(transport=proxy("blue", "v1")) as client:
        await watch.poll(client)
    async with httpx.AsyncClient(transport=httpx.MockTransport(refused)) as client:
        first = await watch.poll(client)
        await asyncio.sleep(0.01)
        later = await watch.poll(client)
    assert not first.current and not first.reachable
    assert first.read is not None and first.read.version is None
    assert "ConnectError" in first.read.error
    assert (later.last_colour, later.last_version) == ("blue", "v1")
    assert later.down_since == first.read.at  # since the first failed read, not the newest
    async with httpx.AsyncClient(transport=proxy("green", "v2")) as client:
        back = await watch.poll(client)
    assert back.current and back.down_since is None and back.last_version == "v2"


async def test_a_proxy_answer_without_a_version_is_not_current() -> None:
    watch = ServingWatch("http://service.test")
    watch.update(ServingRead(1.0, 200, "blue", "v1"))
    async with httpx.AsyncClient(transport=proxy("blue", None, status=502)) as client:
        serving = await watch.poll(client)
    assert serving.reachable and not serving.healthy and not serving.current
    text = line(fit_segments(strip_segments("dev", False, serving, now=NOW), FULL_WIDTH))
    assert "HTTP 502, no version since" in text and "last known blue v1" in text
    assert "serving blue" not in text


async def test_a_hung_proxy_costs_the_deadline_only() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200)

    watch = ServingWatch("http://service.test", deadline_s=0.05)
    async with httpx.AsyncClient(transport=httpx.MockTransport(hang)) as client:
        serving = await watch.poll(client)
    assert serving.read is not None and serving.read.error == "no answer in 0.05 s"


def write_history(path: Path, *records: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")


def record(action: str, version: str, minutes_ago: float, outcome: str = "succeeded") -> dict:
    at = NOW - timedelta(minutes=minutes_ago)
    return {
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "action": action,
        "environment": "prod",
        "to_version": version,
        "user": "alice",
        "outcome": outcome,
    }


def test_last_change_is_the_newest_successful_deploy_or_rollback(tmp_path: Path) -> None:
    history = tmp_path / "deployments.jsonl"
    assert last_change(history, NOW) is None
    write_history(
        history,
        record("deploy", "v1", 600),  # older than an hour: still the last change if newest
        record("deploy", "v2", 300),
        record("rollback", "v1", 200),
        record("deploy", "v3", 100, outcome="failed"),
    )
    change = last_change(history, NOW)
    assert change is not None and change.rolled_back and change.version == "v1"
    assert change.text(NOW) == "rolled back to v1 3h ago by alice"
    assert change.text(NOW, short=True) == "rollback v1 3h"


def test_change_watch_rereads_only_a_changed_file(tmp_path: Path) -> None:
    history = tmp_path / "deployments.jsonl"
    watch = ChangeWatch(history)
    assert not watch.unchanged(), "never checked: a read is due"
    assert watch.check(NOW) is None
    assert watch.unchanged()
    write_history(history, record("deploy", "v1", 5))
    assert not watch.unchanged()
    first = watch.check(NOW)
    assert watch.unchanged()
    assert first is not None and first.version == "v1"
    assert watch.check(NOW) is first  # not read again
    write_history(history, record("deploy", "v2", 1))
    second = watch.check(NOW)
    assert second is not None and second.version == "v2" and not second.rolled_back
    assert second.text(NOW) == "deployed v2 1m ago by alice"


@pytest.mark.parametrize(
    ("seconds", "text"), [(-3, "0s"), (59, "59s"), (60, "1m"), (7200, "2h"), (200000, "2d")]
)
def test_age_text(seconds: float, text: str) -> None:
    assert age_text(seconds) == text


def error_gauge(value: float | None, state: str = "ok") -> GaugeValue:
    return GaugeValue(
        metric="Error Rate",
        kind="error_rate",
        value=value,
        unit="%",
        state=state,  # type: ignore[arg-type]
        age_s=0.0,
        source="scrape",
        detail="",
        history=(),
        action="",
        warning_text=">1%",
        critical_text=">5%",
        procedure=None,
    )


def serving_now(colour: str = "blue", version: str = "v2") -> ServingWatch:
    watch = ServingWatch("http://service.test")
    watch.update(ServingRead(NOW.timestamp(), 200, colour, version, latency_s=0.004))
    return watch


def test_the_full_line_says_everything() -> None:
    change = LastChange("deploy", "v2", NOW - timedelta(minutes=4), user="alice")
    segments = strip_segments(
        "Production",
        True,
        serving_now().serving,
        gauges=[error_gauge(0.25)],
        change=change,
        history_read=True,
        now=NOW,
    )
    assert line(fit_segments(segments, FULL_WIDTH)) == (
        "PRODUCTION │ serving blue v2 │ /health ✔ 200 4 ms │ errors 0.2 % │ "
        "deployed v2 4m ago by alice"
    )
    assert [s.tone for s in segments][:2] == ["env-production", "ok"]


@pytest.mark.parametrize("width", [78, 60, 40])
def test_narrow_lines_shorten_then_drop_but_keep_the_version(width: int) -> None:
    change = LastChange("rollback", "v1", NOW - timedelta(seconds=30), user="alice")
    segments = strip_segments(
        "Development",
        False,
        serving_now("blue", "v1").serving,
        gauges=[error_gauge(12.5, "critical")],
        change=change,
        history_read=True,
        now=NOW,
    )
    text = line(fit_segments(segments, width))
    assert "blue v1" in text
    assert len(text) <= width or width < 30
    if width == 78:  # every part, in its short form
        assert text == "Development │ serving blue v1 │ ✔ 200 │ err 12.5 % │ rollback v1 30s"
    if width == 40:  # every part short, the last change dropped
        assert text == "dev │ blue v1 │ ✔ 200 │ err 12.5 %"


def test_unreachable_at_80_columns_says_since_when_and_the_last_known_version() -> None:
    watch = serving_now("green", "v2")
    down = watch.update(ServingRead(NOW.timestamp() + 5, None, None, None, error="ConnectError: x"))
    segments = strip_segments(
        "Production", True, down, gauges=[error_gauge(None)], history_read=True, now=NOW
    )
    since = clock_text(NOW.timestamp() + 5)
    wide = line(fit_segments(segments, FULL_WIDTH))
    assert f"unreachable since {since} · last known green v2" in wide
    narrow = line(fit_segments(segments, 78))
    assert f"unreachable since {since} (last v2)" in narrow and len(narrow) <= 78
    assert "serving" not in narrow


def test_before_any_read_and_without_live_panes() -> None:
    waiting = line(fit_segments(strip_segments("dev", False, None, now=NOW), FULL_WIDTH))
    assert waiting == "dev │ serving: checking…"
    off = strip_segments("dev", False, None, watched="not watched", history_read=True, now=NOW)
    assert line(fit_segments(off, FULL_WIDTH)) == "dev │ serving: not watched │ no deploy recorded"
