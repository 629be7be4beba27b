"""Three engines in one containers pane: the shared one and two private dockerds.

A stalled (SIGSTOP) or dead (SIGKILL) private engine marks only its own rows, and the
other engines' rows keep following their events meanwhile.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from engines import PrivateEngines
from live_app import LiveHarness, seed_runbook
from live_helpers import DOCKER_SOCKET, run_container
from sshd import LoopbackSshd

from console.panes.containers import ContainersPane
from runbook.execution.container_actions import action_plan
from runbook.sources.settings import SourceSettings
from tests.required import unavailable
from tests.waiting import wait_until_async as until

# One worker starts the private engines (a session fixture) and runs every test here.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("private-engines")]


@pytest.fixture
def engines(private_engines: PrivateEngines) -> Iterator[PrivateEngines]:
    """The private engines, all running; the live ones are resumed and emptied after."""
    private_engines.revive()
    yield private_engines
    for engine in private_engines.engines:
        if engine.process is None:
            continue  # killed: the session's teardown removes what it left
        engine.resume()
        for container in engine.client().containers.list(all=True):
            container.remove(force=True)


def states(pane: ContainersPane, host: str) -> list[str]:
    return [
        str(pane.table.get_cell(cid, "state"))
        for cid, info in pane.containers.items()
        if info.host == host
    ]


def unreachable(pane: ContainersPane, host: str) -> bool:
    shown = states(pane, host)
    return bool(shown) and all(text.startswith("unreachable since ") for text in shown)


async def test_three_engines_a_stalled_one_marks_only_its_rows(
    engines: PrivateEngines, docker_client: Any, token: str
) -> None:
    first, second, _ = engines.engines
    shared_url = f"unix://{DOCKER_SOCKET}"
    shared = run_container(docker_client, token, 'trap "exit 0" TERM; sleep 300 & wait')
    on_first = first.run(engines.image, f"rbc-eng-{token}-a")
    on_second = second.run(engines.image, f"rbc-eng-{token}-b")
    settings = SourceSettings(
        docker_hosts=(shared_url, first.url, second.tcp_url),
        containers=token,
        base_url="http://127.0.0.1:9",
    )
    app = LiveHarness(seed_runbook(), settings)
    async with app.run_test(size=(160, 40)):
        pane = app.query_one(ContainersPane)
        await until(lambda: {shared.id, on_first.id, on_second.id} <= set(pane.containers), 20)
        assert pane.containers[on_second.id].host == second.tcp_url
        assert str(pane.table.get_cell(on_second.id, "host")) == second.tcp_url[len("tcp://") :]
        await until(lambda: "3 of 3 Docker engines connected" in status(app), 10)

        second.stall()
        try:
            await until(lambda: unreachable(pane, second.tcp_url), 10)
            assert "2 of 3 Docker engines connected" in status(app)
            # The other engines keep following their events while this one hangs.
            on_first.kill()
            await until(lambda: states(pane, first.url) == ["exited"], 10)
            late = run_container(docker_client, token, 'trap "exit 0" TERM; sleep 300 & wait')
            await until(lambda: states(pane, shared_url) == ["running", "running"], 10)
            assert late.id in pane.containers
            assert unreachable(pane, second.tcp_url)
        finally:
            second.resume()
        await until(lambda: states(pane, second.tcp_url) == ["running"], 20)

    # The row's action goes to its own engine: the planned command runs as shown.
    inspect = action_plan("inspect", pane.containers[on_second.id], docker_host=second.tcp_url)
    command = inspect.resolved_commands[0]
    assert command.startswith(f"docker --host {second.tcp_url} inspect ")
    ran = subprocess.run(shlex.split(command), capture_output=True, text=True, check=False)
    assert ran.returncode == 0 and on_second.id in ran.stdout


async def test_a_dead_engine_marks_only_its_rows(engines: PrivateEngines) -> None:
    first, second, doomed = engines.engines
    token = uuid.uuid4().hex[:8]
    rows = {
        engine.url: engine.run(engines.image, f"rbc-eng-{token}-{engine.name}")
        for engine in (first, second, doomed)
    }
    settings = SourceSettings(
        docker_hosts=(first.url, second.url, doomed.url),
        containers=token,
        base_url="http://127.0.0.1:9",
    )
    app = LiveHarness(seed_runbook(), settings)
    async with app.run_test(size=(160, 40)):
        pane = app.query_one(ContainersPane)
        await until(lambda: {row.id for row in rows.values()} <= set(pane.containers), 20)

        doomed.kill()
        await until(lambda: unreachable(pane, doomed.url), 10)
        assert "2 of 3 Docker engines connected" in status(app)
        rows[first.url].kill()
        rows[second.url].kill()
        await until(lambda: states(pane, first.url) == states(pane, second.url) == ["exited"], 10)
        assert unreachable(pane, doomed.url)


def status(app: LiveHarness) -> str:
    return str(app.query_one("#containers-status").render())


async def test_an_engine_over_ssh_beside_a_local_one(
    engines: PrivateEngines, sshd: LoopbackSshd
) -> None:
    first, second, _ = engines.engines
    token = uuid.uuid4().hex[:8]
    over_ssh = first.run(engines.image, f"rbc-eng-{token}-a")
    local = second.run(engines.image, f"rbc-eng-{token}-b")
    settings = SourceSettings(
        docker_hosts=(sshd.url, second.url), containers=token, base_url="http://127.0.0.1:9"
    )
    app = LiveHarness(seed_runbook(), settings)
    async with app.run_test(size=(160, 40)):
        pane = app.query_one(ContainersPane)
        await until(lambda: {over_ssh.id, local.id} <= set(pane.containers), 30)
        assert pane.containers[over_ssh.id].host == sshd.url
        assert str(pane.table.get_cell(over_ssh.id, "host")) == f"root@127.0.0.1:{sshd.port}"
        await until(lambda: "2 of 2 Docker engines connected" in status(app), 10)

        first.stall()  # the engine behind SSH hangs: the SSH session itself stays up
        try:
            await until(lambda: unreachable(pane, sshd.url), 15)
            local.kill()
            await until(lambda: states(pane, second.url) == ["exited"], 10)
            assert unreachable(pane, sshd.url)
        finally:
            first.resume()
        await until(lambda: states(pane, sshd.url) == ["running"], 30)


async def test_a_dozen_containers_over_ssh_within_a_default_sshds_limits(
    engines: PrivateEngines, sshd: LoopbackSshd
) -> None:
    """sshd's defaults (MaxStartups 10:30:100, MaxSessions 10) refuse bursts of
    connections still authenticating: a dozen rows read over one ssh:// engine all get
    their figures, and sshd drops nothing."""
    app, ids = app_over_ssh(engines, sshd, 12)
    async with app.run_test(size=(160, 50)):
        pane = app.query_one(ContainersPane)
        await until(lambda: ids <= set(pane.containers), 60, "the dozen rows")
        figures = lambda: [str(pane.table.get_cell(cid, "cpu")) for cid in ids]  # noqa: E731
        await until(lambda: all(text != "-" for text in figures()), 60, "every row's CPU")
    log = (sshd.root / "sshd.log").read_text(errors="replace")
    assert "MaxStartups" not in log and "drop connection" not in log, log[-2000:]


async def test_quitting_while_the_engine_behind_ssh_hangs_does_not_hang(
    engines: PrivateEngines, sshd: LoopbackSshd
) -> None:
    """The engine behind ssh:// stalls (SIGSTOP) with every stream open over the SSH
    session, which itself stays up: quitting then still ends the app (its workers'
    blocked reads are closed), instead of waiting on them."""
    first = engines.engines[0]
    app, ids = app_over_ssh(engines, sshd, 3)

    async def session() -> None:
        async with app.run_test(size=(160, 40)):
            pane = app.query_one(ContainersPane)
            await until(lambda: ids <= set(pane.containers), 60, "the rows over ssh")
            await until(lambda: all(pane.stats.get(cid) for cid in ids), 60, "their stats")
            first.stall()
            await until(lambda: unreachable(pane, sshd.url), 20)
            app.exit()

    try:
        await asyncio.wait_for(session(), 90)  # a quit that hangs fails here, not for ever
    finally:
        first.resume()


@pytest.fixture
def sshd(engines: PrivateEngines, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackSshd]:
    """A loopback sshd with sshd's default limits in front of the first private engine;
    HOME points at its client key."""
    if importlib.util.find_spec("paramiko") is None:
        unavailable("paramiko is not installed (the Docker SDK's SSH transport)")
    server = LoopbackSshd(engines.engines[0].url)
    try:
        server.start()
        monkeypatch.setenv("HOME", str(server.home))  # the SDK reads ~/.ssh from HOME
        yield server
    finally:
        server.stop()


def app_over_ssh(
    engines: PrivateEngines, sshd: LoopbackSshd, count: int
) -> tuple[LiveHarness, set[str]]:
    """`count` containers on the first engine, and an app that sees it over ssh:// only."""
    token = uuid.uuid4().hex[:8]
    first = engines.engines[0]
    ids = {first.run(engines.image, f"rbc-eng-{token}-{n:02}").id for n in range(count)}
    settings = SourceSettings(
        docker_hosts=(sshd.url,), containers=token, base_url="http://127.0.0.1:9"
    )
    return LiveHarness(seed_runbook(), settings), ids
