"""Shared fixtures: keep every test away from the developer's own config and state."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.required import unavailable

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED = SHARED / "seed" / "runbook.md"
CORPUS = SHARED / "corpus"
PROJECT_RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point XDG dirs, the config file and the state dir at a per-test temp dir."""
    home = tmp_path / "home"
    for variable, folder in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ):
        (home / folder).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(variable, str(home / folder))
    monkeypatch.setenv("RUNBOOK_CONFIG_FILE", str(home / "config" / "runbook-console.toml"))
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(home / "state" / "runbook-console"))
    # Locks and deployment history default to box-wide places; tests keep their own.
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(home / "locks"))
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(home / "deployment-history"))
    return home


@pytest.fixture
def seed_path() -> Path:
    if not SEED.exists():
        unavailable("../shared/seed/runbook.md is not beside this checkout")
    return SEED


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`serial` tests all go to one xdist worker, one after another (`--dist loadgroup`):
    they share fixed resources (the engine-wide drill cleanup, the deploy sandbox's images)
    or time themselves. Everything else runs spread over the workers."""
    for item in items:
        if item.get_closest_marker("serial") is not None:
            item.add_marker(pytest.mark.xdist_group("serial"))


def pytest_configure(config: pytest.Config) -> None:
    """Pilot's idle wait, in finer slices.

    After every key it sends, Pilot waits until the app process looks idle: it sleeps in
    slices of `SLEEP_GRANULARITY` (20 ms) until one slice used under `SLEEP_IDLE` of CPU, twice
    per key. Typing a 16-character reason took over a second of sleeping. The same rule
    (idle for a twentieth of a slice) in 5 ms slices waits as surely and a quarter as long.
    """
    import textual._wait

    textual._wait.SLEEP_GRANULARITY = 0.005
    textual._wait.SLEEP_IDLE = textual._wait.SLEEP_GRANULARITY / 20
    share_parsed_css()


PARSED_CSS: dict[tuple[object, ...], object] = {}


def share_parsed_css() -> None:
    """Every app a test starts parses the same CSS (the console's and each widget's
    DEFAULT_CSS) with the same variables: a tenth of an app's start-up CPU. Textual caches
    parsed rules per stylesheet (64 entries, fewer than the sources of one app); here the
    rules are kept for the whole worker, keyed by everything `_parse_rules` reads: the CSS
    text, where it came from, its flags and the stylesheet's variables. Textual itself hands
    the same parsed rules to every later parse of its stylesheet. A failed parse is not kept:
    bad CSS raises in every app, as it does without this."""
    from textual.css.stylesheet import Stylesheet

    parse_rules = Stylesheet._parse_rules  # noqa: SLF001 - no public hook

    def shared(self: Stylesheet, css: str, read_from: object, *args: object, **kwargs: object):
        variables = tuple(sorted(self._variables.items()))  # noqa: SLF001
        key = (css, read_from, args, tuple(sorted(kwargs.items())), variables)
        try:
            return PARSED_CSS[key]
        except KeyError:
            rules = parse_rules(self, css, read_from, *args, **kwargs)  # type: ignore[arg-type]
            PARSED_CSS[key] = rules
            return rules

    Stylesheet._parse_rules = shared  # type: ignore[method-assign]  # noqa: SLF001
