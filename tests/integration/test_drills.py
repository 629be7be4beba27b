"""Every drill scenario end to end, headless: on the real Docker engine and as local processes.

Each test runs twice, once per runtime: containers on the engine, and local processes
owned by the drill's own engine (deploy/service/procd.py) for a box without Docker.
Each starts the scenario's sandbox (its own prefix, ports, image tags, state,
history and lock), lets the fault show, then mitigates it with the runbook's own
commands run through the executor (`make rollback`, `make rollback-now`,
`./deploy/update-config.sh prod`) and asserts the score and the timeline. The
sandbox is removed afterwards, whatever happens.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.config import Config, ExecutionConfig
from runbook.document.parser import load
from runbook.drills.runner import Drill
from runbook.drills.sandboxes import DockerSandbox, ProcessSandbox, engine_reachable
from runbook.drills.scenarios import find_scenario
from runbook.drills.score import load_results
from runbook.execution.executor import StepResult
from runbook.execution.history import read_history
from runbook.incident.report import render
from runbook.incident.store import IncidentStore
from tests.drill_config import QUICK_GAUGES, write_quick_gauges
from tests.required import unavailable
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"
REAL_HISTORY = REPO / ".monkeytown" / "devops" / "deployment-history" / "deployments.jsonl"


def processes_under(directory: Path) -> list[str]:
    """Command lines of live processes that mention `directory` (a local sandbox's own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(directory) in argv:
                found.append(argv)
    return found


@pytest.fixture(params=["docker", "local"])
def runtime(request: pytest.FixtureRequest) -> str:
    if request.param == "docker" and not engine_reachable():
        unavailable("Docker engine not reachable (run: bash scripts/services.sh)")
    return str(request.param)


@pytest.fixture
def make_drill(tmp_path: Path, runtime: str) -> Iterator:
    made: list[Drill] = []
    config = Config(
        execution=ExecutionConfig(state_dir=str(tmp_path / "state")), sources=QUICK_GAUGES
    )
    kind = DockerSandbox if runtime == "docker" else ProcessSandbox

    def factory(name: str, drill_id: str) -> Drill:
        sandbox = kind(f"t{drill_id}{os.getpid() % 1000}", REPO, tmp_path / "sandbox")
        drill = Drill(
            find_scenario(name),
            load(RUNBOOK),
            sandbox=sandbox,
            config=config,
            store=IncidentStore(tmp_path / "state" / "incidents"),
            trainee="trainee",
        )
        made.append(drill)
        return drill

    yield factory
    for drill in made:
        drill.abort()
        if runtime == "local":
            assert processes_under(tmp_path / "sandbox") == [], "sandbox processes left behind"
            continue
        leftovers = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=monkeytown.prefix={drill.sandbox.prefix}"],  # type: ignore[attr-defined]
            capture_output=True,
            text=True,
        ).stdout.split()
        assert leftovers == [], f"sandbox containers left behind: {leftovers}"


def kinds(drill: Drill) -> list[str]:
    assert drill.incident is not None
    return [event.kind for event in drill.incident.events]


def confirmed(drill: Drill, index: int, procedure: str | None = None) -> StepResult:
    """Run a drill step as the trainee confirms it, like a real incident's."""
    plan = drill.plan(index, procedure)
    confirmation = plan.confirm(typed=plan.environment, by=drill.trainee)
    return drill.run_step(index, procedure, confirmation=confirmation)


def real_history_lines() -> int:
    return len(read_history(REAL_HISTORY))


