"""LivePanes in a running app against the real engine (through a proxy we break)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from live_app import LiveHarness, seed_runbook
from live_helpers import SilentServer, SocketProxy, run_container

from console.panes.containers import ContainersPane
from console.panes.gauges import GaugesPane
from console.panes.logs import LogsPane
from runbook.sources.settings import SourceSettings
from tests.waiting import wait_until
from tests.waiting import wait_until_async as until

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def status_text(app: LiveHarness) -> str:
    return str(app.query_one("#containers-status").render())


async def test_engine_outage_is_shown_and_recovered_while_the_rest_works(
    proxy: SocketProxy, docker_client: Any, token: str
) -> None:
    container = run_container(docker_client, token, "sleep 300")
    settings = SourceSettings(docker_host=proxy.url, base_url="http://127.0.0.1:9")
    app = LiveHarness(seed_runbook(), settings)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(ContainersPane)
        await until(lambda: container.id in pane.containers, 5)
        proxy.stop()
        await until(lambda: "Docker engine unreachable since" in status_text(app), 2.0)
        assert ", retrying" in status_text(app)
        gauges = app.query_one(GaugesPane)
        gauges.focus()
        await pilot.press("down")  # the rest of the console keeps answering
        assert gauges.selected == 1
        proxy.start()
        await until(lambda: "unreachable" not in status_text(app), 5.0)
        await until(lambda: pane.table.row_count >= 1 and container.id in pane.containers, 5.0)


async def test_socket_missing_at_start_console_starts_and_says_what_to_do() -> None:
    settings = SourceSettings(docker_host="unix:///tmp/rbc-missing/docker.sock")
    app = LiveHarness(seed_runbook(), settings)
    async with app.run_test(size=(120, 40)):
        problem = str(app.query_one("#live-problem").render())
        assert "/tmp/rbc-missing/docker.sock does not exist" in problem
        await until(lambda: "unreachable since" in status_text(app), 2.0)


async def test_prometheus_that_never_answers_gives_no_data_within_5s() -> None:
    silent = SilentServer()
    try:
        settings = SourceSettings(
            prometheus_url=silent.url, prometheus_interval_s=1.0, prometheus_timeout_s=2.0
        )
        app = LiveHarness(seed_runbook(), settings)
        async with app.run_test(size=(120, 40)):
            gauges = app.query_one(GaugesPane)
            await until(lambda: all(v.detail for v in gauges.values), 5.0)
            assert all(v.state == "no-data" and v.value is None for v in gauges.values)
            assert "did not answer" in gauges.values[0].detail
    finally:
        silent.close()


async def test_logs_pane_follows_filters_and_pauses(docker_client: Any, token: str) -> None:
    script = (
        'i=0; while :; do i=$((i+1)); echo "GET /x $((i % 2 * 300 + 200)) n=$i"; sleep 0.05; done'
    )
    container = run_container(docker_client, token, script)
    app = LiveHarness(seed_runbook(), SourceSettings())
    async with app.run_test(size=(120, 40)) as pilot:
        logs = app.query_one(LogsPane)
        logs.follow((container.name,))
        await until(lambda: len(logs.view.lines) > 10, 5)
        logs.view.focus()
        await pilot.press("slash")
        await pilot.press("space", "5", "0", "0", "space")
        await pilot.press("enter")
        await until(lambda: shown(logs) and all(" 500 " in line for line in shown(logs)), 5)
        await pilot.press("v")  # inverse
        await until(lambda: shown(logs) and all(" 500 " not in line for line in shown(logs)), 5)
        await pilot.press("p")
        count = len(logs.view.lines)
        paused_at = last_number(logs)
        await until(lambda: last_number(logs) > paused_at + 16, 5)  # lines keep arriving...
        assert len(logs.view.lines) == count  # ...but paused, the view holds still
        await pilot.press("p")
        await until(lambda: len(logs.view.lines) > count, 5)


def shown(logs: LogsPane) -> list[str]:
    return [line for line in logs.view.lines if line]


def last_number(logs: LogsPane) -> int:
    """n of the newest line the pane received (shown or not)."""
    return int(logs.buffer.lines[-1].text.rsplit("n=", 1)[1]) if logs.buffer.lines else 0


QUIT_SCRIPT = """
import os, sys, time, threading
sys.path.insert(0, {tests!r}); sys.path.insert(0, {repo!r})
from live_app import LiveHarness, seed_runbook
from console.panes.containers import ContainersPane
from runbook.sources.settings import SourceSettings
app = LiveHarness(seed_runbook(), SourceSettings(docker_host={url!r}))
def streaming():
    try:
        pane = app.query_one(ContainersPane)
    except Exception:
        return False  # not mounted yet
    return set({ids!r}) <= set(pane.containers) and bool(pane.stats)
def later():
    while not (app.is_running and app.call_from_thread(streaming)):
        time.sleep(0.05)
    open({ready!r}, "w").write("x")  # the test hangs the proxy now
    while not os.path.exists({hung!r}):
        time.sleep(0.05)
    global quit_at
    quit_at = time.monotonic()
    app.call_from_thread(app.exit)
threading.Thread(target=later, daemon=True).start()
app.run(headless=True, size=(120, 40))
print("QUIT", time.monotonic() - quit_at, flush=True)
"""


def test_quitting_with_every_stream_open_and_hung_takes_under_1_5s(
    proxy: SocketProxy, docker_client: Any, token: str, tmp_path: Path
) -> None:
    ids = [
        run_container(docker_client, token, "while :; do echo tick; sleep 0.1; done").id
        for _ in range(3)
    ]
    ready, hung = tmp_path / "ready", tmp_path / "hung"
    script = QUIT_SCRIPT.format(
        tests=str(REPO / "tests" / "integration"),
        repo=str(REPO),
        url=proxy.url,
        ids=ids,
        ready=str(ready),
        hung=str(hung),
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TEXTUAL": ""},
    )
    try:
        # The console lists the containers and streams their stats: every stream is open.
        wait_until(lambda: ready.exists() or process.poll() is not None, 60, "the console streams")
        proxy.hang()  # every open stream now blocks in a read that never returns
        # An event for the console's open event stream, which the hung proxy holds back
        # (the engine itself is reached directly); pings open connections of their own.
        ids.append(run_container(docker_client, token, "sleep 60").id)
        wait_until(lambda: proxy.swallowed > 0, 10, "the hung proxy holds back the engine")
        hung.touch()  # the console quits now
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    quit_lines = [line for line in out.splitlines() if line.startswith("QUIT")]
    assert quit_lines, err[-2000:]
    process_exit = float(quit_lines[-1].split()[1])
    assert process_exit < 1.5
