"""Container logs: follow one or several containers, reconnect without duplicates.

Each container is followed on its own daemon thread with timestamps on. After a
stream ends or fails (engine restarted, container restarted), the follower waits
for the engine and reopens the stream with `since` = the last timestamp seen,
rounded down to the microsecond; lines at or before that timestamp which were
already delivered are dropped, so nothing is shown twice and nothing is lost
while the container kept its log. A gap marker line records each reconnect.
A stream that goes quiet for `stall_after_s` is probed: a one-shot read of the
log since the last line seen; if the container did log meanwhile, the stream is
stalled (the engine still answers, this one connection does not deliver), so it
is closed and reopened like any other broken stream. Lines are handed over in
batches (every `flush_s`) so a chatty container costs one callback per batch,
not per line. A container that logs faster than its lines can be read leaves the
reader ever further behind: once the lines read are `behind_after_s` older than the
freshest seen on that stream (engine clock against ours, so a skewed clock does not
count), the stream is reopened at the container's newest lines, after a gap marker.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from docker.errors import NotFound

from runbook.sources import rawstream
from runbook.sources.docker.engine import Emit, Engine

LineKind = Literal["line", "gap", "skip", "info"]
"""`gap`: a stream reopened where it stopped; `skip`: reopened at the newest lines, past some."""


@dataclass(frozen=True, slots=True)
class LogLine:
    container: str
    """The container's name as given to the follower."""
    timestamp: str
    """RFC 3339 with 9 fractional digits (fixed width, so strings sort by time)."""
    text: str
    kind: LineKind = "line"
    task: str = ""
    """The orchestrator's task (replica) that wrote it, for a service's logs; "" otherwise."""

    @property
    def clock(self) -> str:
        """HH:MM:SS.mmm of the timestamp in UTC."""
        return self.timestamp[11:23]

    def local_clock(self, utc_offset_s: int) -> str:
        """HH:MM:SS.mmm in local time, given the local UTC offset in seconds."""
        if not utc_offset_s:
            return self.clock
        try:
            seconds = (
                int(self.timestamp[11:13]) * 3600
                + int(self.timestamp[14:16]) * 60
                + int(self.timestamp[17:19])
                + utc_offset_s
            ) % 86400
        except ValueError:
            return self.clock
        hours, rest = divmod(seconds, 3600)
        return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}{self.timestamp[19:23]}"


@dataclass(frozen=True)
class LogBatch:
    lines: tuple[LogLine, ...]


def normalise_timestamp(stamp: str) -> str:
    """`2026-11-28T00:34:02.1234Z` -> `2026-11-28T00:34:02.123400000Z` (fixed width)."""
    if len(stamp) == 30:
        return stamp  # already nine digits: the common case, kept cheap
    head, _, rest = stamp.partition(".")
    head = head.rstrip("Z")
    return f"{head}.{rest.rstrip('Z')[:9]:0<9}Z"


def timestamp_seconds(stamp: str) -> float:
    """Epoch seconds of a normalised timestamp, rounded down to the microsecond."""
    base = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    micros = int(stamp[20:26])
    return math.floor(base.timestamp()) + micros / 1_000_000


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


