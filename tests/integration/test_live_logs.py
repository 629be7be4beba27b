"""Following real container logs through an engine outage: a gap marker, no duplicates."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from live_helpers import SocketProxy, run_container

from runbook.sources.docker.engine import Engine
from runbook.sources.logs import LogBatch, LogFilter, LogFollower, LogLine
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def numbers(lines: list[LogLine], prefix: str) -> list[int]:
    return [int(line.text.split()[1]) for line in lines if line.text.startswith(prefix)]


def last_logged(container: Any) -> int:
    """The number of the last `line N` the container wrote, read from the engine directly."""
    tail = container.logs(tail=1).decode().split()
    return int(tail[1]) if len(tail) == 2 and tail[0] == "line" else 0


def test_reconnect_after_engine_outage_has_gap_marker_and_no_duplicates(
    docker_client: Any, token: str
) -> None:
    counter = 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.02; done'
    container = run_container(docker_client, token, counter)
    proxy = SocketProxy()
    proxy.start()
    engine = Engine(proxy.url)
    engine.start()
    follower = LogFollower(engine, [container.name], tail=10_000)
    lines: list[LogLine] = []
    lock = threading.Lock()

    def collect(message: object) -> None:
        if isinstance(message, LogBatch):
            with lock:
                lines.extend(message.lines)

    thread = threading.Thread(target=follower.run, args=(collect,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: len(numbers(lines, "line")) > 20, 5)
        proxy.stop()  # engine gone: the stream dies mid-read
        seen_before = max(numbers(lines, "line"))
        wait_until(  # the container keeps logging meanwhile (read past the broken proxy)
            lambda: last_logged(container) > seen_before + 20, 10, "the container logs on"
        )
        proxy.start()
        wait_until(lambda: any(line.kind == "gap" for line in lines), 6)
        seen_at_gap = max(numbers(lines, "line"))
        wait_until(lambda: max(numbers(lines, "line")) > seen_at_gap + 50, 5)
    finally:
        follower.stop()
        engine.stop()
        thread.join(2)
        proxy.close()
    got = numbers(lines, "line")
    assert len(got) == len(set(got)), "a line was delivered twice"
    assert got == list(range(got[0], got[-1] + 1)), "a line went missing across the reconnect"
    gap = next(line for line in lines if line.kind == "gap")
    assert gap.text.startswith("reconnected after")
    stamps = [line.timestamp for line in lines if line.kind == "line"]
    assert stamps == sorted(stamps)


def test_follow_several_containers_and_filter(docker_client: Any, token: str) -> None:
    first = run_container(
        docker_client, token, "while :; do echo GET /health 200; sleep 0.05; done"
    )
    second = run_container(docker_client, token, "while :; do echo GET / 500; sleep 0.05; done")
    engine = Engine("unix:///var/run/docker.sock")
    engine.start()
    follower = LogFollower(engine, [first.name, second.name])
    lines: list[LogLine] = []
    thread = threading.Thread(
        target=follower.run,
        args=(lambda m: lines.extend(m.lines) if isinstance(m, LogBatch) else None,),
        daemon=True,
    )
    thread.start()
    try:
        wait_until(lambda: {line.container for line in lines} == {first.name, second.name}, 5)
    finally:
        follower.stop()
        engine.stop()
        thread.join(2)
    errors = [line for line in lines if LogFilter(r" 5\d\d$", regex=True).matches(line)]
    assert errors and all(line.container == second.name for line in errors)
    healthy = [line for line in lines if LogFilter("500", invert=True).matches(line)]
    assert healthy and all(line.container == first.name for line in healthy)


def test_a_stalled_stream_is_noticed_and_reopened_without_loss(
    docker_client: Any, token: str
) -> None:
    """One stream stops delivering while the engine answers: the probe finds the container
    kept logging, the stream is reopened with a gap marker, nothing lost or repeated."""
    counter = 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.05; done'
    container = run_container(docker_client, token, counter)
    proxy = SocketProxy()
    proxy.start()
    engine = Engine(proxy.url)
    engine.start()
    follower = LogFollower(engine, [container.name], tail=10_000, stall_after_s=1.5)
    lines: list[LogLine] = []

    def collect(message: object) -> None:
        if isinstance(message, LogBatch):
            lines.extend(message.lines)

    thread = threading.Thread(target=follower.run, args=(collect,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: len(numbers(lines, "line")) > 10, 5)
        proxy.stall_open()  # the log stream's connection goes silent; pings still pass
        wait_until(lambda: any(line.kind == "gap" for line in lines), 10)
        assert engine.state.reachable, "only the stream stalled, never the engine"
        seen_at_gap = max(numbers(lines, "line"))
        wait_until(lambda: max(numbers(lines, "line")) > seen_at_gap + 20, 5)
    finally:
        follower.stop()
        engine.stop()
        thread.join(2)
        proxy.close()
    gap = next(line for line in lines if line.kind == "gap")
    assert gap.text.startswith("reconnected after stream stalled")
    got = numbers(lines, "line")
    assert len(got) == len(set(got)), "a line was delivered twice"
    assert got == list(range(got[0], got[-1] + 1)), "a line went missing across the stall"
