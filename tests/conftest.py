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
    render_what_is_shown_last()


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


def render_what_is_shown_last() -> None:
    """A headless app renders the frames a test looks at, not every frame in between.

    Textual renders every refresh of a headless app's screen into strips and throws them away
    (nothing is written without a terminal): a third to a half of a console test's CPU. Here a
    headless screen only takes its updates (layout, dirty regions) as it refreshes, and
    renders in full (every widget's `render_line`, as a frame on a terminal would) when it
    leaves the screen stack and, for every screen still shown, when the test's `run_test`
    block ends. A widget that fails to render its last state still fails the test. What a
    test reads (`export_screenshot`, snapshots, `render_line`, `render_strips`) is rendered
    when it asks, as before; apps with a terminal (pty tests) are not touched.
    """
    import contextlib

    from textual.app import App
    from textual.screen import Screen

    compositor_refresh = Screen._compositor_refresh  # noqa: SLF001 - no public hook
    replace_screen = App._replace_screen  # noqa: SLF001
    run_test = App.run_test

    def skip_unseen_frames(self: Screen) -> None:
        app = self.app
        if not app.is_headless or app.is_inline or self is not app.screen:
            compositor_refresh(self)
            return
        self._compositor._dirty_regions.clear()  # noqa: SLF001 - what render_update clears
        self._dirty_widgets.clear()  # noqa: SLF001
        app._update_mouse_over(self)  # noqa: SLF001

    def render(screen: Screen) -> None:
        if screen.app.is_headless and screen.is_attached and screen._compositor.size.area:  # noqa: SLF001
            screen._compositor.render_update(full=True)  # noqa: SLF001

    async def replace(self: App, screen: Screen) -> Screen:  # type: ignore[type-arg]
        render(screen)
        return await replace_screen(self, screen)

    @contextlib.asynccontextmanager
    async def run_and_render_last(self: App, *args: object, **kwargs: object):  # type: ignore[type-arg, no-untyped-def]
        async with run_test(self, *args, **kwargs) as pilot:  # type: ignore[arg-type]
            yield pilot
            if self.is_running:
                for screen in self.screen_stack:
                    render(screen)

    Screen._compositor_refresh = skip_unseen_frames  # type: ignore[method-assign]  # noqa: SLF001
    App._replace_screen = replace  # type: ignore[method-assign]  # noqa: SLF001
    App.run_test = run_and_render_last  # type: ignore[method-assign, assignment]
