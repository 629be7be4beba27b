"""Steady traffic against the sandbox, so latency and error gauges have something to measure."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.error
import urllib.request


class LoadGenerator:
    """`rate` GET requests per second to one URL from a few threads, until `stop`.

    Loopback only: the URL must point at 127.0.0.1 or localhost.
    """

    def __init__(
        self, url: str, rate: float = 20.0, threads: int = 8, timeout_s: float = 5
    ) -> None:
        if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
            raise ValueError(f"load is only sent to loopback, not {url}")
        self.url = url
        self.interval_s = threads / rate
        self.timeout_s = timeout_s
        self.sent = 0
        self.failed = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._loop, name=f"drill-load-{n}", daemon=True)
            for n in range(threads)
        ]

    def start(self) -> LoadGenerator:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout_s + 1)

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            ok = True
            try:
                with urllib.request.urlopen(self.url, timeout=self.timeout_s) as response:  # noqa: S310
                    response.read()
            except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException):
                ok = False  # refused, reset, or cut off mid-answer (IncompleteRead): failed
            with self._lock:
                self.sent += 1
                self.failed += 0 if ok else 1
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - began)))
