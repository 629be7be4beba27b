"""Reference web service operated by the runbook (image `monkeytown-web`).

Endpoints: `/health` (liveness), `/ready` (readiness: 503 while warming up or draining),
`/metrics` (Prometheus), `/` (version, environment, message). Every response carries an
`X-Version` header. SIGHUP reloads the config file without a restart; SIGTERM drains
(readiness 503 for `drain_seconds`) and then stops. Each request's log line ends with its
user agent (the console's probes say "runbook-console/<version> (probe)"). Config format:
see service_config.py.

    python3 deploy/service/app.py --config deploy/config/dev.json --host 127.0.0.1 --port 3001
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from service_config import ConfigError, ServiceConfig, load_config

SERVICE_NAME = "monkeytown-web"

REQUESTS = Counter("http_requests_total", "HTTP requests served.", ["method", "path", "code"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["path"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
BUILD_INFO = Gauge(
    "app_build_info",
    "Build of the running service; value is 1.",
    ["service", "version", "environment"],
)
CONFIG_RELOADS = Counter("app_config_reloads_total", "SIGHUP config reloads.", ["outcome"])
READY = Gauge("app_ready", "1 when /ready answers 200.")
START_TIME = Gauge("app_start_time_seconds", "Unix time the process started.")

KNOWN_PATHS = ("/", "/health", "/ready", "/metrics")
"""Paths that get their own metric label; anything else is counted as `other`."""


def agent_text(agent: str | None) -> str:
    """A request's user agent as the log shows it: quoted-safe, printable, bounded."""
    if not agent:
        return "-"
    printable = "".join(c if c.isprintable() and c != '"' else "?" for c in agent)
    return printable[:200]


