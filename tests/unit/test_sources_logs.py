"""Log following with a fake engine: reconnect with `since`, a gap marker, no duplicates."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import urllib3

from runbook.sources import logs as logs_module
from runbook.sources.logs import (
    LogBatch,
    LogBuffer,
    LogFilter,
    LogFollower,
    LogLine,
    demultiplex,
    normalise_timestamp,
    split_line,
    timestamp_seconds,
)
from tests.waiting import wait_until

T1 = "2026-11-28T01:00:00.100000001Z"
T2 = "2026-11-28T01:00:00.2Z"
T3 = "2026-11-28T01:00:01.000000300Z"


class FakeClient:
    def __init__(self, script: list[Any], calls: list[dict[str, Any]]) -> None:
        self.script = script
        self.calls = calls

    def logs(self, container: str, **kwargs: Any) -> Iterator[bytes]:
        self.calls.append(kwargs)
        step = self.script.pop(0) if self.script else []
        return iter_chunks(step)

    def inspect_container(self, container: str) -> dict[str, Any]:
        return {"State": {"Running": bool(self.script)}, "Config": {"Tty": True}}


@pytest.fixture(autouse=True)
def fake_open(monkeypatch: pytest.MonkeyPatch) -> None:
    def open_stream(engine: Any, client: Any, container: str, options: dict[str, Any]) -> Any:
        return client.logs(container, **options), True

    monkeypatch.setattr(logs_module, "open_log_stream", open_stream)

    def close(self) -> None:
        pass


def iter_chunks(step: list[Any]) -> Iterator[bytes]:
    for item in step:
        if isinstance(item, BaseException):
            raise item
        yield item


class FakeEngine:
    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.calls: list[dict[str, Any]] = []
        self.stopped = False

    def wait_reachable(self, timeout_s: float | None = None) -> bool:
        return True

    def client(self, timeout_s: float | None = None, pool: int = 4) -> FakeClient:
        return FakeClient(self.script, self.calls)

    def register(self, stream: Any) -> None:
        pass

    def unregister(self, stream: Any) -> None:
        pass


def test_reconnect_uses_since_marks_the_gap_and_drops_repeats() -> None:
    script: list[Any] = [
        # A line split across frames, then the daemon dies mid-stream (raw urllib3 error).
        [f"{T1} first\n{T2} sec".encode(), b"ond\n", urllib3.exceptions.ProtocolError("gone")],
        # After reconnecting, the engine replays from `since` (rounded down): T2 again.
        [f"{T2} second\n{T3} third\n".encode()],
    ]
    engine = FakeEngine(script)
    follower = LogFollower(engine, ["web"], flush_s=0.02, retry_s=0.05)  # type: ignore[arg-type]
    lines: list[LogLine] = []
    thread = threading.Thread(
        target=follower.run,
        args=(lambda m: lines.extend(m.lines) if isinstance(m, LogBatch) else None,),
    )
    thread.start()
    try:
        wait_until(lambda: any(line.kind == "info" for line in lines), 3, "the third line")
    finally:
        follower.stop()
    thread.join(2)
    texts = [(line.kind, line.text) for line in lines]
    assert texts[:2] == [("line", "first"), ("line", "second")]
    assert texts[2][0] == "gap" and "gone" in texts[2][1]
    assert texts[3] == ("line", "third")
    assert [t for t in texts if t == ("line", "second")] == [("line", "second")]
    assert engine.calls[0]["tail"] == 200 and "since" not in engine.calls[0]
    assert engine.calls[1]["since"] == timestamp_seconds(normalise_timestamp(T2))


def test_demultiplex_keeps_partial_frames() -> None:
    frame = b"\x01\x00\x00\x00\x00\x00\x00\x06hello\n"
    frames = bytearray()
    assert demultiplex(frames, frame + frame[:5]) == b"hello\n"
    assert demultiplex(frames, frame[5:]) == b"hello\n" and not frames


def test_timestamps_are_fixed_width_and_sortable() -> None:
    assert normalise_timestamp(T2) == "2026-11-28T01:00:00.200000000Z"
    assert normalise_timestamp(T1) < normalise_timestamp(T2) < normalise_timestamp(T3)
    assert split_line(f"{T3} hello world".encode()) == (
        "2026-11-28T01:00:01.000000300Z",
        "hello world",
    )
    assert timestamp_seconds("2026-11-28T01:00:00.200000900Z") % 1 == pytest.approx(0.2, abs=1e-6)


def test_filter_substring_regex_inverse_and_highlight() -> None:
    line = LogLine("web", T1, "GET /health 200")
    gap = LogLine("web", T1, "reconnected", kind="gap")
    assert LogFilter("health").matches(line)
    assert LogFilter("HEALTH").matches(line)
    assert not LogFilter("health", invert=True).matches(line)
    assert LogFilter(r"\d{3}$", regex=True).matches(line)
    assert not LogFilter(r"5\d\d", regex=True).matches(line)
    assert LogFilter(r"5\d\d", regex=True, invert=True).matches(line)
    assert LogFilter("nothing").matches(gap)  # markers always show
    broken = LogFilter("(", regex=True)
    assert broken.error and broken.matches(line)
    assert LogFilter("h").spans("health check") == [(0, 1), (5, 6), (8, 9)]
    assert LogFilter("h", invert=True).spans("health") == []


def test_buffer_is_bounded() -> None:
    buffer = LogBuffer(max_lines=3)
    buffer.extend(LogLine("web", T1, str(n)) for n in range(10))
    assert [line.text for line in buffer.lines] == ["7", "8", "9"]
    assert [line.text for line in buffer.matching(LogFilter("9"))] == ["9"]


def serve_once(path: str, response: bytes) -> threading.Thread:
    import socket

    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(1)

    def answer() -> None:
        connection, _ = server.accept()
        request = b""
        while b"\r\n\r\n" not in request:
            request += connection.recv(4096)
        try:
            for part in (response[:50], response[50:]):  # split mid-chunk on purpose
                connection.sendall(part)
                time.sleep(0.02)
        except BrokenPipeError:
            pass  # the 404 case: the client hangs up after the status line
        connection.close()
        server.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return thread


def test_raw_stream_decodes_chunks_split_anywhere(tmp_path: Any) -> None:
    from runbook.sources.rawstream import RawStream

    body = b"".join(
        f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        for piece in (b"first line\n", b"second ", b"line\n" * 20)
    )
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    path = str(tmp_path / "d.sock")
    serve_once(path, head + body + b"0\r\n\r\n")
    stream = RawStream(f"unix://{path}", "/v1.41/containers/x/logs", {"follow": 1}, 2.0)
    data = b"".join(stream)
    assert data == b"first line\nsecond " + b"line\n" * 20


def test_raw_stream_404_is_not_found(tmp_path: Any) -> None:
    from docker.errors import NotFound

    from runbook.sources.rawstream import RawStream

    path = str(tmp_path / "d.sock")
    serve_once(path, b'HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\n\r\n{"message":"nope"}\n')
    with pytest.raises(NotFound):
        RawStream(f"unix://{path}", "/v1.41/containers/x/logs", {}, 2.0)


def test_local_clock() -> None:
    line = LogLine("web", "2026-11-28T23:30:05.123456789Z", "x")
    assert line.clock == "23:30:05.123"
    assert line.local_clock(0) == "23:30:05.123"
    assert line.local_clock(3600) == "00:30:05.123"
    assert line.local_clock(-5 * 3600) == "18:30:05.123"


def test_a_missing_container_is_reported_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from docker.errors import NotFound

    attempts: list[str] = []

    def missing(engine: Any, client: Any, container: str, options: dict[str, Any]) -> Any:
        attempts.append(container)
        raise NotFound("no such container: web")

    monkeypatch.setattr(logs_module, "open_log_stream", missing)
    engine = FakeEngine([])
    follower = LogFollower(engine, ["web"], flush_s=0.02, retry_s=0.01)  # type: ignore[arg-type]
    lines: list[LogLine] = []
    thread = threading.Thread(
        target=follower.run,
        args=(lambda m: lines.extend(m.lines) if isinstance(m, LogBatch) else None,),
    )
    thread.start()
    try:
        wait_until(lambda: len(attempts) >= 5, 5, "the follower tried again and again")
    finally:
        follower.stop()
    thread.join(2)
    assert [line.text for line in lines] == ["no such container"]


def chunked(*pieces: bytes) -> bytes:
    return b"".join(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for piece in pieces)


class ScriptedSocket:
    """Hands over one scripted block per `recv`, as a socket would what has arrived."""

    def __init__(self, blocks: list[bytes]) -> None:
        self.blocks = blocks

    def recv(self, size: int) -> bytes:
        return self.blocks.pop(0) if self.blocks else b""


def test_raw_stream_pauses_after_a_quiet_read_never_after_a_busy_one(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Docker writes one chunk per line; a unix socket fills after some 250 of them, about
    16 KiB. A read of many chunks means lines are coming faster than they are read."""
    from runbook.sources import rawstream

    pauses: list[float] = []
    monkeypatch.setattr(rawstream, "time", SimpleNamespace(sleep=pauses.append))
    path = str(tmp_path / "d.sock")
    serve_once(path, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    stream = rawstream.RawStream(f"unix://{path}", "/v1.41/containers/x/logs", {}, 2.0)
    flood = chunked(*(f"flood {n}\n".encode() for n in range(250)))
    assert len(flood) < rawstream.SMALL_READ
    stream.socket = ScriptedSocket([flood, chunked(b"tick 1\n"), b"0\r\n\r\n"])  # type: ignore[assignment]
    reads = iter(stream)
    assert next(reads).count(b"\n") == 250
    assert next(reads) == b"tick 1\n"
    assert pauses == [], "no pause after the busy read"
    assert list(reads) == []
    assert pauses == [rawstream.SETTLE_S], "one pause, after the quiet read"


class SteppedClock:
    """Wall-clock seconds that a fake stream moves on as it delivers."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return time.monotonic()


def test_falling_behind_a_flood_skips_to_the_newest_lines_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lines read 3 s later than their stamps say, where the stream's first was read at once: the
    follower reopens at the newest lines (tail, not since), after a gap marker."""
    base = "2026-11-28T01:00:0{}.000000000Z"
    clock = SteppedClock(timestamp_seconds(base.format(0)))
    monkeypatch.setattr(logs_module, "time", clock)

    def flooding() -> Iterator[bytes]:
        yield f"{base.format(0)} flood 1\n".encode()
        clock.now += 4.0  # the next block is read 3 s after the container wrote it
        yield f"{base.format(1)} flood 2\n".encode()
        yield f"{base.format(2)} flood 3\n".encode()  # never read: the follower skips ahead

    script: list[Any] = [
        flooding(),
        [f"{base.format(1)} flood 2\n{base.format(5)} flood 9\n".encode()],
    ]
    engine = FakeEngine(script)
    follower = LogFollower(engine, ["web"], flush_s=0.02, retry_s=0.05)  # type: ignore[arg-type]
    lines: list[LogLine] = []
    thread = threading.Thread(
        target=follower.run,
        args=(lambda m: lines.extend(m.lines) if isinstance(m, LogBatch) else None,),
    )
    thread.start()
    try:
        wait_until(lambda: any(line.kind == "info" for line in lines), 3, "the stream ends")
    finally:
        follower.stop()
    thread.join(2)
    texts = [line.text for line in lines if line.kind != "info"]
    assert texts[:2] == ["flood 1", "flood 2"]
    assert texts[2].startswith("skipped ahead: 3 s behind a container logging faster")
    assert [line.kind for line in lines][2] == "skip"
    assert texts[3:] == ["flood 9"], "flood 2 is not shown twice"
    assert engine.calls[1]["tail"] == 200 and "since" not in engine.calls[1]
