"""A minimal HTTP/1.1 reader for Docker's log stream on a plain socket (unix:// or tcp://).

requests/http.client hand over one HTTP chunk per call, and Docker writes one chunk
per log line, so following a chatty container costs a thousand wake-ups a second.
Reading the socket directly in large blocks, pausing briefly when little arrived,
turns that into a few dozen. TLS and ssh:// hosts keep the SDK's stream.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlparse

from docker.errors import APIError, NotFound

from runbook.sources.docker.streams import shut

SETTLE_S = 0.1
"""Pause after a small read so the next one collects many lines."""
SMALL_READ = 16384
BUSY_CHUNKS = 64
"""A read holding this many chunks is never followed by a pause. A unix socket counts the
writes it holds, not their bytes (each costs its buffer some 800 bytes), so Docker's one
write per line fills it after about 250 short lines, some 16 KiB: a pause after each such
"small" read would hold a flooding container to about 2,500 lines a second."""


def supports(base_url: str, tls: bool) -> bool:
    return not tls and base_url.startswith(("http+unix://", "unix://", "http://", "tcp://"))


class RawStream:
    """GET a streaming endpoint; iterate for decoded body blocks; `close()` from any thread."""

    def __init__(self, base_url: str, path: str, params: dict[str, Any], timeout_s: float) -> None:
        self.socket = _connect(base_url, timeout_s)
        self.closed = False
        self._buffer = bytearray()
        self._remaining = 0
        self._expect_crlf = False
        self._chunked = False
        self._finished = False
        self._chunks = 0
        """Chunks started so far (Docker writes one per log line)."""
        request = (
            f"GET {quote(path)}?{urlencode(params)} HTTP/1.1\r\n"
            "Host: docker\r\nUser-Agent: runbook-console\r\nAccept: */*\r\n\r\n"
        )
        self.socket.sendall(request.encode())
        self._read_head()
        self.socket.settimeout(None)

    def _read_head(self) -> None:
        data = bytearray()
        while b"\r\n\r\n" not in data:
            block = self.socket.recv(65536)
            if not block:
                raise ConnectionError("connection closed before the response headers")
            data.extend(block)
        head, _, rest = bytes(data).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        self._chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        self._buffer.extend(rest)
        if status >= 400:
            body = bytes(self._buffer)[:500].decode("utf-8", "replace")
            self.close()
            if status == 404:
                raise NotFound(body)
            raise APIError(f"HTTP {status}: {body}")

    def __iter__(self) -> Iterator[bytes]:
        pending = self._decode()
        if pending:
            yield pending
        while not self._finished:
            try:
                block = self.socket.recv(262144)
            except OSError:
                return
            if not block:
                return
            self._buffer.extend(block)
            chunks_before = self._chunks
            payload = self._decode()
            if payload:
                yield payload
            busy = len(block) >= SMALL_READ or self._chunks - chunks_before >= BUSY_CHUNKS
            if not busy and not self.closed and not self._finished:
                time.sleep(SETTLE_S)

    def _decode(self) -> bytes:
        if not self._chunked:
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        out = []
        buffer = self._buffer
        size = len(buffer)
        position = 0  # consumed bytes are dropped once at the end, not chunk by chunk
        while True:
            if self._remaining:
                take = min(self._remaining, size - position)
                if not take:
                    break
                out.append(bytes(buffer[position : position + take]))
                position += take
                self._remaining -= take
                if not self._remaining:
                    self._expect_crlf = True
            elif self._expect_crlf:
                if size - position < 2:
                    break
                position += 2
                self._expect_crlf = False
            else:
                end = buffer.find(b"\r\n", position)
                if end < 0:
                    break
                length = int(bytes(buffer[position:end]).split(b";")[0], 16)
                position = end + 2
                if length == 0:
                    self._finished = True
                    break
                self._remaining = length
                self._chunks += 1
        del buffer[:position]
        return b"".join(out)

    def close(self) -> None:
        self.closed = True
        shut(self.socket)


def _connect(base_url: str, timeout_s: float) -> socket.socket:
    if base_url.startswith(("http+unix://", "unix://")):
        path = base_url.split("://", 1)[1]
        if base_url.startswith("http+unix://"):
            from urllib.parse import unquote

            path = unquote(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        sock.connect(path)
        return sock
    parsed = urlparse(base_url.replace("tcp://", "http://", 1))
    return socket.create_connection(
        (parsed.hostname or "localhost", parsed.port or 2375), timeout_s
    )
