"""Following logs on an engine that freezes (SIGSTOP, then SIGCONT) or is flooded (issue 16,
item 5). Both run on a private dockerd of this module's own: the shared engine is never
frozen, and a flood there would slow every other test on the box.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engines import PrivateEngine, require_private_engines, start_engines
from live_app import LiveHarness, seed_runbook
from live_helpers import live_image, require_engine
from textual.widgets import Static

from console.panes.logs import LogsPane
from runbook.sources.docker.engine import Engine
from runbook.sources.logs import LogBatch, LogFollower, LogLine
from runbook.sources.settings import SourceSettings
from tests.waiting import wait_until
from tests.waiting import wait_until_async as until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine_under_test() -> Iterator[PrivateEngine]:
    require_private_engines()
    (engine,) = start_engines(live_image(require_engine()), ["logs"], tcp=set())
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture
def containers(engine_under_test: PrivateEngine) -> Iterator[list[Any]]:
    """The test's containers on the private engine, removed after it."""
    made: list[Any] = []
    yield made
    for container in made:
        container.remove(force=True)


def run(engine: PrivateEngine, made: list[Any], script: str, **kwargs: Any) -> Any:
    """A host-network container on the private engine running `sh -c script`."""
    container = engine.client().containers.run(
        live_image(engine.client()),
        ["sh", "-c", script],
        name=f"rbc-frozen-{uuid.uuid4().hex[:8]}",
        network_mode="host",
        detach=True,
        **kwargs,
    )
    made.append(container)
    return container


def numbers(lines: list[LogLine], prefix: str) -> list[int]:
    return [int(line.text.split()[1]) for line in lines if line.text.startswith(f"{prefix} ")]


def written(count_file: Path) -> int:
    """The number of the last line the container wrote (it also keeps it in a file)."""
    text = count_file.read_text().strip() if count_file.exists() else ""
    return int(text) if text.isdigit() else 0


