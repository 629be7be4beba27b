"""What the console is started with: injected into the App, so tests fix clocks and names."""

from __future__ import annotations

import getpass
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from runbook.config import Config

if TYPE_CHECKING:
    from textual.widget import Widget

    from runbook.model import Runbook


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return os.environ.get("USER", "operator")


class LiveEndpoints(Protocol):
    """Where the live panes look when a local sandbox stands in (console.embedded)."""

    @property
    def base_url(self) -> str | None: ...
    @property
    def metrics_url(self) -> str | None: ...
    @property
    def notice(self) -> str: ...


class LivePanesHost(Protocol):
    """The console as `ConsoleSettings.live_panes` sees it (RunbookConsole is one)."""

    @property
    def runbook(self) -> Runbook: ...
    @property
    def environment(self) -> str: ...
    @property
    def settings(self) -> ConsoleSettings: ...
    @property
    def embedded(self) -> LiveEndpoints: ...


class CpuMeter:
    """The console's own CPU use since the previous reading, as a percentage of one core."""

    def __init__(self) -> None:
        self._last_cpu = time.process_time()
        self._last_wall = time.monotonic()

    def __call__(self) -> float:
        cpu, wall = time.process_time(), time.monotonic()
        elapsed = wall - self._last_wall
        used = (cpu - self._last_cpu) / elapsed * 100 if elapsed > 0 else 0.0
        self._last_cpu, self._last_wall = cpu, wall
        return used


@dataclass
class ConsoleSettings:
    """Options of one console run."""

    runbook_path: str = ""
    environment: str | None = None
    """Environment to act on; None picks the config's default (never production)."""
    read_only: bool = False
    reduced_colour: bool = False
    config: Config = field(default_factory=Config)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    """Local time, timezone-aware; tests pass a fixed one."""
    user: str = field(default_factory=_user)
    hostname: str = field(default_factory=socket.gethostname)
    cpu_meter: Callable[[], float] = field(default_factory=CpuMeter)
    cpu_first_sample_s: float = 1.0
    """When the first CPU figure shows (the meter is reset at start, so it excludes startup)."""
    session_dir: Path | None = None
    """Where sessions are saved; None uses the config's state dir."""
    confirm_arm_delay: float = 0.6
    """Seconds during which the confirmation screen ignores Enter and paste."""
    resume: bool = True
    """Restore the saved session for this runbook, if any."""
    theme: str | None = None
    live_panes: Callable[[LivePanesHost], Widget] | None = None
    """Builds the live panes (given the app; id "pane-live"); None shows the runbook's
    endpoints and thresholds without live values, as tests do."""
    open_procedure: str | None = None
    """Key of the procedure to open first (an alert's), before the saved session's."""
    variables: dict[str, str] = field(default_factory=dict)
    """Values prefilled in the variables form (an alert's labels: $NAMESPACE, $POD)."""
    alert: dict[str, object] | None = None
    """The alert the console was opened for; kept with an incident started from it."""
    notice: str = ""
    """Shown once at start (what the alert opened, and why)."""
    incident_lock_timeout_s: float = 5.0
    """How long an incident action waits for another console or the CLI to release the
    incident's lock before the console says the incident is busy."""