def log(message: str) -> None:
    """One line to stderr; Docker keeps it and `make logs-tail` shows it."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(f"{stamp} {SERVICE_NAME} {message}", file=sys.stderr, flush=True)


class ServiceState:
    """Everything the request handlers read; swapped atomically on reload."""

    def __init__(self, config: ServiceConfig, config_path: str | None, version: str) -> None:
        self.config = config
        self.config_path = config_path
        self.version = version
        self.started_at = time.monotonic()
        self.draining = False
        self.memory_ballast: list[bytearray] = []
        self._set_build_info()

    def _set_build_info(self) -> None:
        BUILD_INFO.clear()
        BUILD_INFO.labels(SERVICE_NAME, self.version, self.config.environment).set(1)

    def is_ready(self) -> bool:
        warmed_up = time.monotonic() - self.started_at >= self.config.warmup_seconds
        ready = warmed_up and not self.draining and not self.config.drills.fail_readiness
        READY.set(1 if ready else 0)
        return ready

    def reload(self) -> None:
        """Re-read the config file; keep the old config when the new one is refused."""
        try:
            self.config = load_config(self.config_path)
        except ConfigError as error:
            CONFIG_RELOADS.labels("refused").inc()
            log(f"config reload refused, keeping previous config: {error}")
            return
        self._set_build_info()
        CONFIG_RELOADS.labels("applied").inc()
        log(
            f"config reloaded: environment={self.config.environment} "
            f"message={self.config.message!r} drills={self.config.drills}"
        )


def make_handler(state: ServiceState) -> type[BaseHTTPRequestHandler]:
    """Build the request handler class bound to the service state."""

    class Handler(BaseHTTPRequestHandler):
        server_version = SERVICE_NAME
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log(f"{self.address_string()} {format % args}")

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # The user agent ends the line, so the console's own probes (which name
            # themselves "runbook-console/<version> (probe)") can be told from real requests.
            status = getattr(code, "value", code)
            agent = agent_text(self.headers.get("User-Agent") if self.headers else None)
            self.log_message('"%s" %s %s "%s"', self.requestline, status, size, agent)

        def do_GET(self) -> None:  # noqa: N802
            began = time.perf_counter()
            path = self.path.split("?", 1)[0]
            code, content_type, body = self.route(path)
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Version", state.version)
            self.end_headers()
            self.wfile.write(body)
            label = path if path in KNOWN_PATHS else "other"
            REQUESTS.labels("GET", label, str(code)).inc()
            LATENCY.labels(label).observe(time.perf_counter() - began)

        def route(self, path: str) -> tuple[int, str, bytes]:
            if path == "/health":
                return self.json(200, {"status": "healthy"})
            if path == "/ready":
                if state.is_ready():
                    return self.json(200, {"status": "ready"})
                reason = "draining" if state.draining else "not ready"
                return self.json(503, {"status": reason})
            if path == "/metrics":
                return 200, CONTENT_TYPE_LATEST, generate_latest()
            if path == "/":
                return self.home()
            return self.json(404, {"error": "not found"})

        def home(self) -> tuple[int, str, bytes]:
            drills = state.config.drills
            if drills.latency_ms:
                time.sleep(drills.latency_ms / 1000)
            if drills.error_ratio and random.random() < drills.error_ratio:
                return self.json(500, {"error": "drill: injected error"})
            return self.json(
                200,
                {
                    "service": SERVICE_NAME,
                    "version": state.version,
                    "environment": state.config.environment,
                    "message": state.config.message,
                },
            )

        @staticmethod
        def json(code: int, payload: dict[str, str]) -> tuple[int, str, bytes]:
            return code, "application/json", (json.dumps(payload) + "\n").encode()

    return Handler


def grow_memory(state: ServiceState, stop: threading.Event) -> None:
    """Drill: hold on to memory_growth_mb_per_minute more MiB every minute, in 1 s steps."""
    while not stop.wait(1.0):
        per_minute = state.config.drills.memory_growth_mb_per_minute
        if per_minute > 0:
            state.memory_ballast.append(bytearray(int(per_minute * 1024 * 1024 / 60)))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Monkeytown reference web service")
    parser.add_argument(
        "--config", default=os.environ.get("APP_CONFIG"), help="JSON config file (env APP_CONFIG)"
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("APP_HOST", "127.0.0.1"),
        help="address to listen on (env APP_HOST)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("APP_PORT", "3000")),
        help="port to listen on (env APP_PORT)",
    )
    parser.add_argument(
        "--version",
        dest="app_version",
        default=os.environ.get("APP_VERSION", "dev"),
        help="version reported in X-Version and metrics (env APP_VERSION)",
    )
    return parser.parse_args(argv)


def crash_later(after_s: float, marker: str, stop: threading.Event) -> None:
    """Drill: serve `after_s` seconds, then leave a marker and die the way a crash does."""
    if stop.wait(after_s):
        return
    with open(marker, "w", encoding="utf-8") as crashed:
        crashed.write(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")
    log(f"drill: crashed after {after_s:g}s")
    os._exit(1)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        log(f"refusing to start: {error}")
        return 1
    if config.drills.crash_on_start:
        log("drill: crash_on_start is enabled, exiting")
        return 1
    crashed_marker = os.path.join(tempfile.gettempdir(), ".drill-crashed")
    if config.drills.crash_after_s and os.path.exists(crashed_marker):
        log("drill: crashing on start (crashed before; crash_after_s is set)")
        return 1

    state = ServiceState(config, args.config, args.app_version)
    START_TIME.set(time.time())
    try:
        server = ThreadingHTTPServer((args.host, args.port), make_handler(state))
    except OSError as error:
        log(f"cannot listen on {args.host}:{args.port}: {error.strerror}")
        return 1
    server.daemon_threads = True
    stop = threading.Event()

    def on_sighup(_signum: int, _frame: object) -> None:
        state.reload()

    def on_sigterm(_signum: int, _frame: object) -> None:
        state.draining = True
        stop.set()

    signal.signal(signal.SIGHUP, on_sighup)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)

    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    threading.Thread(
        target=grow_memory, args=(state, stop), name="drill-memory", daemon=True
    ).start()
    if config.drills.crash_after_s:
        threading.Thread(
            target=crash_later,
            args=(config.drills.crash_after_s, crashed_marker, stop),
            name="drill-crash",
            daemon=True,
        ).start()
    log(
        f"version {state.version} listening on {args.host}:{args.port} "
        f"(environment {config.environment}, config {args.config or 'defaults'})"
    )

    # Signal handlers run on this thread, so it waits here rather than in serve_forever.
    while not stop.wait(0.5):
        pass
    log(f"draining for {state.config.drain_seconds:g}s")
    time.sleep(state.config.drain_seconds)
    server.shutdown()
    server.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