def test_crash_loop_rollback_now(make_drill) -> None:
    before = real_history_lines()
    drill = make_drill("crash-loop", "cl")
    drill.start()
    assert drill.last_state is not None and drill.last_state.shows("health")
    # Everything answers 502 through the proxy: the gauges never read 0 or a stale number.
    gauges = {r.metric: r for r in drill.last_state.readings}
    errors, latency = gauges["Error Rate"], gauges["Request Latency (p99)"]
    assert errors.value is not None and errors.value > 0, errors
    assert errors.source.startswith("probes via"), errors
    assert latency.value is None and latency.display == "no data"
    drill.start_polling()
    # The runtime restarts the crashing colour with a doubling pause: one shows up soon.
    wait_until(lambda: "container-restart" in kinds(drill), 40, "a container restart")
    restart = next(e for e in drill.incident.events if e.kind == "container-restart")  # type: ignore[union-attr]
    assert restart.text.startswith(f"{drill.sandbox.prefix}-web-green restarted")  # type: ignore[attr-defined]
    drill.acknowledge()
    drill.mark(1, "done")
    assert confirmed(drill, 2).status in ("succeeded", "failed")  # status exits 1 while down
    result = confirmed(drill, 3)  # make rollback-now
    assert result.ok, result.output_tail
    assert drill.wait_for_mitigation(60)
    assert drill.last_state is not None
    after = {r.metric: r for r in drill.last_state.readings}
    assert after[errors.metric].state == after[latency.metric].state == "ok"
    assert confirmed(drill, 4).ok  # make logs-tail
    drill.mark(5, "skipped", reason="resolved within 15 minutes")
    score = drill.finish()
    assert score.mitigated and score.points == 100, score.notes
    statuses = [s.status for s in score.steps]
    # make status exits 1 while the proxy path is down, so step 2 may count as failed.
    assert statuses[0] == "done" and statuses[1] in ("done", "failed") and statuses[2] == "done"
    assert score.in_order and score.unhelpful_commands == []
    assert score.time_to_first_action_s is not None and score.time_to_mitigation_s is not None
    assert score.time_to_first_action_s <= score.time_to_mitigation_s
    timeline = kinds(drill)
    assert timeline[:2] == ["opened", "fault-injected"]
    assert "health-change" in timeline and timeline.index("mitigated") < timeline.index("closed")
    deployments = [e.text for e in drill.incident.events if e.kind == "deployment"]  # type: ignore[union-attr]
    assert deployments[0].startswith("deploy ? -> v1") and deployments[1].startswith(
        "deploy v1 -> v2"
    )
    assert deployments[-1].startswith("rollback-now v2 -> v1")
    sandbox_history = read_history(drill.sandbox.history_dir / "deployments.jsonl")
    assert [r["action"] for r in sandbox_history] == ["deploy", "deploy", "rollback-now"]
    assert real_history_lines() == before, "a drill wrote to the real deployment history"
    report = render(drill.incident)  # type: ignore[arg-type]
    assert "(DRILL)" in report.splitlines()[0] and "make rollback-now" in report


@pytest.mark.parametrize("name", ["high-latency", "error-rate"])
def test_bad_deploy_fixed_by_rollback(make_drill, name: str) -> None:
    drill = make_drill(name, name[:2])
    drill.start()
    symptom = "latency" if name == "high-latency" else "errors"
    assert drill.last_state is not None and drill.last_state.shows(symptom)
    drill.start_polling()
    drill.acknowledge()
    drill.mark(1, "done")
    assert confirmed(drill, 2).ok  # make status && make logs-tail
    assert confirmed(drill, 3).ok  # make rollback
    assert drill.wait_for_mitigation(60)
    drill.mark(4, "skipped", reason="drill")
    score = drill.finish()
    assert score.mitigated and score.points == 100, score.notes
    assert [s.status for s in score.steps] == ["done", "done", "done", "skipped"]
    assert score.followed == 3 and score.skipped == 1 and score.in_order
    metric = "Request Latency" if name == "high-latency" else "Error Rate"
    threshold_events = [
        e.kind
        for e in drill.incident.events  # type: ignore[union-attr]
        if e.kind.startswith("threshold-") and str(e.data.get("metric")).startswith(metric)
    ]
    # One breach (warning may come before critical) and one recovery: no flapping.
    assert threshold_events.count("threshold-recovery") == 1, threshold_events
    assert 1 <= threshold_events.count("threshold-breach") <= 2, threshold_events
    report = render(drill.incident)  # type: ignore[arg-type]
    deployments = report.split("## Deployments during the incident")[1]
    assert "| rollback | prod | v2 -> v1 | succeeded |" in deployments


def test_broken_config_wrong_move_then_config_update(make_drill) -> None:
    drill = make_drill("broken-config", "bc")
    drill.start()
    drill.start_polling()
    wrong = confirmed(
        drill, 3, "P2 - High (Degraded Service)"
    )  # make rollback: nothing to roll back to
    assert not wrong.ok
    assert not drill.mitigated
    assert confirmed(drill, 1).ok  # ./deploy/update-config.sh prod
    assert drill.wait_for_mitigation(60)
    score = drill.finish()
    assert score.mitigated and score.credited
    assert score.unhelpful_commands == ["make rollback"]
    assert score.points == 80  # the wrong move, and the alert never acknowledged
    assert [s.status for s in score.steps] == ["done"]


def test_readiness_failing_fixed_by_config_update(make_drill) -> None:
    drill = make_drill("readiness-failing", "rf")
    drill.start()
    assert drill.last_state is not None and drill.last_state.shows("ready")
    drill.start_polling()
    unconfirmed = drill.run_step(1)  # as a real incident: nothing runs unconfirmed
    assert unconfirmed.status == "refused" and "not confirmed" in (unconfirmed.reason or "")
    assert confirmed(drill, 1).ok  # a single Enter fixes it, but is not the whole runbook
    assert drill.wait_for_mitigation(60)
    score = drill.finish()
    assert score.mitigated and score.credited and score.points == 90
    assert score.notes == ["-10: the alert was never acknowledged"]
    health = [e.text for e in drill.incident.events if e.kind == "health-change"]  # type: ignore[union-attr]
    assert health[0].startswith("/ready failing") and health[-1].startswith("/ready healthy")


