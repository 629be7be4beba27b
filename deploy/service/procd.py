"""A small local process engine: what the deploy scripts need of Docker, as local processes.

On a box without a Docker engine (`DEPLOY_RUNTIME=local`), `deploy/*.sh` run the blue-green
sandbox through this instead of `docker`: an engine process owns the "containers" (local
processes in their own session, restarted like `--restart unless-stopped`, stdout and
stderr kept in a log file), and "images" are small records of a version and its
environment (the code is this checkout's). Stdlib only; Linux.

    procd.py --root DIR serve                # start the engine in the background (once)
    procd.py --root DIR build web:v1 --version v1 --env DRILL_LATENCY_MS=300
    procd.py --root DIR run NAME --image web:v1 --env K=V --label K=V -- python3 app.py
    procd.py --root DIR inspect NAME --format status      # or image, version, restarts ...
    procd.py --root DIR kill NAME --signal HUP | stop NAME | rm NAME | logs NAME --tail 50
    procd.py --root DIR tag SRC DST | image-inspect REF --format id | rmi REF | ps | shutdown

Everything lives under DIR: `engine.log`, `containers/NAME/{state.json,log,tmp/}` and
`images/{blobs,tags}/`. The engine answers on an abstract Unix socket derived from DIR.
When it ends (SIGTERM, `shutdown`) it stops its containers; when it is killed outright,
its containers get SIGTERM from the kernel (parent-death signal).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess
    from typing import Any

# The deploy scripts start this file for every runtime call (inspect, tag, kill ...), many
# per deploy: what only the engine (serve) or a container's start needs is imported there.

RESTART_BACKOFF_S = (0.1, 30.0)
"""First and largest pause before a restart; it doubles per crash, like Docker's policy."""
STABLE_S = 10.0
"""A process that ran this long resets the backoff."""
_PR_SET_PDEATHSIG = 1


class EngineError(Exception):
    """A request the engine refuses; the message is one line."""


def now_iso() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def socket_address(root: Path) -> str:
    """Abstract socket name for an engine root: no path-length limit, no stale file."""
    return "\0rbc-procd-" + hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:20]


