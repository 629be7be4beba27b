"""The checklist during an incident: deadline rows count with the incident strip, ticking the
acknowledge and escalate steps does the incident's actions, and the incident id shows at
every terminal size."""

from __future__ import annotations

import pytest
from textual.content import Content

from console.incident.deadlines import DeadlineBar, DeadlineCountdown
from console.screens.prompt import TextPromptScreen
from console.widgets.step_list import DEADLINE_STYLE, StepList
from runbook.incident.timeline import ordered
from tests.tui.conftest import FakeClock, MakeConsole
from tests.tui.test_incident_wiring import recorded, start_from_palette
from tests.waiting import wait_until_async as until


def row(app, index: int) -> Content:  # type: ignore[no-untyped-def]
    """The checklist row of step `index` (1-based) as drawn."""
    prompt = app.main_screen.query_one(StepList).get_option_at_index(index - 1).prompt
    assert isinstance(prompt, Content)
    return prompt


def styles(content: Content) -> set[str]:
    return {str(span.style) for span in content.spans}


async def tick_all(pilot, app) -> None:  # type: ignore[no-untyped-def]
    """One second of the console: the strip's countdowns and the checklist's timers."""
    for bar in app.main_screen.query(DeadlineBar):
        bar.tick()
    app.tick_clock()
    await pilot.pause()


