"""Checklist sessions: saved after every change, readable after kill -9 at any moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from runbook.storage.session import SessionStore, StepState

REPO = Path(__file__).resolve().parents[2]
KEY = "Rollback Procedure / Manual Rollback"


def test_changes_are_saved_at_once(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    runbook = tmp_path / "runbook.md"
    runbook.write_text("# x\n")
    assert store.load(runbook) is None
    session = store.start(runbook, "abc")
    session.mark(KEY, 1, "done", by="alice")
    session.mark(KEY, 2, "skipped", by="alice", reason="no recent deployment")
    session.add_note(KEY, 2, "checked with Bob")
    session.put(KEY, 3, StepState(status="failed", exit_code=2, output=[("stderr", "boom")]))
    session.set_environment("Production")

    loaded = SessionStore(tmp_path / "sessions").load(str(runbook))
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
    store.start(runbook, "abc").mark(KEY, 1, "done", by="alice")

    same = store.resume(runbook, "abc", "Staging")
    assert (same.step(KEY, 1).status, same.environment) == ("done", "Staging")
    assert store.load(runbook).environment == "Staging"  # type: ignore[union-attr]

    edited = store.resume(runbook, "def", "Development")
    assert edited.step(KEY, 1).status == "pending"
    assert (edited.runbook_sha256, edited.environment) == ("def", "Development")
