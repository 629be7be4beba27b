"""Daemon threads for the blocking Docker SDK: nothing here is ever joined at exit.

A call stuck on a hung engine (an inspect waiting for its timeout) must never
hold up the caller, such as a TUI worker the app waits for when quitting.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


class Stoppable(Protocol):
    @property
    def stopped(self) -> bool: ...

    def on_stop(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call `callback` when stopped (at once if already); returns what undoes it."""
        ...


def run_until_stopped(engine: Stoppable, loop: Callable[[], None], name: str) -> None:
    """Run `loop` on a daemon thread and return as soon as it ends or the engine stops.

    A call blocked on a hung engine (an inspect waiting for its timeout) then never
    holds up the caller, such as a TUI worker the app waits for when quitting. The
    caller sleeps on one event until then: no wake-ups to look, which cost CPU.
    """
    finished = threading.Event()

    def body() -> None:
        try:
            loop()
        finally:
            finished.set()

    forget = engine.on_stop(finished.set)
    threading.Thread(target=body, name=name, daemon=True).start()
    finished.wait()
    forget()


def parallel_map(function: Callable[[_T], _R], items: Iterable[_T], threads: int) -> list[_R]:
    """`map` over daemon threads (a ThreadPoolExecutor would be joined at exit)."""
    work: queue.SimpleQueue[tuple[int, _T]] = queue.SimpleQueue()
    listed = list(items)
    for index, item in enumerate(listed):
        work.put((index, item))
    results: list[Any] = [None] * len(listed)
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            try:
                index, item = work.get_nowait()
            except queue.Empty:
                return
            try:
                results[index] = function(item)
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller
                errors.append(error)

    workers = [
        threading.Thread(target=worker, daemon=True) for _ in range(min(threads, len(listed)))
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if errors:
        raise errors[0]
    return results
