"""What is serving: the live colour and version behind the proxy, and the last change.

The blue-green proxy answers every request with `X-Upstream-Colour` and the service
with `X-Version` (deploy/service/proxy.py, app.py; nginx in the Docker sandbox), so
one GET of the public `/health` (the environment's base URL, as the health checks
use) says which colour and version serve, and whether the public endpoint is healthy.
`ServingWatch` turns those reads into what the console shows: when the service stops
answering it says since when, and keeps the last version it saw as the *last known*
one, never as the current one. `ChangeWatch` reads the deployment history (the file
the incident's deployment hint reads, runbook.incident.deployments) only when it changed.
`strip_segments` and `fit_segments` lay all of it out on one line of any width.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from runbook.sources.health import http_error_text, join_url
from runbook.sources.probe import PROBE_HEADERS
from runbook.sources.prober import Probed, probe_once

if TYPE_CHECKING:
    import httpx

    from runbook.sources.gauges import GaugeValue

HEALTH_PATH = "/health"
COLOUR_HEADER = "X-Upstream-Colour"
VERSION_HEADER = "X-Version"
INTERVAL_S = 1.0
"""How often the strip reads the proxy: a switch or rollback shows within about a second."""


@dataclass(frozen=True)
class ServingRead:
    """What one GET of the public /health said."""

    at: float
    status: int | None
    """HTTP status, None when no answer came."""
    colour: str | None
    version: str | None
    latency_s: float | None = None
    error: str = ""
    """Why no answer came ("ConnectError: could not connect"), else ""."""


def read_response(
    status: int, headers: dict[str, str], at: float, latency_s: float | None = None
) -> ServingRead:
    """A read from an answer's status and headers (header names in any case)."""
    lowered = {name.casefold(): value.strip() for name, value in headers.items()}
    return ServingRead(
        at=at,
        status=status,
        colour=lowered.get(COLOUR_HEADER.casefold()) or None,
        version=lowered.get(VERSION_HEADER.casefold()) or None,
        latency_s=latency_s,
    )


def serving_read(probed: Probed) -> ServingRead:
    """What one GET of the public /health (a `Prober`'s answer) says."""
    if probed.timed_out_s is not None:
        why = f"no answer in {probed.timed_out_s:g} s"
        return ServingRead(probed.at, None, None, None, error=why)
    if probed.status is None:
        error = probed.error or ConnectionError("no answer")
        return ServingRead(probed.at, None, None, None, error=http_error_text(error)[:120])
    return read_response(probed.status, dict(probed.headers), probed.at, probed.latency_s)


async def probe_serving(client: httpx.AsyncClient, url: str, deadline_s: float) -> ServingRead:
    """GET `url` (a /health) once, under a deadline; never raises for network trouble."""
    return serving_read(await probe_once(client, url, deadline_s))


@dataclass(frozen=True)
class Serving:
    """What the strip shows about the service: now, or what was last known and since when."""

    read: ServingRead | None
    """The newest read; None before the first."""
    last_colour: str | None = None
    last_version: str | None = None
    """From the last read that named a version (shown as last known, never as current)."""
    last_seen_at: float | None = None
    down_since: float | None = None
    """When reads stopped naming a version (no answer, or an answer without one)."""

    @property
    def current(self) -> bool:
        """The newest read named the version that serves now."""
        return self.read is not None and self.read.version is not None

    @property
    def reachable(self) -> bool:
        return self.read is not None and self.read.status is not None

    @property
    def healthy(self) -> bool:
        return self.read is not None and self.read.status is not None and self.read.status < 400


class ServingWatch:
    """Reads the public /health of one base URL and keeps what was last known."""

    def __init__(self, base_url: str, deadline_s: float = 1.5) -> None:
        self.base_url = base_url
        self.url = join_url(base_url, HEALTH_PATH)
        self.deadline_s = deadline_s
        self.serving = Serving(None)

    def update(self, read: ServingRead) -> Serving:
        """Take one read; returns what to show now."""
        before = self.serving
        if read.version is not None:
            self.serving = Serving(read, read.colour, read.version, read.at, None)
        else:
            # The version is unknown now: keep the last one as last known, say since when.
            since = before.down_since if before.down_since is not None else read.at
            self.serving = Serving(
                read, before.last_colour, before.last_version, before.last_seen_at, since
            )
        return self.serving

    async def poll(self, client: httpx.AsyncClient) -> Serving:
        return self.update(await probe_serving(client, self.url, self.deadline_s))

    def client(self) -> httpx.AsyncClient:
        """A client for the reads, marked as the console's probes (runbook.sources.probe)."""
        import httpx

        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.deadline_s + 1.0), headers=PROBE_HEADERS
        )


