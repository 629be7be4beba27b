"""The "what is serving" strip: one line under the status bar, at every size.

Environment, the live colour and version behind the proxy, the public /health, the
error rate users see (the gauges pane's reading, never a second probe) and the last
deploy or rollback with its age. It reads the proxy itself, once a second, as soon as
the live panes say which base URL they watch (`watch`); the deployment history is
read on a thread, again only when the file changed. What is shown comes from
runbook.sources.serving; this widget only polls, keeps the newest state and paints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from textual import on
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

if TYPE_CHECKING:
    from console.widgets.options import WidgetOptions
    from runbook.sources.gauges import GaugeValue
    from runbook.sources.prober import Probed, Prober, Subscription
    from runbook.sources.serving import ChangeWatch, LastChange, Serving, ServingWatch

STYLES: dict[str, str] = {
    "env": "bold $text on $success 40%",
    "env-production": "bold $text on $error",
    "ok": "$success",
    "warning": "$warning",
    "bad": "bold $error",
    "muted": "$text-muted",
    "plain": "",
}
"""How each tone of runbook.sources.serving looks (the production environment as the
status bar shows it)."""


class ServingStrip(Static):
    """What serves now, where the operator always sees it."""

    DEFAULT_CSS = """
    ServingStrip {
        height: 1; width: 1fr; padding: 0 1; background: $surface;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    ServingStrip.-down { background: $error 15%; }
    """

    @dataclass
    class Observed(Message, bubble=False):
        """A poll's outcome (posted by the strip's worker, handled on the event loop)."""

        serving: Serving | None
        change: LastChange | None
        history_read: bool

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ServingStrip.Observed)

    def __init__(
        self,
        environment: str,
        production: bool,
        runbook_path: str | None,
        clock: Callable[[], datetime],
        not_watched: str | None = None,
        **kwargs: Unpack[WidgetOptions],
    ) -> None:
        """
        Args:
            environment: the console's environment.
            production: whether it is production (shown as the status bar shows it).
            runbook_path: the runbook, whose repository holds the deployment history.
            clock: now, for the last change's age.
            not_watched: why no service will be read (the console has no live panes).
        """
        super().__init__(markup=False, **kwargs)
        self.environment = environment
        self.production = production
        self.runbook_path = runbook_path
        self.clock = clock
        self.serving: Serving | None = None
        self.change: LastChange | None = None
        self.history_read = False
        self.gauges: tuple[GaugeValue, ...] | None = None
        self.not_watched = not_watched
        """Why the proxy is not read ("live panes off"); None while it is, or will be."""
        self._watch: ServingWatch | None = None
        self._changes: ChangeWatch | None = None
        self._subscription: Subscription | None = None
        self._own_prober: Prober | None = None
        self._shown = ""
        """The line as last painted: a poll that changed nothing repaints nothing."""

    def on_mount(self) -> None:
        # The deployment history is read from the first round, the proxy once the live
        # panes say which base URL they watch (`watch_service`). Painted once laid out
        # (on_resize), at its width.
        # After the first frame: the prober's modules are not the checklist's to wait for.
        self.call_after_refresh(self._subscribe_unwatched)

    def _subscribe_unwatched(self) -> None:
        if self._subscription is None:  # the live panes may have said what to watch already
            self._subscribe(None, (), 1.5)

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
        if self._own_prober is not None:
            self._own_prober.close()

    def _subscribe(self, prober: Prober | None, urls: tuple[str, ...], deadline_s: float) -> None:
        """Read `urls` (and the deployment history) every second from now on, on the live
        panes' prober (its other readers share the reads), else on one of the strip's own."""
        from runbook.sources.prober import Prober
        from runbook.sources.serving import INTERVAL_S

        if self._subscription is not None:
            self._subscription.cancel()
        if prober is None:
            if self._own_prober is None:
                self._own_prober = Prober()
            if self._watch is not None:
                self._own_prober.client_factory = self._watch.client
            prober = self._own_prober
        self._subscription = prober.subscribe(
            urls,
            INTERVAL_S,
            deadline_s,
            self._round,
            on_error=self._failed,
            on_closed=lambda: self._prober_closed(prober, urls, deadline_s),
        )

    def _prober_closed(self, prober: Prober, urls: tuple[str, ...], deadline_s: float) -> None:
        """The live panes' prober closed (they went) while the strip still shows what
        serves: it reads on by itself rather than show a last read as current."""
        if self.is_attached and prober is not self._own_prober:
            self._subscription = None
            self._subscribe(None, urls, deadline_s)

    def _failed(self, error: Exception) -> None:
        self.log.error("serving strip poll failed", error)

    def watch_service(self, base_url: str, deadline_s: float, prober: Prober | None = None) -> None:
        """Read this base URL's /health from now on (the live panes' base URL), through
        `prober` (the live panes', which their health checks share)."""
        from runbook.sources.serving import ServingWatch

        self._watch = ServingWatch(base_url, deadline_s=min(deadline_s, 1.5))
        self.not_watched = None
        self.serving = None
        self._paint()
        self._subscribe(prober, (self._watch.url,), self._watch.deadline_s)

    def unwatched(self, why: str) -> None:
        """Nothing to read (no live panes): say why instead of "checking…"."""
        if self._watch is None:
            self.not_watched = why
            self._paint()

    def show_gauges(self, values: Sequence[GaugeValue]) -> None:
        """The gauges pane's newest values (the error rate comes from them)."""
        self.gauges = tuple(values)
        self._paint()

    async def _round(self, answers: dict[str, Probed]) -> None:
        """One round: the proxy's answer (when watched) and the deployment history."""
        import asyncio

        from runbook.sources.serving import ChangeWatch, history_path_for, serving_read

        if self._changes is None:
            path: Path = await asyncio.to_thread(history_path_for, self.runbook_path)
            self._changes = ChangeWatch(path)
        watch, serving = self._watch, None
        if watch is not None and watch.url in answers:
            serving = watch.update(serving_read(answers[watch.url]))
        changes = self._changes
        if changes.unchanged():
            change = changes.change
        else:
            change = await asyncio.to_thread(changes.check, self.clock())
        if watch is self._watch:  # a read of a base URL no longer watched is dropped
            self._observed(self.Observed(serving, change, history_read=True))

    @on(Observed)
    def _observed(self, message: Observed) -> None:
        before = self._shown_from()
        if message.serving is not None:
            self.serving = message.serving
        self.change = message.change
        self.history_read = message.history_read
        if self._shown_from() != before:
            self._paint()

    def _shown_from(self) -> tuple[object, ...]:
        """What the line is made of, less the moment of each read: a read that says what
        the last one said (a service down for an hour, every second) paints nothing."""
        serving, change = self.serving, self.change
        read = serving.read if serving is not None else None
        latency_ms = None
        if read is not None and read.latency_s is not None:
            latency_ms = round(read.latency_s * 1000)
        return (
            None if serving is None else (serving.last_colour, serving.last_version),
            None if serving is None else serving.down_since,
            None if read is None else (read.status, read.colour, read.version, read.error),
            latency_ms,
            None if change is None else change.text(self.clock(), short=True),
            self.history_read,
        )

    def on_resize(self) -> None:
        self._paint()

    def _paint(self) -> None:
        from runbook.sources.serving import SEPARATOR, fit_segments, strip_segments

        segments = strip_segments(
            self.environment,
            self.production,
            self.serving,
            watched=self.not_watched,
            gauges=self.gauges,
            change=self.change,
            history_read=self.history_read,
            now=self.clock(),
        )
        width = self.content_size.width
        if width <= 0:
            return  # not laid out yet: on_resize paints
        fitted = fit_segments(segments, width)
        parts: list[tuple[str, str] | str] = []
        for position, (segment, text) in enumerate(fitted):
            if position:
                parts.append((SEPARATOR, "$text-muted"))
            parts.append((text, STYLES[segment.tone]))
        content = Content.assemble(*parts)
        down = self.serving is not None and not self.serving.current
        self.set_class(down, "-down")
        if content.plain != self._shown:
            self._shown = content.plain
            self.update(content)

    @property
    def text(self) -> str:
        """The line as shown (for tests and the too-small message)."""
        return self._shown
