"""Reference web service operated by the runbook (image `monkeytown-web`).

Endpoints: `/health` (liveness), `/ready` (readiness: 503 while warming up or draining),
`/metrics` (Prometheus), `/` (version, environment, message). Every response carries an
`X-Version` header. SIGHUP reloads the config file without a restart; SIGTERM drains
(readiness 503 for `drain_seconds`) and then stops. Each request's log line ends with its
user agent (the console's probes say "runbook-console/<version> (probe)"). Config format:
see service_config.py.

Shared-port mode (APP_REUSE_PORT=1, the swarm runtime): several tasks of one service listen
on the same 127.0.0.1 port with SO_REUSEPORT, the kernel spreading connections over them.
A task listens there only once it is ready, and on SIGTERM it stops listening (accepting
what already queued) before it drains. Its own readiness is asked over a unix socket in
the container (APP_CONTROL_SOCKET), which no other task shares:
`python3 app.py --probe /ready` is the container's health check.

    python3 deploy/service/app.py --config deploy/config/dev.json --host 127.0.0.1 --port 3001
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import socketserver
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
        self.shared_port = False
        """Shared-port mode: ready only once listening on the shared port."""
        self.listening = False
        self.memory_ballast: list[bytearray] = []
        self._set_build_info()

    def _set_build_info(self) -> None:
        BUILD_INFO.clear()
        BUILD_INFO.labels(SERVICE_NAME, self.version, self.config.environment).set(1)

    def can_serve(self) -> bool:
        warmed_up = time.monotonic() - self.started_at >= self.config.warmup_seconds
        return warmed_up and not self.draining and not self.config.drills.fail_readiness

    def is_ready(self) -> bool:
        ready = self.can_serve() and (self.listening or not self.shared_port)
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

        def address_string(self) -> str:
            address = self.client_address
            return str(address[0]) if isinstance(address, tuple) else "local"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            if not isinstance(self.client_address, tuple):
                return  # the health check on the control socket, every second
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


class ReusePortServer(ThreadingHTTPServer):
    """Binds with SO_REUSEPORT, so another task of the service can listen on the same port."""

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


class ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The task's own HTTP endpoint on a unix socket (health checks in shared-port mode)."""

    daemon_threads = True


def close_listener(server: ThreadingHTTPServer) -> None:
    """Stop serving, hand the connections already queued to threads, then close the socket.

    Closing a listener resets what waits in its accept queue; accepting until it is empty
    first leaves only the instant between the last accept and the close."""
    server.shutdown()
    server.socket.setblocking(False)
    while True:
        try:
            request, address = server.socket.accept()
        except (BlockingIOError, InterruptedError):
            break
        request.setblocking(True)
        server.process_request(request, address)
    server.server_close()


def listen_when_ready(
    state: ServiceState, host: str, port: int, stop: threading.Event
) -> ThreadingHTTPServer | None:
    """Shared-port mode: open the shared port once the task can serve; None if stopped first."""
    while not state.can_serve():
        if stop.wait(0.1):
            return None
    try:
        server = ReusePortServer((host, port), make_handler(state))
    except OSError as error:
        log(f"cannot listen on {host}:{port} (shared): {error.strerror}")
        return None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    state.listening = True
    log(f"ready: listening on {host}:{port} (shared with SO_REUSEPORT)")
    return server


def probe(socket_path: str, path: str) -> int:
    """`--probe PATH`: GET PATH over the control socket; 0 when it answers 200."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(2)
            client.connect(socket_path)
            client.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
            status_line = client.makefile("rb").readline().decode(errors="replace")
    except OSError as error:
        print(f"probe: {socket_path}: {error}", file=sys.stderr)
        return 1
    print(status_line.strip())
    return 0 if status_line.split()[1:2] == ["200"] else 1


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
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        default=os.environ.get("APP_REUSE_PORT", "") == "1",
        help="shared-port mode: SO_REUSEPORT, listen once ready (env APP_REUSE_PORT=1)",
    )
    parser.add_argument(
        "--control-socket",
        default=os.environ.get("APP_CONTROL_SOCKET") or None,
        help="also serve on this unix socket, the task's own (env APP_CONTROL_SOCKET)",
    )
    parser.add_argument(
        "--probe", metavar="PATH", help="GET PATH over the control socket; exit 0 on 200"
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
    if args.probe:
        if not args.control_socket:
            print("probe: no --control-socket (APP_CONTROL_SOCKET)", file=sys.stderr)
            return 2
        return probe(args.control_socket, args.probe)
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
    state.shared_port = args.reuse_port
    START_TIME.set(time.time())
    server: ThreadingHTTPServer | None = None
    if not args.reuse_port:
        try:
            server = ThreadingHTTPServer((args.host, args.port), make_handler(state))
        except OSError as error:
            log(f"cannot listen on {args.host}:{args.port}: {error.strerror}")
            return 1
        server.daemon_threads = True
    control: ControlServer | None = None
    if args.control_socket:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(args.control_socket)
        control = ControlServer(args.control_socket, make_handler(state))
        threading.Thread(target=control.serve_forever, name="control", daemon=True).start()
    stop = threading.Event()

    def on_sighup(_signum: int, _frame: object) -> None:
        state.reload()

    def on_sigterm(_signum: int, _frame: object) -> None:
        state.draining = True
        stop.set()

    signal.signal(signal.SIGHUP, on_sighup)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)

    if server is not None:
        threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    shared: list[ThreadingHTTPServer] = []

    def open_shared() -> None:
        opened = listen_when_ready(state, args.host, args.port, stop)
        if opened is not None:
            shared.append(opened)

    if args.reuse_port:
        threading.Thread(target=open_shared, name="listen-when-ready", daemon=True).start()
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
    if shared:
        # Another task may share the port: stop taking its connections before draining.
        close_listener(shared[0])
        state.listening = False
        log("stopped listening on the shared port")
    log(f"draining for {state.config.drain_seconds:g}s")
    time.sleep(state.config.drain_seconds)
    if server is not None:
        server.shutdown()
        server.server_close()
    if control is not None:
        control.shutdown()
        control.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
