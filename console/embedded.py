"""The embedded default: when nothing serves the environment, the panes watch a local sandbox.

On a machine with no Docker engine, no Prometheus and nothing answering at the
environment's base URL, the live panes would show only failures. `EmbeddedService`
decides, off the UI thread and before the live panes mount, whether to start the
reference service as a local process (`runbook.drills.embedded.ensure_service`) and point
the health pane and the gauges' fallback at it. Only for the development environment,
never for one marked production.
The sandbox stops with the console (its own atexit and parent-death hooks).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.widget import Widget

    from console.settings import ConsoleSettings
    from runbook.drills.embedded import LocalSandbox
    from runbook.sources.settings import SourceSettings

SANDBOX_MODE = "SANDBOX"
"""What the status bar says while the panes watch the local sandbox service."""


def _engine_reachable(docker_host: str) -> bool:
    from runbook.sources.docker.engine import Engine

    try:
        return bool(Engine(docker_host, timeout_s=1.0).client(timeout_s=1.0).ping())
    except Exception:  # noqa: BLE001 - any failure means "no engine to watch"
        return False


def _settle(future: asyncio.Future[BaseException | None], error: BaseException | None) -> None:
    if not future.done():
        future.set_result(error)


class EmbeddedHost(Protocol):
    """The console as the embedded service sees it (RunbookConsole is one)."""

    @property
    def environment(self) -> str: ...
    @property
    def production(self) -> bool: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def settings(self) -> ConsoleSettings: ...
    @property
    def main_screen(self) -> Widget | None: ...
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
    ) -> None: ...


class EmbeddedService:
    """Where the live panes look: the configured service, or a local sandbox of it."""

    def __init__(self, app: EmbeddedHost) -> None:
        self.app = app
        self.sandbox: LocalSandbox | None = None
        self.base_url: str | None = None
        """Set when the panes must use another base URL than the configured one."""
        self.metrics_url: str | None = None
        self.notice = ""
        """A line for the live pane saying what is sandbox."""
        self.engine_reachable = _engine_reachable
        """Injectable: tests decide whether a Docker engine "answers"."""
        self._stopped = threading.Event()

    def _settings(self) -> SourceSettings:
        from runbook.sources.settings import source_settings

        return source_settings(self.app.settings.config, self.app.environment)

    async def prepare(self) -> None:
        """Decide (on a daemon thread) whether the panes need the sandbox, and start it."""
        from runbook.config import DEFAULT_ENVIRONMENT

        # Only the development environment: a sandbox standing in for an unreachable
        # staging or production service would hide that it is unreachable.
        development = str(self.app.environment).casefold() == DEFAULT_ENVIRONMENT.casefold()
        if self.app.production or not development or self._stopped.is_set() or self.sandbox:
            return
        loop = asyncio.get_running_loop()
        decided: asyncio.Future[BaseException | None] = loop.create_future()
        threading.Thread(
            target=self._keep, args=(loop, decided), name="embedded-sandbox", daemon=True
        ).start()
        error = await decided
        if error is not None:  # the console works without it
            self.app.notify(f"No local sandbox service: {error}", severity="warning", timeout=8)
            return
        if self.sandbox is not None:
            self._show_mode()
            self.app.notify(
                f"Nothing answers at the configured URL: the panes watch a local SANDBOX "
                f"service at {self.sandbox.base_url}.",
                title="Sandbox",
                timeout=8,
            )

    def _show_mode(self) -> None:
        from console.widgets.status_bar import StatusBar

        screen = self.app.main_screen
        if screen is None:
            return
        mode = f"READ-ONLY · {SANDBOX_MODE}" if self.app.read_only else SANDBOX_MODE
        for bar in screen.query(StatusBar).results(StatusBar):
            bar.mode = mode

    def _keep(
        self, loop: asyncio.AbstractEventLoop, decided: asyncio.Future[BaseException | None]
    ) -> None:
        """Decide on this daemon thread, then hand the outcome to the awaiting task."""
        error: BaseException | None = None
        try:
            self._resolve()
        except Exception as raised:  # noqa: BLE001 - handed to the awaiting task
            error = raised
        with contextlib.suppress(RuntimeError):  # the app quit meanwhile
            loop.call_soon_threadsafe(_settle, decided, error)

    def _resolve(self) -> None:
        """Blocking: only when no Prometheus, no engine and nothing at the base URL."""
        from runbook.drills.embedded import ensure_service

        try:
            settings = self._settings()
        except Exception:  # noqa: BLE001 - a broken [sources] table: the panes say why
            return
        if settings.prometheus_url or self.engine_reachable(settings.resolved_docker_host):
            return
        url, sandbox = ensure_service(settings.base_url)
        if sandbox is None:
            return
        self.sandbox = sandbox
        self.base_url, self.metrics_url = url, sandbox.metrics_url
        self.notice = (
            f"SANDBOX: a local reference service at {url} (pid {sandbox.pid}); "
            f"nothing answers at {settings.base_url} and no Docker engine."
        )

    def stop(self) -> None:
        self._stopped.set()
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
