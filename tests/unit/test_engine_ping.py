"""The watchdog's ping of a local engine: one kept-open connection to its socket, and any
failure (an error status, no answer in time, the socket gone) raises."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from runbook.sources.docker.engine import SocketPing


class FakeEngine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    status = 200
    answer = threading.Event()
    connections = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeEngine

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        self.server.answer.wait(5)
        assert self.path == "/_ping"
        self.send_response(self.server.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    def address_string(self) -> str:
        return "engine.sock"

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def fake_engine(path: Path) -> Iterator[FakeEngine]:
    server = FakeEngine(str(path), Handler)
    server.answer = threading.Event()
    server.answer.set()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.answer.set()
        server.shutdown()
        server.server_close()


def test_pings_reuse_one_connection_and_fail_on_an_error_status(tmp_path: Path) -> None:
    socket_path = tmp_path / "docker.sock"
    with fake_engine(socket_path) as engine:
        ping = SocketPing.for_url(f"unix://{socket_path}", 1.0)
        assert ping is not None
        for _ in range(5):
            ping.ping()
        assert engine.connections == 1
        engine.status = 500
        with pytest.raises(ConnectionError, match="HTTP 500"):
            ping.ping()


def test_a_daemon_that_does_not_answer_fails_the_ping(tmp_path: Path) -> None:
    socket_path = tmp_path / "docker.sock"
    with fake_engine(socket_path) as engine:
        engine.answer.clear()  # frozen: the request is read, no answer comes
        ping = SocketPing(str(socket_path), 0.3)
        with pytest.raises(TimeoutError):
            ping.ping()
    missing = SocketPing(str(tmp_path / "gone.sock"), 0.3)
    with pytest.raises(OSError):
        missing.ping()


def test_only_local_sockets_get_the_light_ping() -> None:
    assert SocketPing.for_url("tcp://127.0.0.1:2375", 1.0) is None
    assert SocketPing.for_url("ssh://ops@box", 1.0) is None
    assert SocketPing.for_url("/var/run/docker.sock", 1.0) is not None
