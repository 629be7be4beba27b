"""Checklist sessions: saved after every change, readable after kill -9 at any moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runbook.storage.atomic_file import write_json_atomic
from runbook.storage.session import SessionStore, SessionWriter, StepState, checklist_status

REPO = Path(__file__).resolve().parents[2]
KEY = "Rollback Procedure / Manual Rollback"


def test_changes_are_saved_at_once(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    runbook = tmp_path / "runbook.md"
    runbook.write_text("# x\n")
    assert store.load(runbook, "Production") is None
    session = store.start(runbook, "abc", "Production")
    session.mark(KEY, 1, "done", by="alice")
    session.mark(KEY, 2, "skipped", by="alice", reason="no recent deployment")
    session.add_note(KEY, 2, "checked with Bob")
    session.put(KEY, 3, StepState(status="failed", exit_code=2, output=[("stderr", "boom")]))

    loaded = SessionStore(tmp_path / "sessions").load(str(runbook), "Production")
    assert loaded is not None
    assert loaded.runbook_path == str(runbook.resolve())
    assert loaded.environment == "Production"
    assert loaded.procedure == KEY
    assert loaded.step(KEY, 1).status == "done" and loaded.step(KEY, 1).by == "alice"
    assert loaded.step(KEY, 2).reason == "no recent deployment"
    assert loaded.step(KEY, 2).notes == ["checked with Bob"]
    assert loaded.step(KEY, 3).output == [("stderr", "boom")]
    assert loaded.step(KEY, 4).status == "pending"
    assert loaded.changed_since  # the file's hash is not "abc"


def test_sessions_are_per_runbook_path(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    store.start(tmp_path / "a.md", "1").mark(KEY, 1, "done")
    assert store.load(tmp_path / "b.md") is None
    store.discard(tmp_path / "a.md")
    assert store.load(tmp_path / "a.md") is None


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    from runbook.storage.session import SessionStore
    session = SessionStore(Path(sys.argv[2])).start(sys.argv[3], "sha")
    n = 0
    while True:
        n += 1
        session.mark("P", n % 7 + 1, "done", reason="x" * (n % 300))
        session.add_note("P", 1, str(n))
        if n == 5:
            print("writing", flush=True)
    """
)


