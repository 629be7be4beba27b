"""What a test needs from outside the checkout: skip without it, except where it must be there.

`../shared` (the team's seed runbook and public corpus), the Docker engine, Prometheus and the
tools scripts/services.sh installs are all present in CI and under scripts/test.sh. There a
test that cannot find them fails, so a missing piece cannot hide an untested feature behind a
skip. Elsewhere (a laptop without Docker, a checkout without ../shared) it skips, saying why.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest


def everything_required() -> bool:
    """True under scripts/test.sh (RUNBOOK_REQUIRE_SERVICES=1) and in CI (CI=true)."""
    return (
        os.environ.get("RUNBOOK_REQUIRE_SERVICES") == "1"
        or os.environ.get("CI", "").lower() == "true"
    )


def unavailable(reason: str) -> NoReturn:
    """Skip the test for `reason`, or fail it where everything must be there."""
    if everything_required():
        pytest.fail(f"{reason} (required: RUNBOOK_REQUIRE_SERVICES=1 or CI=true)")
    pytest.skip(reason)


def module(name: str) -> ModuleType:
    """The installed module `name` (a test extra), or `unavailable`."""
    try:
        return importlib.import_module(name)
    except ImportError:
        unavailable(f"{name} is not installed (pip install -e '.[test]')")