# The last deploy or rollback -------------------------------------------------------------


@dataclass(frozen=True)
class LastChange:
    """The newest successful deploy or rollback in the deployment history."""

    action: str
    version: str | None
    at: datetime
    user: str | None = None
    environment: str | None = None

    @property
    def rolled_back(self) -> bool:
        from runbook.incident.deployments import ROLLBACK_ACTIONS

        return self.action in ROLLBACK_ACTIONS

    def text(self, now: datetime, short: bool = False) -> str:
        """`deployed v2 4m ago` / `rolled back to v1 12s ago` (short: `rollback v1 12s`)."""
        version = self.version or "?"
        age = age_text((now - self.at).total_seconds())
        if short:
            return f"{'rollback' if self.rolled_back else 'deploy'} {version} {age}"
        by = f" by {self.user}" if self.user else ""
        if self.rolled_back:
            return f"rolled back to {version} {age} ago{by}"
        return f"deployed {version} {age} ago{by}"


def age_text(seconds: float) -> str:
    """A short age: 12s, 4m, 3h, 2d."""
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def last_change(history_path: Path, now: datetime) -> LastChange | None:
    """The newest successful deploy or rollback recorded at or before `now`, if any."""
    from runbook.incident.deployments import recent_deployments
    from runbook.incident.timeline import parse_time

    found = recent_deployments(history_path, now, within_s=math.inf)
    if not found:
        return None
    record = found[0]
    version = record.get("to_version")
    return LastChange(
        action=str(record.get("action")),
        version=str(version) if version else None,
        at=parse_time(str(record.get("time"))),
        user=str(record["user"]) if record.get("user") else None,
        environment=str(record["environment"]) if record.get("environment") else None,
    )


class ChangeWatch:
    """The deployment history's newest change, read again only when the file changed."""

    def __init__(self, history_path: Path) -> None:
        self.history_path = history_path
        self._signature: tuple[int, int] | None = None
        self._checked = False
        self.change: LastChange | None = None

    def check(self, now: datetime) -> LastChange | None:
        """Blocking (a stat, and a read when the file changed): call it off the event loop."""
        signature = self._signature_now()
        if signature is None:
            self._signature, self.change = None, None
        elif signature != self._signature:
            self._signature = signature
            self.change = last_change(self.history_path, now)
        self._checked = True
        return self.change

    def unchanged(self) -> bool:
        """Whether the file is as last checked: one stat, cheap enough for the event loop
        (a thread for it every second cost more than the stat)."""
        return self._checked and self._signature_now() == self._signature

    def _signature_now(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.history_path)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)


def history_path_for(runbook_path: str | None) -> Path:
    """The deployment history the incident's hint reads for a runbook (blocking: it looks
    for the repository's root on disk)."""
    from runbook.execution.history import history_file
    from runbook.storage import paths

    return history_file(paths.repository_root(runbook_path))


# One line -------------------------------------------------------------------------------

Tone = Literal["env", "env-production", "ok", "warning", "bad", "muted", "plain"]


@dataclass(frozen=True)
class Segment:
    """One part of the strip: a full and a short text, and how it looks."""

    name: str
    full: str
    short: str
    tone: Tone = "plain"
    droppable: bool = True
    """False for what the strip never drops (the environment and the serving version)."""


SEPARATOR = " │ "
FIT_STEPS = (
    ("short", "change"),
    ("short", "errors"),
    ("short", "health"),
    ("short", "serving"),
    ("short", "env"),
    ("drop", "change"),
    ("drop", "errors"),
    ("drop", "health"),
)
"""How a line too long is made to fit, one step at a time until it does: short forms
first, the least important first, then whole segments dropped (never the environment
or the version)."""


@functools.lru_cache(maxsize=64)
def clock_text(moment: float) -> str:
    """HH:MM:SS of a moment (kept: the strip shows the same "since" every second)."""
    return time.strftime("%H:%M:%S", time.localtime(moment))


