"""The embedded default: the reference service as a local process, so the panes have a service.

On a machine with no Docker engine and no Prometheus the console still shows a
living console: `start_embedded()` runs `deploy/service/app.py` on a free
loopback port with the dev config and returns the sandbox; point the health
pane at `sandbox.base_url` and the gauges' fallback at `sandbox.metrics_url`.
It stops with the console: `stop()`, an atexit hook, and the kernel's
parent-death signal (so even `kill -9` of the console ends it).

```python
from runbook.drills.embedded import start_embedded
box = start_embedded()                   # blocks until /health answers (about 1 s)
settings.base_url = box.base_url         # http://127.0.0.1:<port>
...
box.stop()                               # also runs at exit
```

Everything about it is sandbox: its own port, a private copy of the dev config
(`drills` switches off), version `sandbox`. Nothing of the real environments
is touched.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from runbook.sources.probe import PROBE_HEADERS

REPOSITORY = Path(__file__).resolve().parents[2]
SERVICE = Path("deploy") / "service" / "app.py"
DEV_CONFIG = Path("deploy") / "config" / "dev.json"
_PR_SET_PDEATHSIG = 1


class SandboxError(RuntimeError):
    """The service would not start; the message has the last lines of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: SIGTERM when the console's process ends, however it ends (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-spawner")
"""Starts every sandbox process. The kernel's parent-death signal follows the *thread*
that forked, so a process started from a short-lived worker thread would be killed when
that thread ends; this one thread lives until the interpreter exits."""


def _spawn(argv: list[str], **options: Any) -> subprocess.Popen[bytes]:
    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, preexec_fn=_die_with_parent, **options)  # noqa: PLW1509

    return _SPAWNER.submit(start).result()


class LocalSandbox:
    """The reference service as one local process on 127.0.0.1."""

    def __init__(
        self,
        repo_root: Path = REPOSITORY,
        *,
        port: int | None = None,
        version: str = "sandbox",
        config: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.repo_root = repo_root
        self.port = port or free_port()
        self.version = version
        self.python = python
        self.extra_env = env or {}
        self.directory = Path(tempfile.mkdtemp(prefix="rbc-sandbox-"))
        self.config_path = self.directory / "app.json"
        self.log_path = self.directory / "service.log"
        source = (repo_root / DEV_CONFIG).read_text(encoding="utf-8")
        if config is not None:
            import json

            source = json.dumps(config, indent=2)
        self.config_path.write_text(source, encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return self.base_url + "/metrics"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout_s: float = 15.0) -> str:
        """Start the service and wait until /health and /ready answer 200; the base URL."""
        if self.running():
            return self.base_url
        argv = [
            self.python,
            str(self.repo_root / SERVICE),
            "--config",
            str(self.config_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--version",
            self.version,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("DRILL_")}
        env.update(self.extra_env)
        with self.log_path.open("ab") as log:
            self.process = _spawn(
                argv,
                cwd=self.repo_root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SandboxError(f"the sandbox service exited: {self.log_tail()}")
            if _answers(self.base_url + "/health") and _answers(self.base_url + "/ready"):
                return self.base_url
            time.sleep(0.1)
        self.stop()
        raise SandboxError(
            f"the sandbox service did not answer in {timeout_s:g}s: {self.log_tail()}"
        )

    def reload(self) -> None:
        """SIGHUP: the service re-reads its config file without restarting."""
        if self.process is not None and self.running():
            self.process.send_signal(signal.SIGHUP)

    def write_config(self, config: dict[str, Any]) -> None:
        import json

        temp = self.config_path.with_suffix(".tmp")
        temp.write_text(json.dumps(config, indent=2), encoding="utf-8")
        os.replace(temp, self.config_path)

    def stop(self, grace_s: float = 3.0) -> None:
        """SIGTERM (the service drains briefly), SIGKILL after `grace_s`; removes its files."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " / ".join(text.strip().splitlines()[-lines:])

    def __enter__(self) -> LocalSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _answers(url: str) -> bool:
    try:
        request = urllib.request.Request(url, headers=PROBE_HEADERS)  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310 - loopback
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start_embedded(repo_root: Path = REPOSITORY, port: int | None = None) -> LocalSandbox:
    """Start the embedded sandbox service (dev config, free loopback port) and return it."""
    sandbox = LocalSandbox(repo_root, port=port)
    sandbox.start()
    return sandbox


def service_reachable(base_url: str) -> bool:
    """Whether something answers /health at `base_url` (then no sandbox is needed)."""
    return _answers(base_url.rstrip("/") + "/health")


def ensure_service(
    base_url: str | None, repo_root: Path = REPOSITORY
) -> tuple[str, LocalSandbox | None]:
    """The URL the panes should use: `base_url` when a service answers there, else a sandbox's.

    Returns:
        (base URL, the started sandbox or None); stop the sandbox on exit (atexit does too).
    """
    if base_url and service_reachable(base_url):
        return base_url, None
    sandbox = start_embedded(repo_root)
    return sandbox.base_url, sandbox
