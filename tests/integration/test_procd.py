"""The local runtime's engine (deploy/service/procd.py) and proxy, with real processes."""

from __future__ import annotations

import http.server
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.drills.embedded import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PROCD = REPO / "deploy" / "service" / "procd.py"
PROXY = REPO / "deploy" / "service" / "proxy.py"

# A container: says hello, answers SIGHUP with a line, ends on SIGTERM.
HELLO = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGHUP, lambda *a: print('got HUP', flush=True))\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
    "print('hello', flush=True)\n"
    "while True: time.sleep(0.1)\n"
)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def procd(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PROCD), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


class Engine:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.process = subprocess.Popen(
            [sys.executable, str(PROCD), "--root", str(root), "serve", "--foreground"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: self("ping").returncode == 0, what="the engine answers")

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return procd(self.root, *args)

    def field(self, name: str, field: str) -> str:
        return self("inspect", name, "--format", field).stdout.strip()

    def run_python(self, name: str, code: str, *extra: str) -> None:
        assert self("build", "t:1", "--version", "1", "--env", "FROM_IMAGE=yes").returncode == 0
        done = self("run", name, "--image", "t:1", *extra, "--", sys.executable, "-c", code)
        assert done.returncode == 0, done.stderr


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    running = Engine(tmp_path / "engine")
    yield running
    running("shutdown")
    try:
        running.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        running.process.kill()


def test_images_are_version_records_with_tags(tmp_path: Path) -> None:
    def engine(*args: str) -> subprocess.CompletedProcess[str]:
        return procd(tmp_path / "engine", *args)  # image commands need no running engine

    built = engine("build", "web:v1", "--version", "v1", "--env", "DRILL_LATENCY_MS=300")
    image_id = built.stdout.strip()
    assert built.returncode == 0 and image_id.startswith("sha256:")
    assert engine("tag", "web:v1", "web:current").returncode == 0
    assert engine("tag", image_id, "web:previous").returncode == 0
    record = json.loads(engine("image-inspect", "web:current").stdout)
    assert record == {"id": image_id, "version": "v1", "env": {"DRILL_LATENCY_MS": "300"}}
    assert engine("image-inspect", "web:previous", "--format", "version").stdout == "v1\n"
    assert engine("rmi", "web:current").returncode == 0
    missing = engine("image-inspect", "web:current")
    assert missing.returncode == 1 and missing.stderr == "procd: no such image: web:current\n"
    bad = engine("build", "no-tag", "--version", "x")
    assert bad.returncode == 1 and "want REPOSITORY:TAG" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_client_without_an_engine_gets_one_line(tmp_path: Path) -> None:
    done = procd(tmp_path, "stop", "web")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "local engine" in done.stderr
    assert "serve" in done.stderr


def test_run_inspect_logs_signal_stop_and_remove(engine: Engine) -> None:
    engine.run_python("box", HELLO, "--env", "FROM_RUN=1", "--label", "colour=blue")
    wait_until(lambda: "hello" in engine("logs", "box").stdout)
    state = json.loads(engine("inspect", "box").stdout)
    assert state["status"] == "running" and alive(state["pid"])
    assert state["version"] == "1" and state["labels"] == {"colour": "blue"}
    assert engine.field("box", "label:colour") == "blue"
    environ = (Path(f"/proc/{state['pid']}/environ")).read_bytes().split(b"\0")
    assert b"FROM_IMAGE=yes" in environ and b"FROM_RUN=1" in environ
    assert b"HOSTNAME=box" in environ
    assert engine("kill", "box", "--signal", "HUP").returncode == 0
    wait_until(lambda: "got HUP" in engine("logs", "box", "--tail", "1").stdout)
    again = engine("run", "box", "--image", "t:1", "--", "true")
    assert again.returncode == 1 and "in use" in again.stderr
    assert engine("stop", "box").returncode == 0
    assert engine.field("box", "status") == "exited" and not alive(state["pid"])
    assert engine.field("box", "restarts") == "0"
    assert engine("rm", "box").returncode == 0
    assert engine("inspect", "box").returncode == 1


def test_a_crashing_process_is_restarted_until_stopped(engine: Engine) -> None:
    engine.run_python("crashy", "import sys; print('crash', flush=True); sys.exit(3)")
    wait_until(lambda: int(engine.field("crashy", "restarts") or 0) >= 3)
    assert engine.field("crashy", "exit_code") in ("3", "")
    assert engine("logs", "crashy").stdout.count("crash\n") >= 3
    began = time.monotonic()
    assert engine("stop", "crashy").returncode == 0
    assert time.monotonic() - began < 5, "stop waited out the restart pause"
    count = engine.field("crashy", "restarts")
    time.sleep(0.5)
    assert (
        engine.field("crashy", "restarts") == count and engine.field("crashy", "status") == "exited"
    )


def test_stop_kills_what_ignores_sigterm(engine: Engine) -> None:
    stubborn = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)"
    engine.run_python("stubborn", stubborn)
    wait_until(lambda: engine.field("stubborn", "pid") != "")
    pid = int(engine.field("stubborn", "pid"))
    assert engine("stop", "stubborn", "--time", "0.5").returncode == 0
    wait_until(lambda: not alive(pid), 5)