class LogFilter:
    """A substring or regular expression, optionally inverted; empty matches everything."""

    def __init__(self, pattern: str = "", *, regex: bool = False, invert: bool = False) -> None:
        self.pattern = pattern
        self.regex = regex
        self.invert = invert
        self.error: str | None = None
        self._compiled: re.Pattern[str] | None = None
        if regex and pattern:
            try:
                self._compiled = re.compile(pattern)
            except re.error as error:
                self.error = str(error)

    def matches(self, line: LogLine) -> bool:
        if line.kind != "line" or not self.pattern or self.error:
            return True
        if self._compiled is not None:
            found = self._compiled.search(line.text) is not None
        else:
            found = self.pattern.casefold() in line.text.casefold()
        return found != self.invert

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the pattern occurs in `text`, for highlighting (empty when inverted)."""
        if not self.pattern or self.error or self.invert:
            return []
        if self._compiled is not None:
            return [m.span() for m in self._compiled.finditer(text) if m.end() > m.start()]
        lowered, needle = text.casefold(), self.pattern.casefold()
        found, start = [], lowered.find(needle)
        while start >= 0:
            found.append((start, start + len(needle)))
            start = lowered.find(needle, start + len(needle))
        return found


class LogBuffer:
    """The newest `max_lines` lines; older ones fall off."""

    def __init__(self, max_lines: int = 5000) -> None:
        self.lines: deque[LogLine] = deque(maxlen=max_lines)

    def extend(self, lines: Iterable[LogLine]) -> None:
        self.lines.extend(lines)

    def matching(self, log_filter: LogFilter) -> list[LogLine]:
        return [line for line in self.lines if log_filter.matches(line)]


class _Dedup:
    """Drops lines already delivered, which only a reopened stream (`since`) can repeat."""

    def __init__(self) -> None:
        self.last: str | None = None
        self.at_last: set[str] = set()
        self.replaying = False
        """True from a reconnect until the stream is past `last`."""

    def reopened(self) -> None:
        self.replaying = self.last is not None

    def fresh(self, stamp: str, text: str) -> bool:
        if self.replaying and self.last is not None:
            if stamp < self.last:
                return False
            if stamp == self.last:
                if text in self.at_last:
                    return False
                self.at_last.add(text)
                return True
            self.replaying = False
        if stamp != self.last:
            self.last, self.at_last = stamp, set()
        self.at_last.add(text)
        return True


def split_line(raw: bytes) -> tuple[str, str]:
    """(normalised timestamp, text) from a `--timestamps` log line."""
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    stamp, _, rest = text.partition(" ")
    if len(stamp) >= 20 and stamp[4] == "-" and stamp[10] == "T":
        return normalise_timestamp(stamp), rest
    return now_stamp(), text


class LogFollower:
    """Follows containers' logs until `stop()`; `run` blocks and emits LogBatch."""

    def __init__(
        self,
        engine: Engine,
        containers: Iterable[str],
        *,
        tail: int = 200,
        flush_s: float = 0.4,
        retry_s: float = 1.0,
        stall_after_s: float = 20.0,
        behind_after_s: float = 2.0,
    ) -> None:
        self.engine = engine
        self.containers = tuple(containers)
        self.tail = tail
        self.flush_s = flush_s
        self.retry_s = retry_s
        self.stall_after_s = stall_after_s
        self.behind_after_s = behind_after_s
        self._pending: list[LogLine] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._streams: dict[str, Any] = {}
        self._dedups: dict[str, _Dedup] = {}
        self._heard: dict[str, float] = {}
        """Per open stream: when it last delivered anything (or opened, or was probed)."""
        self._stalled: dict[str, str] = {}
        self._behind: dict[str, float] = {}
        """Per container: how many seconds behind its stream was when it was given up."""

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            streams = list(self._streams.values())
        for stream in streams:
            self.engine.unregister(stream)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set() or self.engine.stopped

    def run(self, emit: Emit) -> None:
        threads = [
            threading.Thread(target=self._follow, args=(name,), name=f"logs {name}", daemon=True)
            for name in self.containers
        ]
        for thread in threads:
            thread.start()
        while not self.stopped:
            self._stopped.wait(self.flush_s)
            self._flush(emit)
            self._probe_quiet_streams()
        self._flush(emit)

    def _probe_quiet_streams(self) -> None:
        now = time.monotonic()
        with self._lock:
            quiet = [
                name
                for name, heard in self._heard.items()
                if name in self._streams and now - heard >= self.stall_after_s
            ]
            for name in quiet:
                self._heard[name] = now  # one probe per quiet period
        for name in quiet:
            threading.Thread(
                target=self._probe, args=(name,), name=f"logs probe {name}", daemon=True
            ).start()

    def _probe(self, container: str) -> None:
        """Did the container log since the last line we have? Then its stream is stalled."""
        dedup = self._dedups.get(container)
        since = timestamp_seconds(dedup.last) if dedup and dedup.last else None
        try:
            client = self.engine.client(pool=1)
            try:
                raw = client.logs(container, timestamps=True, tail=20, since=since)
            finally:
                client.close()
        except Exception:  # noqa: BLE001 - the engine's own monitor reports an outage
            return
        lines = [split_line(line) for line in bytes(raw).splitlines() if line.strip()]
        if dedup and dedup.last is not None:
            missed = [stamp for stamp, _ in lines if stamp > dedup.last]
        else:
            missed = [stamp for stamp, _ in lines]
        if not missed:
            return
        with self._lock:
            stream = self._streams.get(container)
            self._stalled[container] = (
                f"stream stalled ({self.stall_after_s:g}s without data while the container logged)"
            )
        if stream is not None:
            self.engine.unregister(stream)

    def _flush(self, emit: Emit) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            emit(LogBatch(tuple(batch)))

    def _add(self, line: LogLine) -> None:
        with self._lock:
            self._pending.append(line)

    def _follow(self, container: str) -> None:
        dedup = self._dedups[container] = _Dedup()
        opened_before = False
        reason = ""
        exited_noted = False
        missing_noted = False
        skip_ahead = False
        """Reopen at the newest lines rather than where the last stream stopped."""
        while not self.stopped:
            if not self.engine.wait_reachable(timeout_s=1.0):
                if not reason:
                    reason = "engine unreachable"
                continue
            client = None
            stream: Any = None
            try:
                client = self.engine.client(timeout_s=None, pool=1)
                kwargs: dict[str, Any] = {"stream": True, "follow": True, "timestamps": True}
                if dedup.last is None or skip_ahead:
                    kwargs["tail"] = self.tail  # dedup still drops what was already shown
                else:
                    kwargs["since"] = timestamp_seconds(dedup.last)
                stream, tty = self._open(client, container, kwargs)
                dedup.reopened()
                with self._lock:
                    self._streams[container] = stream
                    self._heard[container] = time.monotonic()
                self.engine.register(stream)
                if opened_before and reason:
                    if skip_ahead:
                        self._add(LogLine(container, now_stamp(), reason, kind="skip"))
                    else:
                        text = f"reconnected after {reason}"
                        self._add(LogLine(container, now_stamp(), text, kind="gap"))
                opened_before, reason, skip_ahead = True, "", False
                missing_noted = False
                got_lines = self._read(container, stream, tty, dedup)
                if got_lines:
                    exited_noted = False
                with self._lock:
                    behind_s = self._behind.pop(container, None)
                if behind_s is not None:
                    skip_ahead = True
                    reason = (
                        f"skipped ahead: {behind_s:.0f} s behind a container logging faster"
                        " than it can be read (docker logs has the lines skipped)"
                    )
                    continue
                running = self._running(client, container)
                if not running:
                    if not exited_noted:
                        self._add(LogLine(container, now_stamp(), "container stopped", "info"))
                        exited_noted = True
                    self._stopped.wait(self.retry_s)
                else:
                    with self._lock:
                        reason = self._stalled.pop(container, "stream ended")
            except NotFound:
                # Said once; a container of that name may come back (recreated by a deploy).
                if not missing_noted:
                    self._add(LogLine(container, now_stamp(), "no such container", "info"))
                    missing_noted = True
                self._stopped.wait(self.retry_s * 3)
            except Exception as error:  # noqa: BLE001 - raw urllib3 errors when the daemon dies
                with self._lock:
                    stalled = self._stalled.pop(container, None)
                text = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
                reason = stalled or text
                self._stopped.wait(0.2)
            finally:
                if stream is not None:
                    self.engine.unregister(stream)
                with self._lock:
                    self._streams.pop(container, None)
                    self._heard.pop(container, None)
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.close()

    def _open(self, client: Any, container: str, options: dict[str, Any]) -> tuple[Any, bool]:
        """The log stream of one followed name, and whether it is a TTY's (not multiplexed)."""
        return open_log_stream(self.engine, client, container, options)

    def _running(self, client: Any, container: str) -> bool:
        """Whether more lines may come once a stream ended (the container still runs)."""
        return bool(client.inspect_container(container)["State"]["Running"])

    def _line(self, container: str, raw: bytes) -> LogLine:
        stamp, text = split_line(raw)
        return LogLine(container, stamp, text)

    def _read(self, container: str, stream: Any, tty: bool, dedup: _Dedup) -> bool:
        """Read big blocks and split them into lines: one syscall for many lines."""
        got = False
        frames = bytearray()
        partial = b""
        freshest_lag_s = math.inf
        """The smallest lag seen on this stream: transport delay plus any clock skew."""
        for block in read_blocks(stream):
            if self.stopped:
                break
            self._heard[container] = time.monotonic()
            payload = block if tty else demultiplex(frames, block)
            if not payload:
                continue
            *complete, partial = (partial + payload).split(b"\n")
            fresh = []
            for raw in complete:
                line = self._line(container, raw)
                key = f"{line.task} {line.text}" if line.task else line.text
                if dedup.fresh(line.timestamp, key):
                    fresh.append(line)
            if fresh:
                got = True
                with self._lock:
                    self._pending.extend(fresh)
                lag_s = time.time() - timestamp_seconds(fresh[-1].timestamp)
                freshest_lag_s = min(freshest_lag_s, lag_s)
                if lag_s - freshest_lag_s > self.behind_after_s:
                    with self._lock:
                        self._behind[container] = lag_s - freshest_lag_s
                    break
        return got


