"""A step outlives its console (kill -9, SSH hangup); the next console finds it and resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from step_helpers import PROCEDURE, fast_config

from runbook.execution.audit import read_records
from runbook.execution.executor import Executor, StepResult
from runbook.execution.runs import OutputLine, list_runs, load_run, read_output
from runbook.storage.session import SessionStore

REPO = Path(__file__).resolve().parents[2]

RUNNER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    from step_helpers import PROCEDURE, fast_config, make_runbook
    from runbook.execution.executor import Executor
    from runbook.storage.session import SessionStore

    executor = Executor(fast_config())
    runbook = make_runbook(
        "echo one",
        f"echo begun; cat {sys.argv[4]}; echo finished-step",  # waits for the test's gate
        risk="mutating",
        path=Path(sys.argv[3]),
    )
    store = SessionStore(executor.config.sessions_dir)
    session = store.start(runbook.path, runbook.sha256)

    class Reporter:
        def started(self, plan):
            session.mark(plan.procedure, plan.step_index, "running", run_id=executor.active_run_id)
        def output(self, plan, line):
            print(line.text, flush=True)
        def finished(self, plan, result):
            status = "done" if result.ok else "failed"
            session.mark(plan.procedure, plan.step_index, status, exit_code=result.exit_code)

    for number in (1, 2):
        plan = executor.plan(runbook, PROCEDURE, number)
        executor.run(plan, Reporter(), plan.confirm())
    """
)


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("DEPLOY_HISTORY_DIR", str(tmp_path / "history"))


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGHUP], ids=["kill-9", "hangup"])
def test_step_finishes_and_is_recorded_after_the_console_dies(
    how: signal.Signals, tmp_path: Path
) -> None:
    runbook_path = tmp_path / "runbook.md"
    gate = tmp_path / "gate"
    os.mkfifo(gate)  # step 2 blocks reading it until the test opens it
    runner = [RUNNER, str(REPO), str(Path(__file__).parent), str(runbook_path), str(gate)]
    console = subprocess.Popen(
        [sys.executable, "-c", *runner],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a login shell's job
    )
    config = fast_config()
    try:
        assert console.stdout is not None
        for line in console.stdout:
            if "begun" in line:
                break
        else:
            pytest.fail(f"runner ended early: {console.stderr.read() if console.stderr else ''}")
        # SIGHUP goes to the whole process group, as a dropped SSH session would send it.
        os.killpg(console.pid, how)
        console.wait(10)
    finally:
        if console.poll() is None:
            console.kill()
            console.wait()

    # The next console: the session says step 1 done, step 2 running, with its run id.
    session = SessionStore(config.sessions_dir).load(runbook_path)
    assert session is not None
    key = PROCEDURE
    assert session.step(key, 1).status == "done"
    second = session.step(key, 2)
    assert second.status == "running"
    (run_id,) = second.run_ids
    info = load_run(config.runs_dir / run_id)
    assert info is not None
    assert info.status == "running"  # the console is gone, the step is not
    assert run_id in [run.run_id for run in list_runs(config.runs_dir)]

    # Re-attach: stream the output from the start until the step ends (the gate opens).
    subprocess.Popen(["timeout", "60", "sh", "-c", f": > '{gate}'"])
    seen: list[OutputLine] = []
    final = Executor(config).follow(info, seen.append)
    assert final["status"] == "succeeded"
    texts = [line.text for line in seen if line.stream == "stdout"]
    assert texts == ["begun", "finished-step"]
    assert [line.text for line in read_output(info.directory) if line.stream == "stdout"] == texts
    ends = [r for r in read_records(config.audit_file) if r["run_id"] == run_id]
    assert [r["event"] for r in ends] == ["start", "end"]
    assert ends[-1]["status"] == "succeeded"

    # Resuming: mark what the finished run says, and the checklist carries on at step 3.
    session.mark(key, 2, "done", exit_code=0)
    reloaded = SessionStore(config.sessions_dir).load(runbook_path)
    assert reloaded is not None and reloaded.step(key, 2).status == "done"


def test_runs_of_a_dead_supervisor_show_as_lost(tmp_path: Path) -> None:
    config = fast_config()
    directory = config.runs_dir / "20260101T000000-deadbeef"
    directory.mkdir(parents=True)
    (directory / "spec.json").write_text('{"run_id": "20260101T000000-deadbeef", "code": "x"}')
    dead = subprocess.Popen(["true"])
    dead.wait()
    (directory / "state.json").write_text(f'{{"status": "running", "supervisor_pid": {dead.pid}}}')
    (info,) = list_runs(config.runs_dir)
    assert info.status == "lost"


def test_a_followed_run_can_be_cancelled_from_the_new_console() -> None:
    import threading

    from step_helpers import Recorder, make_runbook

    first = Executor(fast_config())
    recorder = Recorder(wait_for="working")
    plan = first.plan(make_runbook("echo working; sleep 60"), PROCEDURE, 1)
    worker = threading.Thread(target=first.run, args=(plan, recorder))
    worker.start()
    assert recorder.seen.wait(30)
    run_id = first.active_run_id
    assert run_id is not None
    info = load_run(first.config.runs_dir / run_id)
    assert info is not None
    second = Executor(fast_config())
    states: list[dict[str, object]] = []
    follower = threading.Thread(target=lambda: states.append(second.follow(info, lambda _: None)))
    follower.start()
    while second.active_run_id != run_id:
        follower.join(0.01)
    second.cancel(by="carol")
    follower.join(30)
    worker.join(30)
    assert states[0]["status"] == "cancelled"
    assert StepResult.from_state(states[0]).cancelled_by == "carol"
    assert recorder.results[0].cancelled_by == "carol"


def test_following_a_run_whose_supervisor_never_started_ends(tmp_path: Path) -> None:
    """The console died between writing a run's spec and starting its supervisor: no
    state, no pid. The next console following it must not wait for ever (a roll's takeover
    did): once a supervisor would have said its pid, the run ends as failed."""
    directory = tmp_path / "run-1"
    directory.mkdir()
    spec = directory / "spec.json"
    spec.write_text("{}")
    long_ago = spec.stat().st_mtime - 3600
    os.utime(spec, (long_ago, long_ago))
    executor = Executor(fast_config())
    state = executor.follow(load_run(directory), lambda line: None)
    assert state["status"] == "failed" and "supervisor" in str(state["reason"])
