"""Nothing blocks the event loop: incident and session files are read and written off the UI
thread, so a lock held elsewhere or a slow disk never stops the console answering keys."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import runbook.storage.session
from console.widgets.step_list import StepList
from tests.lock_holder import LockHolder
from tests.tui.conftest import MakeConsole
from tests.tui.test_incident_checklist import notified
from tests.tui.test_incident_wiring import start_from_palette
from tests.waiting import wait_until_async as until


async def test_the_console_answers_keys_while_another_process_holds_the_incident_lock(
    make_console: MakeConsole,
) -> None:
    app = make_console(incident_lock_timeout_s=0.3)
    async with app.run_test(size=(120, 36)) as pilot:
        incident = await start_from_palette(pilot, app)
        steps = app.main_screen.query_one(StepList)
        steps.focus()
        first = steps.highlighted
        assert first is not None
        lock = app.incidents.store.lock_path(incident.id)

        # As `runbook-console incident note` holding the lock for longer than the timeout.
        with LockHolder(lock):
            await pilot.press("a")
            await pilot.press("j")
            assert steps.highlighted == first + 1
            await until(lambda: bool(notified(app, "is busy")))
            assert f"incident {incident.id} is busy" in notified(app, "is busy")[0]
            await pilot.press("k")
            assert steps.highlighted == first
        assert app.incidents.incident is not None
        assert app.incidents.incident.acknowledged_at is None

        # Held for a while, then released: the acknowledgement waits for it, keys don't.
        app.incidents.store.lock_timeout_s = 60
        with LockHolder(lock):
            await pilot.press("a")
            await pilot.press("j", "j")
            assert steps.highlighted == first + 2
            await pilot.press("k")
            assert steps.highlighted == first + 1
            assert app.incidents.incident.acknowledged_at is None  # the holder still has it
        await until(lambda: bool(notified(app, "Incident acknowledged")))
        assert app.incidents.incident.acknowledged_by == "alice"
        assert app.incidents.writer.wait_idle()
        assert app.incidents.store.load(incident.id).acknowledged_by == "alice"


async def test_session_writes_happen_off_the_ui_thread_coalesced_and_flushed_on_quit(
    make_console: MakeConsole, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = runbook.storage.session.write_json_atomic
    writers: list[str] = []
    first_write_started = threading.Event()
    disk_free = threading.Event()

    def slow_write(path: Path, data: object) -> None:
        writers.append(threading.current_thread().name)
        first_write_started.set()
        assert disk_free.wait(30), "the test never let the writer go on"
        write(path, data)

    monkeypatch.setattr(runbook.storage.session, "write_json_atomic", slow_write)
    app = make_console()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: app.main_screen is not None)
        steps = app.main_screen.query_one(StepList)
        steps.focus()
        procedure = steps.procedure
        assert procedure is not None and len(procedure.steps) >= 3
        await pilot.press("space")  # tick step 1: the writer starts, and waits on the "disk"
        assert first_write_started.wait(10)
        await pilot.press("space", "space")  # steps 2 and 3 while the disk is stuck
        assert [app.progress.record(procedure.key, i).status for i in (1, 2, 3)] == ["done"] * 3
        disk_free.set()
        await pilot.press("q")  # quit: the newest state is on disk before the app exits
    assert app.return_code == 0
    assert writers and "MainThread" not in writers
    assert set(writers) == {"session-writer"}
    assert 2 <= len(writers) <= 3, "changes made during a write are coalesced into one write"
    saved = runbook.storage.session.SessionStore(app.session.store.directory).load(
        app.session.runbook_path or "", app.environment
    )
    assert saved is not None
    assert [saved.step(procedure.key, i).status for i in (1, 2, 3)] == ["done"] * 3