def open_log_stream(
    engine: Any, client: Any, container: str, options: dict[str, Any]
) -> tuple[Any, bool]:
    """Open `GET /containers/{id}/logs` as a stream of body blocks; (stream, is_tty).

    On unix:// and tcp:// hosts a `RawStream` reads the socket in large blocks (see
    rawstream.py); elsewhere the SDK's streamed response is read with `read1`.
    """
    params: dict[str, Any] = {
        "stdout": 1,
        "stderr": 1,
        "timestamps": 1,
        "follow": 1,
        "tail": str(options.get("tail", "all")),
    }
    if "since" in options:
        params["since"] = options["since"]
    tty = bool(client.inspect_container(container)["Config"].get("Tty"))
    base_url = getattr(engine, "base_url", "")
    if isinstance(base_url, str) and rawstream.supports(
        base_url, tls=bool(getattr(engine, "tls", False))
    ):
        path = f"/v{engine.api_version}/containers/{container}/logs"
        return rawstream.RawStream(base_url, path, params, engine.timeout_s), tty
    response = client._get(
        client._url("/containers/{0}/logs", container), params=params, stream=True, timeout=None
    )
    client._raise_for_status(response)
    return response, tty


def read_blocks(response: Any) -> Iterator[bytes]:
    """Whatever has arrived, up to 64 KiB at a time, until the stream ends."""
    raw = getattr(response, "raw", None)
    if raw is None:  # a RawStream, or any iterable of blocks
        yield from response
        return
    while True:
        block = raw.read1(65536)
        if not block:
            return
        yield block


def demultiplex(frames: bytearray, block: bytes) -> bytes:
    """Payloads of the complete frames in `frames + block`; a partial frame stays behind."""
    frames.extend(block)
    payloads = []
    offset = 0
    size = len(frames)
    while size - offset >= 8:
        length = int.from_bytes(frames[offset + 4 : offset + 8], "big")
        if size - offset - 8 < length:
            break
        payloads.append(bytes(frames[offset + 8 : offset + 8 + length]))
        offset += 8 + length
    del frames[:offset]
    return b"".join(payloads)