def serving_segment(serving: Serving | None, watched: str | None) -> Segment:
    """The colour and version serving, or why none is known now."""
    if serving is None or serving.read is None:
        text = watched or "checking…"
        return Segment("serving", f"serving: {text}", text, "muted", droppable=False)
    read = serving.read
    if serving.current:
        colour = f"{read.colour} " if read.colour else ""
        return Segment(
            "serving",
            f"serving {colour}{read.version}",
            f"{colour}{read.version}",
            "ok" if serving.healthy else "warning",
            droppable=False,
        )
    since = clock_text(serving.down_since or read.at)
    what = "unreachable" if not serving.reachable else f"HTTP {read.status}, no version"
    if read.status is not None and read.status < 400:
        what = "no X-Version header"
    last = " ".join(part for part in (serving.last_colour, serving.last_version) if part)
    known = f" · last known {last}" if last else ""
    short_known = f" (last {serving.last_version})" if serving.last_version else ""
    short_what = "unreachable" if not serving.reachable else f"HTTP {read.status}"
    return Segment(
        "serving",
        f"{what} since {since}{known}",
        f"{short_what} since {since}{short_known}",
        "bad",
        droppable=False,
    )


def health_segment(serving: Serving | None) -> Segment | None:
    if serving is None or serving.read is None:
        return None
    read = serving.read
    if read.status is None:
        return Segment("health", f"{HEALTH_PATH} ✘ {read.error}", "✘", "bad")
    latency = f" {read.latency_s * 1000:.0f} ms" if read.latency_s is not None else ""
    mark = "✔" if serving.healthy else "✘"
    return Segment(
        "health",
        f"{HEALTH_PATH} {mark} {read.status}{latency}",
        f"{mark} {read.status}",
        "ok" if serving.healthy else "bad",
    )


def error_rate_segment(values: Sequence[GaugeValue] | None) -> Segment | None:
    """The users' error rate as the gauges pane reads it (its first error-rate gauge)."""
    if values is None:
        return None
    gauge = next((value for value in values if value.kind == "error_rate"), None)
    if gauge is None:
        return None
    tone: Tone = {"ok": "ok", "warning": "warning", "critical": "bad"}.get(gauge.state, "muted")  # type: ignore[assignment]
    return Segment("errors", f"errors {gauge.value_text()}", f"err {gauge.short_text()}", tone)


def change_segment(change: LastChange | None, now: datetime, read: bool) -> Segment | None:
    if change is None:
        return Segment("change", "no deploy recorded", "no deploy", "muted") if read else None
    return Segment(
        "change",
        change.text(now),
        change.text(now, short=True),
        "warning" if change.rolled_back else "plain",
    )


SHORT_ENVIRONMENTS = {"development": "dev", "staging": "stg", "production": "prod"}


def short_environment(environment: str, production: bool) -> str:
    """`dev`, `stg`, `PROD`; other names cut to 10 characters."""
    short = SHORT_ENVIRONMENTS.get(environment.casefold())
    if short is None:
        short = environment if len(environment) <= 10 else environment[:9] + "…"
    return short.upper() if production else short


def strip_segments(
    environment: str,
    production: bool,
    serving: Serving | None,
    *,
    watched: str | None = None,
    gauges: Sequence[GaugeValue] | None = None,
    change: LastChange | None = None,
    history_read: bool = False,
    now: datetime,
) -> list[Segment]:
    """Everything the strip says, in order, before fitting it to a width.

    Args:
        environment: the console's environment (production is shown in capitals).
        production: whether it is marked production.
        serving: what the proxy's /health said (None: not read yet).
        watched: why nothing is read, when nothing is ("live panes off").
        gauges: the gauges pane's values, for the error rate (None: none shown yet).
        change: the newest deploy or rollback.
        history_read: the history was looked at (so no change means none recorded).
        now: the time ages are counted to.
    """
    name = environment.upper() if production else environment
    env = Segment(
        "env",
        name,
        short_environment(environment, production),
        "env-production" if production else "env",
        droppable=False,
    )
    parts = [
        env,
        serving_segment(serving, watched),
        health_segment(serving),
        error_rate_segment(gauges),
        change_segment(change, now, history_read),
    ]
    return [segment for segment in parts if segment is not None]


def fit_segments(segments: Sequence[Segment], width: int) -> list[tuple[Segment, str]]:
    """Each segment with the text to show, fitted to `width` by `FIT_STEPS` (what is left
    over a very narrow width, the widget cuts with an ellipsis)."""
    shown = {segment.name: segment.full for segment in segments}
    kept = [segment.name for segment in segments]

    def length() -> int:
        texts = [shown[name] for name in kept]
        return sum(len(text) for text in texts) + len(SEPARATOR) * max(len(texts) - 1, 0)

    for step, name in FIT_STEPS:
        if length() <= width:
            break
        segment = next((s for s in segments if s.name == name), None)
        if segment is None or name not in kept:
            continue
        if step == "short":
            shown[name] = segment.short
        elif segment.droppable:
            kept.remove(name)
    return [(segment, shown[segment.name]) for segment in segments if segment.name in kept]
