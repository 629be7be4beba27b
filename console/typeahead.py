"""Keys are handled one at a time, in the order typed, each by the screen it was typed at.

Textual hands a key to the focused widget's queue, and the key then bubbles up to the
screen and the app, where the bindings are (`s` skip, `n` note, space tick). The app does
not wait for that before handing on the next key. When several keys arrive at once (a
quick typist, a paste, or an SSH packet carrying the keystrokes typed during a lag), the
keys behind `s` were already queued at the step list when the skip dialog opened: the
reason "no recent deploy" ran as commands on the checklist (its space ticked a step), and
the dialog got nothing. A dialog opened by a binding is mounted, and its input focused, a
few messages later still, and keys that reached it before that were lost.

So the console hands on a key only once the previous one has been handled all the way up,
and once the screen it opened is mounted and has focused its input.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from time import monotonic
from typing import Any

from textual import events
from textual.app import App
from textual.dom import DOMNode

POLL_S = 0.005
WAIT_AT_MOST_S = 3.0
"""No key waits longer than this for the one before it (or for a screen that never mounts)."""

TypedEvent = events.Key | events.Paste


class TypeAhead:
    """Hands typed events to the app one at a time; those typed meanwhile wait, in order.

    `forward` is the app's own handling of an input event (`App.on_event`).
    """

    def __init__(self, app: App[Any], forward: Callable[[TypedEvent], Awaitable[None]]) -> None:
        self._app = app
        self._forward = forward
        self._waiting: deque[TypedEvent] = deque()
        self._busy = False
        """A key is being handled, or its screen is opening: what is typed now waits."""
        self._settling: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """How many typed events wait for the one before them."""
        return len(self._waiting)

    async def receive(self, event: events.Event) -> bool:
        """Take typed input: hand it on now, or keep it until the key before it was handled.

        Returns:
            Whether `event` was typed input (else the caller handles it as usual).
        """
        if not isinstance(event, events.Key | events.Paste) or event.is_forwarded:
            return False
        if self._busy or not self._app.screen.is_mounted:
            self._waiting.append(event)
            if not self._busy:  # typed before the first screen was mounted
                self._busy = True
                self._settle(None)
            return True
        await self._handle(event)
        return True

    async def _handle(self, event: TypedEvent) -> None:
        target: DOMNode = self._app.focused or self._app.screen
        self._busy = True
        await self._forward(event)
        self._settle(target)

    def _settle(self, target: DOMNode | None) -> None:
        self._settling = asyncio.create_task(self._settled(target))

    async def _settled(self, target: DOMNode | None) -> None:
        """Wait until the key given to `target` was handled by it and by every node it
        bubbled to, then until the screen is mounted; then hand on the next key."""
        deadline = monotonic() + WAIT_AT_MOST_S
        # Behind the key in each queue on its way up: when a node has passed the mark, it
        # handled the key and passed it on to its parent (if it did) before it. A second
        # round follows what handling the key posted on that way (Enter's Submitted, which
        # closes a dialog).
        for _round in range(2):
            node = target
            while node is not None and node is not self._app and monotonic() < deadline:
                if not await self._passed(node, deadline):
                    break
                node = node.parent
        while not self._app.screen.is_mounted and monotonic() < deadline:
            await asyncio.sleep(POLL_S)  # the key opened a screen: let it mount
        # And behind what the key left for the screen now on top: a dialog it closed hands
        # its result to the screen below, and the next key (Escape) may close that one.
        await self._passed(self._app.screen, deadline)
        # Through the app's queue: behind the key if it bubbled up to the app's bindings,
        # and behind the focus request of a screen that just mounted.
        self._app.call_later(self._next)

    @staticmethod
    async def _passed(node: DOMNode, deadline: float) -> bool:
        """Wait until `node` handled what is queued for it now (False: not by `deadline`)."""
        passed = asyncio.Event()
        if not node.call_later(passed.set):
            return True  # closed: nothing more will be handled there
        try:
            await asyncio.wait_for(passed.wait(), max(0.0, deadline - monotonic()))
        except TimeoutError:
            return False
        return True

    async def _next(self) -> None:
        self._settling = None
        if not self._waiting:
            self._busy = False
            return
        await self._handle(self._waiting.popleft())