def test_containers_end_with_a_killed_engine(engine: Engine) -> None:
    engine.run_python("orphan", HELLO)
    wait_until(lambda: engine.field("orphan", "pid") != "")
    pid = int(engine.field("orphan", "pid"))
    engine.process.kill()
    engine.process.wait(timeout=10)
    wait_until(lambda: not alive(pid), 10, what="the container ends with its engine")
    assert engine.field("orphan", "status") == "exited"


def test_shutdown_stops_every_container(engine: Engine) -> None:
    engine.run_python("one", HELLO)
    wait_until(lambda: engine.field("one", "pid") != "")
    pid = int(engine.field("one", "pid"))
    assert engine("shutdown").returncode == 0
    assert engine.process.wait(timeout=30) == 0
    assert not alive(pid)


# -- the proxy ----------------------------------------------------------------------------


def upstream(colour: str) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = f"{colour} {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Version", colour)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_proxy_forwards_switches_on_sighup_and_refuses_a_broken_site(tmp_path: Path) -> None:
    blue, blue_port = upstream("blue")
    green, green_port = upstream("green")
    site = tmp_path / "site.json"
    site.write_text(json.dumps({"colour": "blue", "host": "127.0.0.1", "port": blue_port}))
    port = free_port()
    proxy = subprocess.Popen(
        [sys.executable, str(PROXY), "--site", str(site), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    said: list[str] = []
    try:
        wait_until(lambda: _answers(base))
        status, headers, body = get(base + "/health?x=1")
        assert (status, body) == (200, "blue /health?x=1")
        assert headers["X-Upstream-Colour"] == "blue" and headers["X-Version"] == "blue"
        site.write_text(json.dumps({"colour": "green", "host": "127.0.0.1", "port": green_port}))
        proxy.send_signal(signal.SIGHUP)
        wait_until(lambda: get(base + "/")[1].get("X-Upstream-Colour") == "green")
        site.write_text("{not json")
        proxy.send_signal(signal.SIGHUP)
        assert proxy.stdout is not None
        for line in proxy.stdout:  # until the proxy has read the broken site
            said.append(line)
            if "reload refused" in line:
                break
        assert get(base + "/")[2] == "green /"
        green.shutdown()
        green.server_close()
        status, headers, body = get(base + "/")
        assert status == 502 and headers["X-Upstream-Colour"] == "green"
    finally:
        proxy.send_signal(signal.SIGTERM)
        rest, _ = proxy.communicate(timeout=10)
        output = "".join(said) + rest
        blue.shutdown()
    assert proxy.returncode == 0
    assert "reload refused, upstream unchanged" in output and "reloaded: upstream green" in output


def _answers(base: str) -> bool:
    try:
        get(base + "/")
    except OSError:
        return False
    return True


def test_proxy_refuses_to_start_without_a_site(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(PROXY), "--site", str(tmp_path / "none.json"), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1 and "refusing to start: cannot read" in done.stdout
