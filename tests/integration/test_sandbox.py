"""The embedded sandbox service (a local process) and the drill checks against it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runbook.document.parser import load
from runbook.drills.checks import DrillChecks
from runbook.drills.embedded import LocalSandbox, service_reachable, start_embedded
from runbook.drills.load import LoadGenerator
from runbook.drills.probes import check_endpoints, snapshot
from runbook.sources.gauges import Hysteresis
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PROJECT_RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"


@pytest.fixture
def runbook():
    return load(PROJECT_RUNBOOK)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_embedded_service_answers_every_endpoint_and_stops(runbook) -> None:
    box = start_embedded()
    try:
        assert box.base_url.startswith("http://127.0.0.1:")
        assert [(h.path, h.ok) for h in check_endpoints(runbook, box.base_url)] == [
            ("/health", True),
            ("/ready", True),
            ("/metrics", True),
        ]
        gauges = {g["metric"]: g for g in snapshot(runbook, box.base_url, interval_s=0.3)}
        assert gauges["Memory Usage"]["value"] > 0
        assert gauges["Memory Usage"]["source"] == "/metrics"
    finally:
        pid = box.pid
        box.stop()
    assert pid is not None and not _pid_alive(pid)
    assert not service_reachable(box.base_url)
    assert not box.directory.exists()


def test_sandbox_outlives_the_thread_that_started_it(runbook) -> None:
    """The parent-death signal follows the forking thread: a worker that ends must not stop it."""
    started: list[LocalSandbox] = []
    worker = threading.Thread(target=lambda: started.append(start_embedded()))
    worker.start()
    worker.join()
    (box,) = started
    try:
        time.sleep(0.5)
        assert box.pid is not None and _pid_alive(box.pid)
        assert all(h.ok for h in check_endpoints(runbook, box.base_url))
    finally:
        box.stop()


def test_sandbox_dies_with_a_killed_console(tmp_path: Path) -> None:
    code = (
        "import sys, time; from runbook.drills.embedded import start_embedded\n"
        "box = start_embedded(); print(box.pid, box.base_url, flush=True); time.sleep(60)"
    )
    console = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert console.stdout is not None
    pid_text, url = console.stdout.readline().split()
    assert service_reachable(url)
    console.send_signal(signal.SIGKILL)
    console.wait(timeout=10)
    wait_until(lambda: not _pid_alive(int(pid_text)), 10, "the sandbox ends with its console")


def test_checks_see_a_fault_and_its_mitigation_on_a_local_service(runbook) -> None:
    """The same checks a drill ends on: error ratio pushed by config + SIGHUP, then removed."""
    with LocalSandbox() as box:
        good = json.loads(box.config_path.read_text())
        load_gen = LoadGenerator(box.base_url + "/", rate=40, threads=4).start()
        try:
            # Short holds, so the test is quick; the pane's defaults are in Hysteresis.
            checks = DrillChecks(runbook, box.base_url, hysteresis=Hysteresis(1.0, 2.0))
            for _ in range(3):
                state, _ = checks.poll()
                time.sleep(0.5)
            assert state.healthy and checks.mitigated

            box.write_config({**good, "drills": {**good["drills"], "error_ratio": 0.5}})
            box.reload()
            events = []
            for _ in range(10):
                time.sleep(0.5)
                state, new = checks.poll()
                events += new
                if state.shows("errors"):
                    break
            assert state.shows("errors") and not checks.mitigated
            assert any(e.kind == "threshold-breach" and "Error Rate" in e.text for e in events)

            box.write_config(good)
            box.reload()
            for _ in range(20):
                time.sleep(0.5)
                state, new = checks.poll()
                events += new
                if checks.mitigated:
                    break
            assert checks.mitigated
            assert any(e.kind == "threshold-recovery" for e in events)
        finally:
            load_gen.stop()
        assert load_gen.sent > 20


def test_readiness_fault_shows_as_health_change(runbook) -> None:
    with LocalSandbox() as box:
        checks = DrillChecks(runbook, box.base_url)
        checks.poll()
        good = json.loads(box.config_path.read_text())
        box.write_config({**good, "drills": {**good["drills"], "fail_readiness": True}})
        box.reload()
        events = []

        def ready_fails() -> bool:
            state, new = checks.poll()
            events.extend(new)
            return state.shows("ready")

        wait_until(ready_fails, 10, "the checks see /ready fail", interval=0.1)
        assert not checks.poll()[0].shows("health")
        assert [e.text for e in events if e.kind == "health-change"] == [
            "/ready failing: expected 200, got 503"
        ]


def test_a_dead_service_reads_as_failing_never_as_zero(runbook) -> None:
    """The service's own /metrics goes with it: the error rate comes from the probes."""
    with LocalSandbox() as box:
        load_gen = LoadGenerator(box.base_url + "/", rate=40, threads=4).start()
        try:
            checks = DrillChecks(runbook, box.base_url, hysteresis=Hysteresis(0.0, 2.0))
            deadline = time.monotonic() + 10
            state, _ = checks.poll()
            while not state.healthy and time.monotonic() < deadline:
                state, _ = checks.poll()
            assert state.healthy
            by_metric = {r.metric: r for r in state.readings}
            assert by_metric["Error Rate"].value == 0.0  # real traffic, no errors: a real 0
            assert box.process is not None
            box.process.kill()
            box.process.wait(timeout=10)
            state, events = checks.poll()
        finally:
            load_gen.stop()
    by_metric = {r.metric: r for r in state.readings}
    errors, latency = by_metric["Error Rate"], by_metric["Request Latency (p99)"]
    assert errors.value == 100.0 and errors.state == "critical"
    assert errors.source.startswith("probes via http://127.0.0.1:") and "failed" in errors.source
    assert latency.value is None and latency.display == "no data"
    assert latency.state == "no-data" and not state.healthy and not checks.mitigated
    assert any(e.kind == "threshold-breach" and "Error Rate 100.0%" in e.text for e in events)


def test_load_refuses_non_loopback() -> None:
    with pytest.raises(ValueError):
        LoadGenerator("http://example.com/")


def test_ensure_service_keeps_a_live_url_and_starts_a_sandbox_otherwise() -> None:
    from runbook.drills.embedded import ensure_service, free_port

    with LocalSandbox() as real:
        url, started = ensure_service(real.base_url)
        assert (url, started) == (real.base_url, None)
    dead = f"http://127.0.0.1:{free_port()}"
    url, started = ensure_service(dead)
    try:
        assert started is not None and url == started.base_url != dead
        assert service_reachable(url)
    finally:
        assert started is not None
        started.stop()


def test_a_flapping_gauge_is_one_breach_until_it_recovers(runbook) -> None:
    """Warning and critical alternating every poll must not flood the drill's timeline."""
    from runbook.incident.timeline import make_event

    checks = DrillChecks(runbook, "http://127.0.0.1:9")

    def event(kind: str, state: str) -> bool:
        made = make_event(kind, "Error Rate", actor="console", metric="Error Rate", state=state)  # type: ignore[arg-type]
        return checks._news(made)

    states = ["warning", "critical", "warning", "critical", "warning"]
    assert [event("threshold-breach", s) for s in states] == [True, True, False, False, False]
    assert event("threshold-recovery", "ok")
    assert event("threshold-breach", "warning")
