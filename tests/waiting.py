"""The one way tests wait: until a condition holds, or fail saying what never happened.

A test never sleeps for a fixed time and then looks. It names the condition it expects and
polls it briefly; the timeout is only a bound for when the condition never comes, so it is
generous (a busy CI box is slow) and costs nothing when things work.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_S = 0.02
"""How often a condition is looked at again."""


def wait_until(
    predicate: Callable[[], T], timeout: float = 10.0, what: str = "", interval: float = POLL_S
) -> T:
    """The first truthy value of `predicate()`; AssertionError naming `what` after `timeout` s.

    Exceptions the predicate raises propagate: a condition that cannot be looked at yet
    (a connection refused while a server starts) catches them itself.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:g} s: {what or describe(predicate)}")
        time.sleep(interval)


async def wait_until_async(
    predicate: Callable[[], T], timeout: float = 10.0, what: str = "", interval: float = POLL_S
) -> T:
    """`wait_until` for async tests: the event loop (a Textual app under `run_test`, say)
    keeps running between looks."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:g} s: {what or describe(predicate)}")
        await asyncio.sleep(interval)


def describe(predicate: Callable[[], object]) -> str:
    """Where a condition was written, for a message when the test gave none."""
    code = getattr(predicate, "__code__", None)
    if code is None:
        return repr(predicate)
    return f"{code.co_name} at {code.co_filename.rsplit('/', 1)[-1]}:{code.co_firstlineno}"
