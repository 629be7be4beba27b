"""A checklist belongs to its runbook, its environment and its incident: Production never
opens on Development's ticks, a new incident starts unticked, and each resumes on its own."""

from __future__ import annotations

from runbook.storage.session import SessionStore
from tests.tui.conftest import FakeClock, MakeConsole
from tests.tui.test_incident_wiring import start_from_palette
from tests.waiting import wait_until_async as until


async def tick_first_steps(pilot, app, key: str, count: int) -> None:  # type: ignore[no-untyped-def]
    app.main_screen.jump_to(key, 1)
    await pilot.pause()
    for index in range(1, count + 1):
        await pilot.press("space")
        await until(lambda index=index: app.progress.record(key, index).status == "done")


async def test_production_never_opens_on_another_environments_ticks(
    make_console: MakeConsole,
) -> None:
    development = make_console()
    key = development.runbook.procedures[0].key
    async with development.run_test(size=(80, 24)) as pilot:
        await until(lambda: development.main_screen is not None)
        await tick_first_steps(pilot, development, key, 2)
        await pilot.press("q")

    production = make_console(environment="Production")
    async with production.run_test(size=(80, 24)) as pilot:
        await until(lambda: production.main_screen is not None)
        assert production.session.resumed_steps == 0
        assert production.progress.record(key, 1).status == "pending"
        assert production.progress.counts(production.runbook.procedures[0]).finished == 0
        await tick_first_steps(pilot, production, key, 1)
        await pilot.press("q")

    again = make_console()  # Development again: its own ticks, and only those
    async with again.run_test(size=(80, 24)) as pilot:
        await until(lambda: again.main_screen is not None)
        assert [again.progress.record(key, i).status for i in (1, 2)] == ["done", "done"]
        await pilot.press("q")
    back = make_console(environment="Production")
    async with back.run_test(size=(80, 24)) as pilot:
        await until(lambda: back.main_screen is not None)
        assert [back.progress.record(key, i).status for i in (1, 2)] == ["done", "pending"]
        await pilot.press("q")


async def test_a_new_incident_starts_unticked_and_the_checklist_returns_after_it(
    make_console: MakeConsole, clock: FakeClock
) -> None:
    app = make_console()
    p1 = app.runbook.procedure(app.runbook.severities[0].procedure)
    assert p1 is not None
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: app.main_screen is not None)
        await tick_first_steps(pilot, app, p1.key, len(p1.steps))
        assert app.progress.counts(p1).finished == len(p1.steps)

        incident = await start_from_palette(pilot, app)
        assert app.session.incident == incident.id
        assert app.progress.counts(p1).finished == 0, "a new incident starts unticked"
        assert app.main_screen.step_list.procedure.key == p1.key  # type: ignore[union-attr]
        await pilot.press("space")  # the acknowledge step, in the incident's checklist
        await until(lambda: app.progress.record(p1.key, 1).status == "done")

        clock.advance(60)
        app.incidents.store.update(incident.id, lambda i: [i.close("fixed", by="bob")])
        app.incidents.refresh()
        await until(lambda: app.session.incident is None)
        assert app.progress.counts(p1).finished == len(p1.steps), "the checklist before it"
        app.session.flush(30)

    store = SessionStore(app.session.store.directory)
    during = store.load(app.runbook_path or "", app.environment, incident.id)
    assert during is not None and during.step(p1.key, 1).status == "done"
    assert during.step(p1.key, 2).status == "pending"


async def test_an_open_incident_resumes_its_own_checklist_in_its_own_environment(
    make_console: MakeConsole,
) -> None:
    app = make_console()
    async with app.run_test(size=(120, 36)) as pilot:
        incident = await start_from_palette(pilot, app)
        await pilot.press("space")
        await until(lambda: app.progress.record(incident.procedure, 1).status == "done")
        await pilot.press("q")

    again = make_console()  # the incident is still open: adopted, with its ticks
    async with again.run_test(size=(120, 36)) as pilot:
        await until(lambda: again.session.incident == incident.id)
        await until(lambda: again.progress.record(incident.procedure, 1).status == "done")
        await pilot.press("q")

    production = make_console(environment="Production")  # not Production's incident
    async with production.run_test(size=(120, 36)) as pilot:
        await until(lambda: production.main_screen is not None)
        await production.workers.wait_for_complete()
        assert production.incidents.writer.wait_idle()
        await pilot.pause()
        assert production.incidents.incident is None and production.session.incident is None
        assert production.progress.record(incident.procedure, 1).status == "pending"
        await pilot.press("q")


async def test_an_incident_opened_elsewhere_while_the_console_runs_becomes_its_own(
    make_console: MakeConsole,
) -> None:
    """The CLI (`incident start`, `open --alert`) or another console opens one while this
    console is up: it shows within seconds, as it would at start; another environment's
    does not."""
    from runbook.incident.model import open_incident

    app = make_console()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: app.main_screen is not None)
        await pilot.pause()
        assert app.incidents.incident is None
        store = app.incidents.store
        elsewhere = open_incident(app.runbook, "P1", by="bob", environment="Production")
        store.save(elsewhere)
        here = open_incident(app.runbook, "P2", by="bob", environment=app.environment)
        store.save(here)
        await until(lambda: app.session.incident == here.id, 15, "the incident adopted")
        assert app.incidents.incident is not None and app.incidents.incident.id == here.id
        screen = app.main_screen
        assert screen is not None
        await until(
            lambda: (
                screen.step_list.procedure is not None
                and screen.step_list.procedure.key == here.procedure
            ),
            15,
            "its procedure shown",
        )
        await pilot.press("q")