def write_json(path: Path, data: dict[str, Any]) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    temp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(temp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# -- images: records of a version and its environment ---------------------------------------


class Images:
    def __init__(self, root: Path) -> None:
        self.blobs = root / "images" / "blobs"
        self.tags = root / "images" / "tags"

    def _tag_path(self, ref: str) -> Path:
        repository, _, tag = ref.rpartition(":")
        if not repository or not tag or "/" in tag:
            raise EngineError(f"bad image reference {ref!r} (want REPOSITORY:TAG)")
        return self.tags / repository.replace("/", "%2F") / tag

    def build(self, ref: str, version: str, env: dict[str, str]) -> str:
        record = {"version": version, "env": env}
        blob = json.dumps(record, sort_keys=True).encode()
        image_id = "sha256:" + hashlib.sha256(blob).hexdigest()
        self.blobs.mkdir(parents=True, exist_ok=True)
        path = self.blobs / image_id.split(":", 1)[1]
        if not path.exists():
            write_json(path, record)
        self.tag(image_id, ref)
        return image_id

    def resolve(self, ref: str) -> str:
        """The image id for a reference or an id; EngineError when there is none."""
        if ref.startswith("sha256:"):
            if (self.blobs / ref.split(":", 1)[1]).exists():
                return ref
            raise EngineError(f"no such image: {ref}")
        try:
            return self._tag_path(ref).read_text(encoding="utf-8").strip()
        except OSError:
            raise EngineError(f"no such image: {ref}") from None

    def record(self, ref: str) -> dict[str, Any]:
        image_id = self.resolve(ref)
        record = read_json(self.blobs / image_id.split(":", 1)[1])
        if record is None:
            raise EngineError(f"image {ref} is damaged")
        return {"id": image_id, **record}

    def tag(self, source: str, ref: str) -> None:
        image_id = self.resolve(source)
        path = self._tag_path(ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.new")
        temp.write_text(image_id + "\n", encoding="utf-8")
        os.replace(temp, path)

    def remove(self, ref: str) -> None:
        path = self._tag_path(ref)
        if not path.exists():
            raise EngineError(f"no such image: {ref}")
        path.unlink()


# -- the engine --------------------------------------------------------------------------


_prctl: Any = None
"""libc's prctl, loaded by the engine (`serve`) before it forks: nothing is imported between
fork and exec."""


def _load_prctl() -> None:
    global _prctl
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        _prctl = ctypes.CDLL(None, use_errno=True).prctl


def _die_with_engine() -> None:
    """In a container process: SIGTERM when the engine ends, however it ends."""
    if _prctl is not None:
        with contextlib.suppress(OSError):
            _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Container:
    """One named process with a restart policy; its monitor thread starts and waits for it.

    The same thread forks every incarnation, because the parent-death signal follows the
    thread that forked.
    """

    def __init__(self, engine: Engine, spec: dict[str, Any]) -> None:
        self.engine = engine
        self.spec = spec
        self.name: str = spec["name"]
        self.directory = engine.root / "containers" / self.name
        self.process: subprocess.Popen[bytes] | None = None
        self.wanted = True
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {
            **{k: spec[k] for k in ("name", "image", "version", "labels", "argv", "restart")},
            "status": "created",
            "pid": None,
            "started_at": None,
            "finished_at": None,
            "exit_code": None,
            "restarts": 0,
            "created_at": now_iso(),
        }
        self.thread = threading.Thread(target=self._monitor, name=f"container-{self.name}")

    def save(self) -> None:
        write_json(self.directory / "state.json", self.state)

    def start(self) -> None:
        (self.directory / "tmp").mkdir(parents=True, exist_ok=True)
        self.save()
        self.thread.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        import subprocess

        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.directory / "tmp"),
            "TMPDIR": str(self.directory / "tmp"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            **self.spec["env"],
            "HOSTNAME": self.name,
        }
        with (self.directory / "log").open("ab") as log:
            return subprocess.Popen(
                self.spec["argv"],
                cwd=self.spec.get("cwd") or None,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_engine,  # noqa: PLW1509 - the monitor thread lives on
            )

    def _monitor(self) -> None:
        backoff = RESTART_BACKOFF_S[0]
        while True:
            with self.lock:
                if not self.wanted:
                    break
                try:
                    self.process = self._spawn()
                except OSError as error:
                    self.state.update(status="exited", exit_code=127, finished_at=now_iso())
                    self._log(f"cannot start: {error}")
                    self.save()
                    break
                began = time.monotonic()
                self.state.update(
                    status="running", pid=self.process.pid, started_at=now_iso(), exit_code=None
                )
                self.save()
            code = self.process.wait()
            with self.lock:
                self.state.update(exit_code=code, finished_at=now_iso(), pid=None)
                if not self.wanted or self.spec["restart"] == "no":
                    self.state["status"] = "exited"
                    self.save()
                    break
                if time.monotonic() - began >= STABLE_S:
                    backoff = RESTART_BACKOFF_S[0]
                self.state["status"] = "restarting"
                self.state["restarts"] += 1
                self.save()
            self._log(f"exited with {code}; restarting in {backoff:g}s")
            if self.wake.wait(backoff):
                self.wake.clear()
            backoff = min(backoff * 2, RESTART_BACKOFF_S[1])
        with self.lock:
            self.process = None

    def _log(self, message: str) -> None:
        with contextlib.suppress(OSError), (self.directory / "log").open("a") as log:
            log.write(f"{now_iso()} procd: {self.name} {message}\n")

    def signal(self, signum: int) -> None:
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                raise EngineError(f"container {self.name} is not running")
            self.process.send_signal(signum)

    def stop(self, timeout_s: float) -> None:
        """SIGTERM to the process group, SIGKILL after `timeout_s`; no restart afterwards."""
        with self.lock:
            self.wanted = False
            self.wake.set()
            process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            import subprocess

            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        self.thread.join(timeout=timeout_s + 5)
        with self.lock:
            self.state["status"] = "exited"
            self.save()


class Engine:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.images = Images(root)
        self.containers: dict[str, Container] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "ping":
            return {"pid": os.getpid()}
        if op == "run":
            return self.run(request)
        if op in ("stop", "rm", "kill"):
            name = str(request.get("name"))
            with self.lock:
                container = self.containers.get(name)
            if container is None:
                if op == "rm" and (self.root / "containers" / name).exists():
                    _remove_tree(self.root / "containers" / name)
                    return {}
                raise EngineError(f"no such container: {name}")
            if op == "kill":
                container.signal(int(request.get("signal", signal.SIGKILL)))
                return {}
            container.stop(float(request.get("timeout", 10)))
            if op == "rm":
                with self.lock:
                    self.containers.pop(name, None)
                _remove_tree(container.directory)
            return {}
        if op == "shutdown":
            self.stopping.set()
            return {}
        raise EngineError(f"unknown request {op!r}")

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        name = str(request["name"])
        if not name or "/" in name or name.startswith("."):
            raise EngineError(f"bad container name {name!r}")
        image = self.images.record(str(request["image"]))
        with self.lock:
            if name in self.containers:
                raise EngineError(f"container name {name} is in use; remove it first")
            spec = {
                "name": name,
                "image": image["id"],
                "version": image.get("version") or "",
                "labels": dict(request.get("labels") or {}),
                "argv": list(request["argv"]),
                "cwd": request.get("cwd"),
                "env": {**image.get("env", {}), **dict(request.get("env") or {})},
                "restart": request.get("restart") or "unless-stopped",
            }
            container = Container(self, spec)
            _remove_tree(container.directory)
            container.directory.mkdir(parents=True)
            self.containers[name] = container
        container.start()
        return {"id": name}

    def shutdown(self) -> None:
        """Stop every container, in parallel."""
        with self.lock:
            containers = list(self.containers.values())
        threads = [threading.Thread(target=c.stop, args=(10.0,), daemon=True) for c in containers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def serve(root: Path) -> int:
    """Run the engine in the foreground until SIGTERM, SIGINT or `shutdown`."""
    import socketserver

    _load_prctl()
    root.mkdir(parents=True, exist_ok=True)
    engine = Engine(root)
    # Containers of an engine that died are gone with it (parent-death signal): say so.
    for state_path in (root / "containers").glob("*/state.json"):
        state = read_json(state_path)
        if state and state.get("status") in ("running", "restarting", "created"):
            state.update(status="exited", pid=None)
            write_json(state_path, state)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            try:
                request = json.loads(self.rfile.readline() or b"{}")
                reply = {"ok": True, **engine.handle(request)}
            except EngineError as error:
                reply = {"ok": False, "error": str(error)}
            except (ValueError, KeyError, TypeError) as error:
                reply = {"ok": False, "error": f"bad request: {error}"}
            self.wfile.write(json.dumps(reply).encode() + b"\n")

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    try:
        server = Server(socket_address(root), Handler)
    except OSError as error:
        print(f"procd: cannot listen for {root}: {error.strerror}", file=sys.stderr)
        return 1

    def on_signal(_signum: int, _frame: object) -> None:
        engine.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    threading.Thread(target=server.serve_forever, name="procd-server", daemon=True).start()
    print(f"{now_iso()} procd: engine {os.getpid()} serving {root}", flush=True)
    while not engine.stopping.wait(0.5):
        pass
    engine.shutdown()
    server.shutdown()
    server.server_close()
    print(f"{now_iso()} procd: engine stopped", flush=True)
    return 0


# -- the client ---------------------------------------------------------------------------


def request(root: Path, payload: dict[str, Any], timeout_s: float = 60) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(socket_address(root))
        except OSError:
            raise EngineError(
                f"the local engine for {root} is not running; start it: "
                f"{Path(__file__).name} --root {root} serve"
            ) from None
        sock.sendall(json.dumps(payload).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    reply = json.loads(data or b'{"ok": false, "error": "the engine closed the connection"}')
    if not reply.pop("ok", False):
        raise EngineError(str(reply.get("error")))
    return dict(reply)


def answers(root: Path) -> bool:
    try:
        request(root, {"op": "ping"}, timeout_s=2)
    except (EngineError, OSError, ValueError):
        return False
    return True


def start_background(root: Path, wait_s: float = 10) -> int:
    """Start the engine detached from this terminal (own session); wait until it answers."""
    if answers(root):
        return 0
    import subprocess

    root.mkdir(parents=True, exist_ok=True)
    with (root / "engine.log").open("ab") as log:
        subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--root",
                str(root),
                "serve",
                "--foreground",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if answers(root):
            return 0
        time.sleep(0.05)
    raise EngineError(f"the local engine did not start; see {root / 'engine.log'}")


def container_state(root: Path, name: str) -> dict[str, Any]:
    state = read_json(root / "containers" / name / "state.json")
    if state is None:
        raise EngineError(f"no such container: {name}")
    if state.get("status") in ("running", "restarting") and not answers(root):
        state.update(status="exited", pid=None)  # the engine died and took it along
    return state


def logs(root: Path, name: str, tail: int, follow: bool) -> None:
    path = root / "containers" / name / "log"
    if not path.parent.exists():
        raise EngineError(f"no such container: {name}")
    with contextlib.suppress(FileNotFoundError), path.open("rb") as log:
        lines = log.read().splitlines(keepends=True)
        sys.stdout.buffer.write(b"".join(lines[-tail:] if tail else lines))
        sys.stdout.flush()
        while follow:
            chunk = log.read()
            if chunk:
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
            else:
                time.sleep(0.2)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise EngineError(f"{what} {item!r} is not KEY=VALUE")
        pairs[key] = value
    return pairs


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="procd.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, type=Path, help="the engine's directory")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the engine (background)")
    serve_parser.add_argument("--foreground", action="store_true")
    commands.add_parser("ping", help="exit 0 when the engine answers")
    commands.add_parser("shutdown", help="stop every container and the engine")
    commands.add_parser("ps", help="containers, one a line")
    build = commands.add_parser("build", help="record an image")
    build.add_argument("ref")
    build.add_argument("--version", required=True)
    build.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    tag = commands.add_parser("tag", help="tag an image (reference or id)")
    tag.add_argument("source")
    tag.add_argument("ref")
    image_inspect = commands.add_parser("image-inspect", help="an image record")
    image_inspect.add_argument("ref")
    image_inspect.add_argument("--format", choices=("id", "version", "json"), default="json")
    rmi = commands.add_parser("rmi", help="remove image tags")
    rmi.add_argument("refs", nargs="+")
    run = commands.add_parser("run", help="start a container")
    run.add_argument("name")
    run.add_argument("--image", required=True)
    run.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    run.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")
    run.add_argument("--restart", choices=("unless-stopped", "no"), default="unless-stopped")
    run.add_argument("argv", nargs="+", metavar="-- ARGV")
    inspect = commands.add_parser("inspect", help="a container's state")
    inspect.add_argument("name")
    inspect.add_argument(
        "--format", default="json", help="a field of the state, label:KEY, or json"
    )
    for verb in ("stop", "rm"):
        sub = commands.add_parser(verb, help=f"{verb} a container")
        sub.add_argument("name")
        sub.add_argument("--time", type=float, default=10.0, help="seconds before SIGKILL")
    kill = commands.add_parser("kill", help="signal a container's process")
    kill.add_argument("name")
    kill.add_argument("--signal", default="KILL")
    log_parser = commands.add_parser("logs", help="a container's output")
    log_parser.add_argument("name")
    log_parser.add_argument("--tail", type=int, default=0)
    log_parser.add_argument("--follow", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    root: Path = args.root.resolve()
    try:
        return _command(args, root)
    except EngineError as error:
        print(f"procd: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _command(args: argparse.Namespace, root: Path) -> int:
    images = Images(root)
    command = args.command
    if command == "serve":
        return serve(root) if args.foreground else start_background(root)
    if command == "ping":
        return 0 if answers(root) else 1
    if command == "build":
        print(images.build(args.ref, args.version, _pairs(args.env, "environment")))
    elif command == "tag":
        images.tag(args.source, args.ref)
    elif command == "image-inspect":
        record = images.record(args.ref)
        print(json.dumps(record) if args.format == "json" else record[args.format])
    elif command == "rmi":
        for ref in args.refs:
            images.remove(ref)
    elif command == "run":
        request(
            root,
            {
                "op": "run",
                "name": args.name,
                "image": args.image,
                "env": _pairs(args.env, "environment"),
                "labels": _pairs(args.label, "label"),
                "restart": args.restart,
                "argv": args.argv,
                "cwd": os.getcwd(),
            },
        )
    elif command == "inspect":
        state = container_state(root, args.name)
        if args.format == "json":
            print(json.dumps(state))
        elif args.format.startswith("label:"):
            print(state.get("labels", {}).get(args.format.removeprefix("label:"), ""))
        else:
            value = state.get(args.format, "")
            print("" if value is None else value)
    elif command in ("stop", "rm"):
        request(root, {"op": command, "name": args.name, "timeout": args.time})
    elif command == "kill":
        name = args.signal.upper().removeprefix("SIG")
        signum = int(name) if name.isdigit() else getattr(signal, "SIG" + name, None)
        if signum is None:
            raise EngineError(f"unknown signal {args.signal!r}")
        request(root, {"op": "kill", "name": args.name, "signal": int(signum)})
    elif command == "logs":
        logs(root, args.name, args.tail, args.follow)
    elif command == "ps":
        for state_path in sorted((root / "containers").glob("*/state.json")):
            state = container_state(root, state_path.parent.name)
            print(f"{state['name']}\t{state['status']}\t{state.get('version') or '-'}")
    elif command == "shutdown" and answers(root):
        request(root, {"op": "shutdown"})
        deadline = time.monotonic() + 30
        while answers(root) and time.monotonic() < deadline:
            time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
