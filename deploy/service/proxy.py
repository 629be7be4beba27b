"""The blue-green proxy as a local process (what nginx does in the Docker sandbox).

Listens on PROXY_HOST:PROXY_PORT and forwards every request to the upstream named in
the site file, a JSON object `{"colour": "blue", "host": "127.0.0.1", "port": 3001}`
written by deploy/lib.sh. SIGHUP re-reads the site file (like `nginx -s reload`: requests
in flight finish on the old upstream); a broken file is refused and the old upstream
stays. Every response carries `X-Upstream-Colour`; an upstream that does not answer
gives 502 after the 2 s connect timeout. One access-log line per request on stdout, ending with the
request's user agent.

    python3 deploy/service/proxy.py --site STATE/proxy/site.json --port 3000
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 60.0
NOT_FORWARDED = {"content-length", "server", "date"}
"""Response headers the proxy sets itself."""
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(f"{stamp} proxy {message}", flush=True)


def agent_text(agent: str | None) -> str:
    """A request's user agent as the log shows it: quoted-safe, printable, bounded."""
    if not agent:
        return "-"
    printable = "".join(c if c.isprintable() and c != '"' else "?" for c in agent)
    return printable[:200]


def read_site(path: str) -> dict[str, Any]:
    """The upstream from the site file; ValueError with a one-line reason when it is bad."""
    try:
        with open(path, encoding="utf-8") as site_file:
            site = json.load(site_file)
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not JSON: {error.msg}") from None
    if not isinstance(site, dict) or not isinstance(site.get("port"), int):
        raise ValueError(f"{path} needs an integer port")
    return {
        "colour": str(site.get("colour", "")),
        "host": str(site.get("host", "127.0.0.1")),
        "port": site["port"],
    }


def make_handler(upstream: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"
        server_version = "rbc-proxy"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log(f"{self.address_string()} {format % args}")

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # Like nginx's combined format, the user agent ends the line (console probes
            # name themselves "runbook-console/<version> (probe)").
            status = getattr(code, "value", code)
            agent = agent_text(self.headers.get("User-Agent") if self.headers else None)
            self.log_message('"%s" %s %s "%s"', self.requestline, status, size, agent)

        def forward(self) -> None:
            site = upstream["site"]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection = http.client.HTTPConnection(
                site["host"], site["port"], timeout=CONNECT_TIMEOUT_S
            )
            try:
                connection.connect()
                if connection.sock is not None:
                    connection.sock.settimeout(READ_TIMEOUT_S)
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except OSError as error:
                self.reply_error(site, f"upstream {site['host']}:{site['port']}: {error}")
                return
            finally:
                connection.close()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP | NOT_FORWARDED:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-Upstream-Colour", site["colour"])
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def reply_error(self, site: dict[str, Any], reason: str) -> None:
            body = b"502 Bad Gateway\n"
            self.log_error("%s", reason)
            self.send_response(502)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Upstream-Colour", site["colour"])
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward  # noqa: N815

    return Handler


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Blue-green proxy (local process)")
    parser.add_argument("--site", required=True, help="JSON file naming the upstream")
    parser.add_argument("--host", default=os.environ.get("PROXY_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PROXY_PORT", "3000")))
    args = parser.parse_args(argv)
    try:
        upstream = {"site": read_site(args.site)}
    except ValueError as error:
        log(f"refusing to start: {error}")
        return 1
    try:
        server = ThreadingHTTPServer((args.host, args.port), make_handler(upstream))
    except OSError as error:
        log(f"cannot listen on {args.host}:{args.port}: {error.strerror}")
        return 1
    server.daemon_threads = True
    stop = threading.Event()

    def on_sighup(_signum: int, _frame: object) -> None:
        try:
            upstream["site"] = read_site(args.site)
        except ValueError as error:
            log(f"reload refused, upstream unchanged: {error}")
            return
        site = upstream["site"]
        log(f"reloaded: upstream {site['colour']} {site['host']}:{site['port']}")

    signal.signal(signal.SIGHUP, on_sighup)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    site = upstream["site"]
    upstream_text = f"{site['colour']} {site['host']}:{site['port']}"
    log(f"listening on {args.host}:{args.port}, upstream {upstream_text}")
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