def test_kill_9_while_saving_leaves_a_readable_session(tmp_path: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(REPO), str(tmp_path / "s"), str(tmp_path / "r.md")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "writing"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    session = SessionStore(tmp_path / "s").load(tmp_path / "r.md")
    assert session is not None
    assert len(session.step("P", 1).notes) >= 5
    assert not [
        p for p in (tmp_path / "s").iterdir() if p.suffix == ".json" and p.stat().st_size == 0
    ]


def test_resume_keeps_the_session_of_the_same_text_and_starts_afresh_on_another(
    tmp_path: Path,
) -> None:
    store = SessionStore(tmp_path / "sessions")
    runbook = tmp_path / "runbook.md"
    runbook.write_text("# x\n")
    store.start(runbook, "abc", "Staging").mark(KEY, 1, "done", by="alice")

    same = store.resume(runbook, "abc", "Staging")
    assert (same.step(KEY, 1).status, same.environment) == ("done", "Staging")

    edited = store.resume(runbook, "def", "Staging")
    assert edited.step(KEY, 1).status == "pending"
    assert (edited.runbook_sha256, edited.environment) == ("def", "Staging")


def test_ticks_belong_to_their_environment_and_incident(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    runbook = tmp_path / "runbook.md"
    runbook.write_text("# x\n")
    store.resume(runbook, "abc", "Development").mark(KEY, 1, "done", by="alice")
    store.resume(runbook, "abc", "Development", "INC-1").mark(KEY, 2, "done", by="alice")

    production = store.resume(runbook, "abc", "Production")
    assert production.step(KEY, 1).status == "pending", "no tick leaks into Production"
    assert store.resume(runbook, "abc", "Production", "INC-1").step(KEY, 2).status == "pending"
    new_incident = store.resume(runbook, "abc", "Development", "INC-2")
    assert [new_incident.step(KEY, i).status for i in (1, 2)] == ["pending", "pending"]

    development = store.load(runbook, "development")  # names match whatever their case
    assert development is not None and development.step(KEY, 1).status == "done"
    assert development.step(KEY, 2).status == "pending", "the incident's tick stays in it"
    during = store.load(runbook, "Development", "INC-1")
    assert during is not None and during.step(KEY, 2).status == "done"
    assert during.incident == "INC-1"

    store.discard(runbook, "Development", "INC-1")
    assert store.load(runbook, "Development", "INC-1") is None
    assert store.load(runbook, "Development") is not None


def test_a_session_saved_before_environments_resumes_only_in_its_own(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    runbook = tmp_path / "runbook.md"
    runbook.write_text("# x\n")
    old = store.start(runbook, "abc")  # keyed by the path alone, as older versions did
    old.environment = "Development"
    old.mark(KEY, 1, "done", by="alice")

    assert store.load(runbook, "Production") is None
    assert store.load(runbook, "Development", "INC-1") is None
    resumed = store.resume(runbook, "abc", "Development")
    assert resumed.step(KEY, 1).status == "done"
    store.discard(runbook, "Development")
    assert store.load(runbook, "Development") is None


def test_the_writer_saves_every_session_it_was_given(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    runbook = tmp_path / "runbook.md"
    runbook.write_text("# x\n")
    writer = SessionWriter(on_error=lambda error: None)
    before = store.new(runbook, "abc", "Development")
    during = store.new(runbook, "abc", "Development", "INC-1")
    for session in (before, during):
        with writer.lock:
            session.set(KEY, 1, StepState(status="done"))
        writer.save(session)  # queued one right after the other: neither is dropped
    assert writer.flush(timeout_s=30)
    assert store.load(runbook, "Development") is not None
    assert store.load(runbook, "Development", "INC-1") is not None


def test_the_writer_saves_off_the_callers_thread_coalesces_and_flushes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import runbook.storage.session as module

    store = SessionStore(tmp_path / "sessions")
    session = store.new(tmp_path / "runbook.md", "abc")
    write = module.write_json_atomic
    written: list[tuple[str, dict[str, object]]] = []
    first_started, go_on = threading.Event(), threading.Event()

    def stuck_disk(path: Path, data: dict[str, object]) -> None:
        written.append((threading.current_thread().name, data))
        first_started.set()
        assert go_on.wait(30)
        write(path, data)

    monkeypatch.setattr(module, "write_json_atomic", stuck_disk)
    errors: list[OSError] = []
    writer = SessionWriter(on_error=errors.append)
    for index in (1, 2, 3):
        with writer.lock:
            session.set(KEY, index, StepState(status="done"))
        writer.save(session)  # returns at once, even while the disk is stuck
        if index == 1:
            assert first_started.wait(10)
    assert not writer.flush(timeout_s=0.05)  # the first write is still stuck
    go_on.set()
    assert writer.flush(timeout_s=30)
    assert [name for name, _data in written] == ["session-writer", "session-writer"]
    assert sorted(written[-1][1]["steps"]) == [f"{KEY}#1", f"{KEY}#2", f"{KEY}#3"]  # type: ignore[call-overload]
    saved = store.load(tmp_path / "runbook.md")
    assert saved is not None and saved.step(KEY, 3).status == "done"
    assert errors == []


def test_a_failed_write_is_reported_on_the_writers_thread(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    store = SessionStore(blocker / "sessions")
    session = store.new(tmp_path / "runbook.md", "abc")
    errors: list[OSError] = []
    writer = SessionWriter(on_error=errors.append)
    writer.save(session)
    assert writer.flush(timeout_s=30)
    assert len(errors) == 1 and isinstance(errors[0], OSError)


def test_a_cancelled_step_is_kept_as_cancelled_and_old_sessions_still_load(
    tmp_path: Path,
) -> None:
    store = SessionStore(tmp_path / "sessions")
    runbook = tmp_path / "runbook.md"
    runbook.write_text("# x\n")
    session = store.start(runbook, "abc")
    session.mark(KEY, 1, "cancelled", by="bob", reason="cancelled by bob")
    assert store.load(runbook).step(KEY, 1).status == "cancelled"  # type: ignore[union-attr]

    # Written before cancelled was a state: a cancel was saved as failed, with its reason.
    old = session.to_dict()
    old["steps"] = {
        f"{KEY}#1": {"status": "failed", "by": "alice", "reason": "cancelled by bob"},
        f"{KEY}#2": {"status": "failed", "reason": "cancelled by carol after 2.0s"},
        f"{KEY}#3": {"status": "failed", "reason": "timed out after 30s", "exit_code": 124},
        f"{KEY}#4": {"status": "exploded"},
    }
    write_json_atomic(store.path_for(runbook), old)
    loaded = store.load(runbook)
    assert loaded is not None
    assert (loaded.step(KEY, 1).status, loaded.step(KEY, 1).by) == ("cancelled", "bob")
    assert (loaded.step(KEY, 2).status, loaded.step(KEY, 2).by) == ("cancelled", "carol")
    assert loaded.step(KEY, 3).status == "failed", "a timeout is a failure, nobody chose it"
    assert loaded.step(KEY, 4).status == "failed"
    assert "exploded" in (loaded.step(KEY, 4).reason or "")


@pytest.mark.parametrize(
    ("run_status", "step_status"),
    [
        ("succeeded", "done"),
        ("cancelled", "cancelled"),
        ("timed-out", "failed"),
        ("failed", "failed"),
        ("lost", "failed"),
        ("refused", "pending"),
    ],
)
def test_how_a_run_ends_marks_its_step(run_status: str, step_status: str) -> None:
    assert checklist_status(run_status) == step_status