def test_drill_refuses_commands_outside_the_sandbox(make_drill) -> None:
    drill = make_drill("readiness-failing", "gd")
    drill.start()
    # Zero-Downtime Deployment step 2 curls the real green port 3002: refused, nothing ran.
    result = drill.run_step(2, "Zero-Downtime Deployment (Blue-Green)")
    assert result.status == "refused" and "outside the sandbox" in (result.reason or "")
    drill.finish()


def test_drill_cli_headless_with_actions_on_stdin(tmp_path: Path, runtime: str) -> None:
    write_quick_gauges(Path(os.environ["RUNBOOK_CONFIG_FILE"]))
    env = {**os.environ, "RUNBOOK_STATE_DIR": str(tmp_path / "state")}
    code = "import sys; from console.cli import main; sys.exit(main())"
    argv = ["drill", "readiness-failing", "--as", "cli-trainee", "--runtime", runtime]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        input="steps\nack\nrun 1\nn\nrun 1\ny\nwait 60\nstatus\nend\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert all(line.startswith("[DRILL]") for line in done.stdout.splitlines() if line)
    assert "readiness-failing: mitigated, 100 points" in done.stdout
    # The same confirmation as a real incident's: what runs where, then y/N; "n" ran nothing.
    assert "[DRILL] Run it? [y/N]" in done.stdout and "[DRILL] declined" in done.stdout
    assert "[DRILL]     command:\n[DRILL]       make update-config\n" in done.stdout, done.stdout
    where = "Docker containers" if runtime == "docker" else "local processes"
    assert f"({where})" in done.stdout.splitlines()[0]
    assert processes_under(tmp_path / "state") == []
    results = load_results(tmp_path / "state" / "drills")
    assert [r["scenario"] for r in results] == ["readiness-failing"]
    listed = subprocess.run(
        [sys.executable, "-c", code, "drill", "--results"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    assert "readiness-failing" in listed.stdout and "100 pts" in listed.stdout


def test_a_killed_console_takes_its_local_sandbox_along(tmp_path: Path) -> None:
    """kill -9 of the process that started a local sandbox ends the engine and the service."""
    code = (
        "import sys, time; from pathlib import Path; "
        "from runbook.drills.sandboxes import ProcessSandbox; "
        f"box = ProcessSandbox('kill{os.getpid() % 1000}', Path({str(REPO)!r}), "
        f"Path({str(tmp_path / 'sandbox')!r})); box.up(); print('up', flush=True); "
        "time.sleep(600)"
    )
    console = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert console.stdout is not None and console.stdout.readline() == "up\n"
        assert len(processes_under(tmp_path / "sandbox")) >= 3  # engine, proxy, blue
    finally:
        console.kill()
        console.wait(timeout=10)
    wait_until(lambda: not processes_under(tmp_path / "sandbox"), 20, "the sandbox ends")


FAKE_DOCKER = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/calls"
case "$1" in
  info) echo 27.5.1 ;;
  ps) echo rbc-drill-left1-web-blue; echo someone-else ;;
  images) echo rbc-drill-left1-web:v1; echo rbc-drill-base:0123abcd; echo busybox:latest ;;
esac
"""


def fake_docker(directory: Path) -> Path:
    """A `docker` on PATH that lists one leftover drill container and image tag and records
    what it is asked, so `--cleanup` never touches the shared engine (whose rbc-drill-*
    containers belong to drills running beside this test)."""
    directory.mkdir()
    docker = directory / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    return directory


def test_cleanup_stops_a_local_engine_left_running(tmp_path: Path) -> None:
    state = tmp_path / "state"
    sandbox = ProcessSandbox(f"cu{os.getpid() % 1000}", REPO, state / "drills" / "abc123")
    sandbox.up()
    assert processes_under(state)
    bin_dir = fake_docker(tmp_path / "bin")
    code = "import sys; from console.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", code, "drill", "--cleanup"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "RUNBOOK_STATE_DIR": str(state),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        },
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"local engine {sandbox.engine_dir}" in done.stdout
    calls = (bin_dir / "calls").read_text().splitlines()
    assert "rm -f rbc-drill-left1-web-blue" in calls  # the leftover drill container...
    assert "rmi --no-prune rbc-drill-left1-web:v1" in calls  # ...and image tag, nothing else
    assert not any("someone-else" in call or "rbc-drill-base" in call for call in calls)
    wait_until(lambda: not processes_under(state), 20, "the local engine's processes end")
    sandbox.down()
