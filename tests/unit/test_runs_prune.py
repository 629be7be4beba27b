"""Old finished runs are pruned; running ones, young ones and the audit trail stay."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from step_helpers import PROCEDURE, fast_config, make_runbook
from test_run_spec import sample_spec

from runbook.config import ConfigError, load_config
from runbook.execution.executor import Executor
from runbook.execution.runs import find_run, list_runs, prune_runs, unfinished_runs
from runbook.execution.supervisor import Supervisor

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def fake_run(
    runs_dir: Path,
    age: timedelta,
    status: str | None = "succeeded",
    *,
    pid: int | None = None,
    ended_age: timedelta | None = None,
) -> str:
    """A run directory as a supervisor leaves it, created `age` before NOW."""
    created = NOW - age
    run_id = created.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(4)
    directory = runs_dir / run_id
    directory.mkdir(parents=True)
    (directory / "spec.json").write_text(json.dumps({"run_id": run_id, "code": "true"}))
    (directory / "output.jsonl").write_text("")
    if status is not None:
        state: dict[str, object] = {"status": status, "supervisor_pid": pid or dead_pid()}
        if status not in ("starting", "running"):
            state["ended"] = (NOW - (ended_age if ended_age is not None else age)).isoformat()
        (directory / "state.json").write_text(json.dumps(state))
    return run_id


def remaining(runs_dir: Path) -> set[str]:
    return {path.name for path in runs_dir.iterdir()}


def test_old_finished_runs_beyond_the_newest_are_removed(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    old = [fake_run(runs_dir, timedelta(days=40 + n)) for n in range(6)]
    statuses = ("failed", "cancelled", "timed-out", "refused")
    old += [fake_run(runs_dir, timedelta(days=50 + n), s) for n, s in enumerate(statuses)]
    removed = prune_runs(runs_dir, keep_count=3, keep_days=30, now=NOW)
    newest_three = sorted(old, reverse=True)[:3]
    assert remaining(runs_dir) == set(newest_three)
    assert sorted(removed) == sorted(set(old) - set(newest_three))


def test_young_runs_are_kept_however_many(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    young = {fake_run(runs_dir, timedelta(days=n, hours=2)) for n in range(8)}
    old = fake_run(runs_dir, timedelta(days=31))
    assert prune_runs(runs_dir, keep_count=2, keep_days=30, now=NOW) == [old]
    assert remaining(runs_dir) == young


def test_retention_numbers_are_honoured(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    ages = [timedelta(days=days) for days in (2, 5, 9, 12, 20)]
    run_ids = [fake_run(runs_dir, age) for age in ages]
    assert prune_runs(runs_dir, keep_count=5, keep_days=1, now=NOW) == []
    assert prune_runs(runs_dir, keep_count=2, keep_days=10, now=NOW) == run_ids[3:]
    assert prune_runs(runs_dir, keep_count=1, keep_days=3, now=NOW) == run_ids[1:3]
    assert remaining(runs_dir) == {run_ids[0]}
    assert prune_runs(runs_dir, keep_count=0, keep_days=0, now=NOW) == run_ids[:1]


def test_a_run_that_just_ended_is_never_removed(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    just_now = fake_run(runs_dir, timedelta(minutes=5))
    assert prune_runs(runs_dir, keep_count=0, keep_days=0, now=NOW) == []
    assert remaining(runs_dir) == {just_now}


def test_running_and_live_supervisor_runs_are_kept(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    alive = os.getpid()
    kept = {
        fake_run(runs_dir, timedelta(days=90), "running", pid=alive),
        fake_run(runs_dir, timedelta(days=90), "starting", pid=alive),
        # Final state written, process not gone yet: it may still be writing its records.
        fake_run(runs_dir, timedelta(days=90), "succeeded", pid=alive),
        # Started long ago, ended recently: young by its end.
        fake_run(runs_dir, timedelta(days=90), "succeeded", ended_age=timedelta(days=2)),
    }
    lost = fake_run(runs_dir, timedelta(days=90), "running")  # supervisor died: lost
    never_started = fake_run(runs_dir, timedelta(days=90), None)
    removed = prune_runs(runs_dir, keep_count=0, keep_days=30, now=NOW)
    assert sorted(removed) == sorted([lost, never_started])
    assert remaining(runs_dir) == kept


def test_only_run_directories_are_touched(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    old = fake_run(runs_dir, timedelta(days=60))
    (runs_dir / "notes").mkdir()
    (runs_dir / "README.txt").write_text("mine")
    (runs_dir / "20200101T000000-nospec0").mkdir()  # not a run id: left alone
    no_spec = runs_dir / "20200101T000000-0badc0de"
    no_spec.mkdir()  # a run id, but nothing says it is ours
    leftover = runs_dir / ".pruning-20200101T000000-00000000"
    (leftover / "sub").mkdir(parents=True)  # an interrupted earlier pass
    protected = fake_run(runs_dir, timedelta(days=60))
    audit = runs_dir / protected / "audit.jsonl"
    audit.write_text('{"event": "start"}\n')
    assert prune_runs(runs_dir, 0, 30, now=NOW, protect=[audit]) == [old]
    assert remaining(runs_dir) == {
        "notes",
        "README.txt",
        "20200101T000000-nospec0",
        no_spec.name,
        protected,
    }
    assert audit.read_text() == '{"event": "start"}\n'


def test_excluded_runs_stay_and_listing_skips_half_removed_ones(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    mine = fake_run(runs_dir, timedelta(days=60))
    (runs_dir / f".pruning-{mine}x").mkdir()
    assert [info.run_id for info in list_runs(runs_dir)] == [mine]
    assert prune_runs(runs_dir, 0, 30, now=NOW, exclude={mine}) == []
    assert remaining(runs_dir) == {mine}
    assert prune_runs(tmp_path / "missing", 0, 0, now=NOW) == []


def test_a_finished_step_prunes_old_runs_and_leaves_the_audit_trail() -> None:
    executor = Executor(fast_config(keep_runs=1, keep_runs_days=30))
    runs_dir = executor.config.runs_dir
    today = datetime.now(UTC)
    old_ids = []
    for days in (31, 45, 400):
        run_id = (today - timedelta(days=days)).strftime("%Y%m%dT%H%M%S-") + secrets.token_hex(4)
        (runs_dir / run_id).mkdir(parents=True)
        (runs_dir / run_id / "spec.json").write_text(json.dumps({"run_id": run_id}))
        ended = (today - timedelta(days=days)).isoformat()
        state = {"status": "succeeded", "supervisor_pid": dead_pid(), "ended": ended}
        (runs_dir / run_id / "state.json").write_text(json.dumps(state))
        old_ids.append(run_id)
    young = fake_run(runs_dir, NOW - (today - timedelta(days=3)))  # three days before today
    audit = executor.config.audit_file
    audit.parent.mkdir(parents=True, exist_ok=True)
    audit.write_text('{"event": "end", "run_id": "' + old_ids[0] + '"}\n')
    history = Path(os.environ["DEPLOY_HISTORY_DIR"]) / "deployments.jsonl"
    history.parent.mkdir(parents=True, exist_ok=True)
    history.write_text('{"action": "deploy"}\n')
    before_audit = audit.read_text()
    plan = executor.plan(make_runbook("echo fresh"), PROCEDURE, 1)
    result = executor.run(plan)
    assert result.status == "succeeded"
    assert remaining(runs_dir) == {result.run_ids[0], young}
    assert audit.read_text().startswith(before_audit)
    assert len(audit.read_text().splitlines()) == 3  # the old record, then start and end
    assert history.read_text() == '{"action": "deploy"}\n'


def test_retention_comes_from_the_execution_table(tmp_path: Path) -> None:
    path = Path(os.environ["RUNBOOK_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    assert load_config().execution.keep_runs == 500
    assert load_config().execution.keep_runs_days == 30.0
    assert load_config().execution.verify_timeout_s == 60.0
    path.write_text("[execution]\nkeep_runs = 20\nkeep_runs_days = 7.5\nverify_timeout_s = 10\n")
    execution = load_config().execution
    assert (execution.keep_runs, execution.keep_runs_days, execution.verify_timeout_s) == (
        20,
        7.5,
        10.0,
    )
    for bad in ("keep_runs = -1", "keep_runs = 2.5", "keep_runs_days = 'long'"):
        path.write_text(f"[execution]\n{bad}\n")
        with pytest.raises(ConfigError, match="execution.keep_runs"):
            load_config()


def test_the_supervisor_returns_what_it_pruned_as_a_line_for_its_log(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    for n in range(3):
        fake_run(runs_dir, timedelta(days=400 + n))
    own = runs_dir / "own-run"
    own.mkdir()
    spec = replace(sample_spec(), run_id="own-run", keep_runs=0, keep_runs_days=1.0)
    supervisor = Supervisor(own, spec)
    try:
        assert supervisor.prune() == "pruned 3 old run(s)"
        assert supervisor.prune() is None
    finally:
        supervisor.close_log()


def test_a_run_is_found_by_a_unique_prefix_of_its_id(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    first = fake_run(runs_dir, timedelta(days=2))
    second = fake_run(runs_dir, timedelta(days=1))
    runs = list_runs(runs_dir)
    assert find_run(runs, first[:12]) == next(r for r in runs if r.run_id == first)
    assert find_run(runs, second) is not None
    assert find_run(runs, "2026") is None  # both match
    assert find_run(runs, "nothing") is None


def test_unfinished_runs_are_those_of_this_runbook_still_going(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    runbook = tmp_path / "runbook.md"
    mine = fake_run(runs_dir, timedelta(minutes=1), "running", pid=os.getpid())
    done = fake_run(runs_dir, timedelta(minutes=2), "succeeded")
    other = fake_run(runs_dir, timedelta(minutes=3), "running", pid=os.getpid())
    for run_id, path in ((mine, runbook), (done, runbook), (other, tmp_path / "other.md")):
        spec = runs_dir / run_id / "spec.json"
        spec.write_text(json.dumps({"run_id": run_id, "runbook_path": str(path.resolve())}))

    assert [info.run_id for info in unfinished_runs(runs_dir, str(runbook))] == [mine]
    assert unfinished_runs(runs_dir, None) == []