def notified(app, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    messages = [f"{n.title}: {n.message}" for n in app._notifications]  # noqa: SLF001
    return [m for m in messages if text in m]


async def test_deadline_rows_count_from_the_incidents_opening_like_the_strip(
    make_console: MakeConsole, clock: FakeClock
) -> None:
    app = make_console()
    async with app.run_test(size=(100, 36)) as pilot:
        await until(lambda: app.main_screen is not None)
        app.main_screen.jump_to(app.runbook.severities[0].procedure, 2)
        await pilot.pause()
        assert "deadline 5:00 · from your first action here" in row(app, 1).plain
        await pilot.press("space")  # the procedure's first action, two minutes before the incident
        clock.advance(120)
        await tick_all(pilot, app)
        assert "deadline · 3:00 left" in row(app, 1).plain  # outside an incident: as before

        await start_from_palette(pilot, app)
        ack = app.main_screen.query_one(".deadline-acknowledge", DeadlineCountdown)
        escalate = app.main_screen.query_one(".deadline-escalate", DeadlineCountdown)
        for seconds, ack_state in ((0, "ok"), (160, "amber"), (90, "red"), (60, "due")):
            clock.advance(seconds)
            await tick_all(pilot, app)
            now = clock()
            assert ack.state == ack_state
            first, last = row(app, 1), row(app, 5)
            assert f"incident deadline · {ack.deadline.countdown(now)}" in first.plain
            assert DEADLINE_STYLE[ack_state] in styles(first)
            assert f"incident deadline · {escalate.deadline.countdown(now)}" in last.plain
            assert DEADLINE_STYLE[escalate.state] in styles(last)
        assert "+00:10 overdue" in row(app, 1).plain and "09:50 left" in row(app, 5).plain

        app.incidents.acknowledge()  # `a`: the row follows the strip
        await tick_all(pilot, app)
        assert ack.state == "late" and "incident deadline · late +00:10" in row(app, 1).plain


async def test_acknowledgement_from_elsewhere_reaches_the_checklist(
    make_console: MakeConsole, clock: FakeClock
) -> None:
    app = make_console()
    async with app.run_test(size=(100, 36)) as pilot:
        incident = await start_from_palette(pilot, app)
        clock.advance(30)
        # As `runbook-console incident ack` does, in another process.
        app.incidents.store.update(incident.id, lambda i: i.acknowledge(by="bob", at=clock()))
        await until(lambda: "done 04:30 early" in row(app, 1).plain)
        assert app.incidents.incident.acknowledged_by == "bob"  # type: ignore[union-attr]
        await pilot.press("space")  # ticking the step now records no second acknowledgement
        await pilot.pause()
        assert not notified(app, "already acknowledged")
        assert [e.kind for e in recorded(app).events].count("acknowledged") == 1


async def test_ticking_the_acknowledge_step_acknowledges_the_incident(
    make_console: MakeConsole, clock: FakeClock
) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        incident = await start_from_palette(pilot, app)
        steps = app.main_screen.query_one(StepList)
        assert steps.highlighted == 0 and steps.current_step.incident_action == "acknowledge"  # type: ignore[union-attr]
        clock.advance(95)
        await pilot.press("space")
        await pilot.pause()
        stored = recorded(app)
        assert stored.acknowledged_by == "alice"
        assert stored.durations()["acknowledge"] == 95
        shown = [e for e in ordered(stored.events) if e.kind in ("acknowledged", "step-done")]
        assert [e.kind for e in shown] == ["step-done", "acknowledged"]
        assert shown[0].time == shown[1].time == stored.acknowledged_at
        assert notified(app, f"Incident acknowledged: {incident.id} acknowledged at 03:13")
        assert "(step 1 ticked)" in notified(app, "Incident acknowledged")[0]
        await until(
            lambda: (
                app.main_screen.query_one(".deadline-acknowledge", DeadlineCountdown).state == "met"
            ),
        )
        # Untick and tick again: acknowledged once, no complaint.
        steps.highlighted = 0
        await pilot.press("space", "space")
        await pilot.pause()
        assert [e.kind for e in recorded(app).events].count("acknowledged") == 1
        assert not notified(app, "already acknowledged")


@pytest.mark.parametrize("answer", ["sre-lead", None], ids=["escalated", "not-escalated"])
async def test_ticking_the_escalate_step_asks_whom_to_escalate_to(
    make_console: MakeConsole, answer: str | None
) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        incident = await start_from_palette(pilot, app)
        app.main_screen.query_one(StepList).highlighted = 4
        await pilot.pause()
        await pilot.press("space")
        await until(lambda: isinstance(app.screen, TextPromptScreen))
        assert incident.id in str(app.screen.query_one(".dialog-title").render())
        if answer is None:
            await pilot.press("escape")
        else:
            await pilot.press(*answer, "enter")
        await until(lambda: not isinstance(app.screen, TextPromptScreen))
        stored = recorded(app)
        assert app.progress.record(incident.procedure, 5).status == "done"
        if answer is None:
            assert stored.escalated_at is None
            assert notified(app, "Step 5 ticked without an escalation")
        else:
            assert stored.escalated_to == "sre-lead" and stored.escalated_at is not None
            (event,) = [e for e in stored.events if e.kind == "escalated"]
            assert event.actor == "alice" and event.text == "Escalated to sre-lead"
            assert notified(app, f"Incident escalated: {incident.id} escalated to sre-lead")
            escalate = app.main_screen.query_one(".deadline-escalate", DeadlineCountdown)
            await until(lambda: escalate.state == "met")


async def test_a_mitigated_incident_is_not_escalated_by_ticking(
    make_console: MakeConsole, clock: FakeClock
) -> None:
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        incident = await start_from_palette(pilot, app)
        app.incidents.store.update(incident.id, lambda i: i.mitigate(by="alice", at=clock()))
        app.incidents.refresh()  # read on the writer thread
        await until(lambda: app.incidents.incident.mitigated_at is not None)
        app.main_screen.query_one(StepList).highlighted = 4
        await pilot.press("space")
        await pilot.pause()
        assert not isinstance(app.screen, TextPromptScreen)
        assert recorded(app).escalated_at is None


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
        app.incidents.refresh()  # read on the writer thread
        await until(lambda: app.incidents.incident.mitigated_at is not None)
        await until(lambda: bar.incident.status == "mitigated")
        await tick_all(pilot, app)
        fits()
        assert "mitigated" in str(bar.query_one(".incident-title").render())