def test_engine_frozen_and_thawed_backfills_with_a_gap_marker_and_no_duplicates(
    engine_under_test: PrivateEngine, containers: list[Any], tmp_path: Path
) -> None:
    """Each freeze outlasts the watchdog, so the stream is dropped and reopened: what the
    container wrote meanwhile is read back by timestamp, once, after a gap marker."""
    count_file = tmp_path / "count"
    counter = 'i=0; while :; do i=$((i+1)); echo "line $i"; echo $i > /out/count; sleep 0.02; done'
    container_name = run(
        engine_under_test,
        containers,
        counter,
        volumes={str(tmp_path): {"bind": "/out", "mode": "rw"}},
    ).name
    engine = Engine(engine_under_test.url)
    engine.start()
    follower = LogFollower(engine, [container_name], tail=10_000)
    lines: list[LogLine] = []
    lock = threading.Lock()

    def collect(message: object) -> None:
        if isinstance(message, LogBatch):
            with lock:
                lines.extend(message.lines)

    def seen() -> list[int]:
        with lock:
            return numbers(lines, "line")

    def gaps() -> int:
        with lock:
            return sum(line.kind == "gap" for line in lines)

    thread = threading.Thread(target=follower.run, args=(collect,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: len(seen()) > 20, 10, "the follower reads the container")
        for freeze in range(1, 4):
            engine_under_test.stall()
            try:
                wait_until(lambda: not engine.state.reachable, 10, "the watchdog sees the freeze")
                frozen_at = max(seen())
                wait_until(
                    lambda frozen_at=frozen_at: written(count_file) > frozen_at + 30,
                    10,
                    "the container logs on while its engine is frozen",
                )
                written_while_frozen = written(count_file)
            finally:
                engine_under_test.resume()
            wait_until(lambda freeze=freeze: gaps() >= freeze, 15, "a gap marker after the thaw")
            wait_until(
                lambda target=written_while_frozen: max(seen()) > target + 20,
                15,
                "what was written while frozen is backfilled, and the follower follows on",
            )
    finally:
        follower.stop()
        engine.stop()
        thread.join(5)
    with lock:
        delivered = list(lines)
    got = numbers(delivered, "line")
    assert len(got) == len(set(got)), "a line was delivered twice"
    missing = sorted(set(range(got[0], got[-1] + 1)) - set(got))
    assert not missing, f"lines lost across a freeze: {missing[:20]}"
    assert got == sorted(got), "lines out of order"
    markers = [line.text for line in delivered if line.kind == "gap"]
    assert len(markers) == 3 and all(text.startswith("reconnected after") for text in markers)
    stamps = [line.timestamp for line in delivered if line.kind == "line"]
    assert stamps == sorted(stamps)


def shown_numbers(logs: LogsPane, prefix: str) -> list[int]:
    """The numbers of the `prefix N` lines in the view, in order."""
    found = []
    for text in logs.view.lines:
        words = text.split()
        if prefix in words[:-1]:
            number = words[words.index(prefix) + 1]
            if number.isdigit():
                found.append(int(number))
    return found


def last_logged(container: Any, prefix: str) -> int:
    """N of the container's newest line if it is `prefix N`, read from the engine (0 if not)."""
    words = container.logs(tail=1).decode().split()
    return int(words[1]) if len(words) == 2 and words[0] == prefix else 0


async def test_log_view_after_a_freeze_shows_the_backfill_once_and_follows_on(
    engine_under_test: PrivateEngine, containers: list[Any], tmp_path: Path
) -> None:
    count_file = tmp_path / "count"
    counter = 'i=0; while :; do i=$((i+1)); echo "line $i"; echo $i > /out/count; sleep 0.02; done'
    container = run(
        engine_under_test,
        containers,
        counter,
        volumes={str(tmp_path): {"bind": "/out", "mode": "rw"}},
    )
    app = LiveHarness(seed_runbook(), SourceSettings(docker_host=engine_under_test.url))
    async with app.run_test(size=(120, 40)):
        logs = app.query_one(LogsPane)
        logs.follow((container.name,))
        await until(lambda: len(shown_numbers(logs, "line")) > 20, 10)
        engine_under_test.stall()
        try:
            await until(lambda: "unreachable since" in logs.engine_note, 10)
            frozen_at = max(shown_numbers(logs, "line"))
            await until(lambda: written(count_file) > frozen_at + 30, 10)
            written_while_frozen = written(count_file)
        finally:
            engine_under_test.resume()
        await until(lambda: any("──── reconnected after" in text for text in logs.view.lines), 15)
        await until(lambda: max(shown_numbers(logs, "line")) > written_while_frozen + 20, 15)
        await until(lambda: logs.view.is_vertical_scroll_end and not logs.engine_note, 5)
        got = shown_numbers(logs, "line")
        assert len(got) == len(set(got)), "a line was shown twice"
        assert got == list(range(got[0], got[-1] + 1)), "a line went missing across the freeze"


async def test_a_flood_keeps_the_newest_line_on_screen_and_keys_answered(
    engine_under_test: PrivateEngine, containers: list[Any], tmp_path: Path
) -> None:
    """A container writes lines as fast as it can until told to stop, then one line every
    half second: mid-flood the view reaches the engine's newest line and keys are answered;
    afterwards every new line shows up on screen."""
    flood = (
        "i=1; while [ ! -e /out/stop ]; do "
        "seq $i $((i+9999)) | sed 's/^/flood /'; i=$((i+10000)); done; "
        'j=0; while :; do j=$((j+1)); echo "tick $j"; sleep 0.5; done'
    )
    container = run(
        engine_under_test,
        containers,
        flood,
        volumes={str(tmp_path): {"bind": "/out", "mode": "rw"}},
        log_config={"type": "json-file", "config": {"max-size": "20m", "max-file": "2"}},
    )
    app = LiveHarness(seed_runbook(), SourceSettings(docker_host=engine_under_test.url))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            logs = app.query_one(LogsPane)
            logs.follow((container.name,))
            await until(lambda: max(shown_numbers(logs, "flood") or [0]) > 50_000, 20)
            logs.view.focus()
            for _ in range(3):
                newest = last_logged(container, "flood")
                await until(
                    lambda newest=newest: max(shown_numbers(logs, "flood") or [0]) >= newest, 5
                )
                assert logs.view.is_vertical_scroll_end and logs.following_end
            await pilot.press("t")  # timestamps off, answered mid-flood (it stops when told)
            await until(lambda: logs.view.lines[-1].startswith("flood "), 5)
            status = str(logs.query_one("#logs-status", Static).render())
            assert "skipped ahead at" in status, "a view that skipped lines says so"
            (tmp_path / "stop").touch()
            await until(lambda: shown_numbers(logs, "tick"), 20, "the view is past the flood")
            for _ in range(3):
                newest = last_logged(container, "tick")
                await until(
                    lambda newest=newest: max(shown_numbers(logs, "tick") or [0]) >= newest, 2
                )
                assert logs.view.is_vertical_scroll_end and logs.following_end
    finally:
        (tmp_path / "stop").touch()
