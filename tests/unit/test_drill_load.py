"""The drills' load generator counts a service that dies mid-answer as failed requests and
keeps sending (an IncompleteRead used to kill its threads)."""

from __future__ import annotations

import socket
import threading

from runbook.drills.load import LoadGenerator
from tests.waiting import wait_until


def test_an_answer_cut_off_mid_body_is_a_failed_request_not_a_dead_thread() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()

    def cut_off() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            with connection:
                connection.recv(1024)
                connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 116\r\n\r\n")

    threading.Thread(target=cut_off, daemon=True).start()
    load = LoadGenerator(f"http://127.0.0.1:{port}/", rate=50, threads=2, timeout_s=2).start()
    try:
        wait_until(lambda: load.failed >= 6, 20, "several cut-off answers counted")
        assert all(thread.is_alive() for thread in load._threads)  # noqa: SLF001
    finally:
        load.stop()
        stop.set()
        server.close()
    assert load.sent >= load.failed >= 6
