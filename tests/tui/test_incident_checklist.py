"""The incident strip: the incident id shows at every terminal size."""

from __future__ import annotations

import pytest

from console.incident.deadlines import DeadlineBar, DeadlineCountdown
from tests.tui.conftest import FakeClock, MakeConsole
from tests.tui.test_incident_wiring import start_from_palette, until


async def tick_all(pilot, app) -> None:  # type: ignore[no-untyped-def]
    """One second of the console: the strip's countdowns and the checklist's timers."""
    for bar in app.main_screen.query(DeadlineBar):
        bar.tick()
    app.tick_clock()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40), (160, 40)])
async def test_the_incident_id_shows_at_every_size(
    make_console: MakeConsole, clock: FakeClock, size: tuple[int, int]
) -> None:
    app = make_console()
    async with app.run_test(size=size) as pilot:
        incident = await start_from_palette(pilot, app)
        bar = app.main_screen.query_one(DeadlineBar)
        width = size[0]

        def fits() -> None:
            title = bar.query_one(".incident-title")
            assert incident.id in str(title.render())
            for widget in (title, *bar.query(DeadlineCountdown)):
                assert widget.region.right <= width, (widget, widget.region, width)

        fits()
        clock.advance(1000)  # both deadlines overdue: the longest countdowns
        await tick_all(pilot, app)
        fits()
        app.incidents.acknowledge()
        app.incidents.store.update(incident.id, lambda i: i.mitigate(by="alice", at=clock()))
        app.incidents.refresh()
        await until(pilot, lambda: bar.incident.status == "mitigated")
        await tick_all(pilot, app)
        fits()
        assert "mitigated" in str(bar.query_one(".incident-title").render())
