"""Drill scoring from a timeline: first action, mitigation, order, skipped, unhelpful commands."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runbook.document.parser import load
from runbook.drills.runner import sandbox_refusal
from runbook.drills.score import load_results, save_result, score
from runbook.incident.timeline import Event, iso, make_event

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = load(REPO / ".monkeytown" / "devops" / "runbook.md")
P1 = RUNBOOK.procedure("P1 - Critical (System Down)")
T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def at(seconds: float, event: Event) -> Event:
    return replace(event, time=iso(T0 + timedelta(seconds=seconds)))


def step(seconds: float, index: int, kind: str, reason: str | None = None) -> Event:
    return at(
        seconds, make_event(kind, f"step {index}", procedure=P1.key, step=index, reason=reason)
    )  # type: ignore[arg-type]


def command(
    seconds: float, index: int, code: str, *, ok: bool = True, duration: float = 2.0
) -> Event:
    return at(
        seconds,
        make_event(
            "command",
            code,
            procedure=P1.key,
            step=index,
            commands=[code],
            mutating=code != "make status",
            status="succeeded" if ok else "failed",
            duration_s=duration,
        ),
    )


def run_score(events: list[Event]):
    return score(
        scenario="crash-loop",
        drill_id="t",
        procedure=P1,
        events=events,
        started_at=T0,
        ended_at=T0 + timedelta(minutes=10),
        sandbox="docker",
        acknowledge_s=300,
    )


def clean_run() -> list[Event]:
    return [
        at(-5, make_event("fault-injected", "setup")),
        at(15, make_event("acknowledged", "Incident acknowledged")),
        step(20, 1, "step-done"),
        command(40, 2, "make status"),
        command(70, 3, "make rollback-now", duration=6),
        at(68, make_event("mitigated", "checks pass")),  # seen while the rollback still ran
        step(90, 4, "step-skipped", reason="service healthy"),
        step(95, 5, "step-skipped", reason="resolved within 15 minutes"),
    ]


def test_clean_run_scores_100() -> None:
    result = run_score(clean_run())
    assert result.mitigated and result.credited and result.points == 100
    assert result.time_to_first_action_s == 20 and result.time_to_mitigation_s == 68
    assert [s.status for s in result.steps] == ["done", "ran", "ran", "skipped", "skipped"]
    assert result.steps[3].reason == "service healthy"
    assert (result.followed, result.skipped, result.missed, result.in_order) == (3, 2, 0, True)
    assert result.unhelpful_commands == [] and result.notes == []


def test_untouched_steps_and_no_acknowledgement_cost_points() -> None:
    """The fix alone (one Enter on the rollback step) is not a full score."""
    events = [
        e for e in clean_run() if e.kind in ("command", "mitigated") and e.data.get("step") != 2
    ]
    result = run_score(events)
    assert result.mitigated and result.credited and not result.acknowledged
    assert [s.status for s in result.steps] == [
        "untouched",
        "untouched",
        "ran",
        "untouched",
        "untouched",
    ]
    assert result.missed == 4
    assert result.points == 100 - 4 * 10 - 10
    assert "-40: steps missed: 1, 2, 4, 5" in result.notes
    assert "-10: the alert was never acknowledged" in result.notes
    one_missed = [e for e in clean_run() if e.data.get("step") != 5]
    assert run_score(one_missed).points == 90


def test_a_step_the_trainee_declined_to_confirm_is_not_an_action() -> None:
    declined = at(
        10,
        make_event(
            "command",
            "make rollback-now",
            procedure=P1.key,
            step=3,
            commands=["make rollback-now"],
            mutating=True,
            status="refused",
            reason="not confirmed",
        ),
    )
    result = run_score([declined, *clean_run()])
    assert result.points == 100 and result.unhelpful_commands == []
    assert result.time_to_first_action_s == 20  # the first tick, not the declined step
    assert [s.status for s in result.steps][:3] == ["done", "ran", "ran"]


def test_a_fault_that_clears_by_itself_is_not_credited() -> None:
    ticked = [
        at(15, make_event("acknowledged", "Incident acknowledged")),
        *(step(20 + n, n, "step-done") for n in range(1, 6)),
    ]
    by_itself = run_score([*ticked, at(40, make_event("mitigated", "checks pass"))])
    assert by_itself.mitigated and not by_itself.credited and by_itself.points == 0
    assert "cleared without a command of yours" in by_itself.notes[0]
    # A command that ended long before the fault cleared did not clear it either.
    unrelated = run_score(
        [*ticked, command(30, 3, "make rollback-now"), at(200, make_event("mitigated", "pass"))]
    )
    assert not unrelated.credited and unrelated.points == 0
    assert unrelated.unhelpful_commands == ["make rollback-now"]


def test_unhelpful_commands_out_of_order_and_slow_mitigation() -> None:
    events = [
        command(10, 3, "make rollback", ok=False),
        command(30, 2, "make status"),
        step(35, 4, "step-skipped"),
        command(400, 3, "make rollback-now"),
        at(401, make_event("mitigated", "checks pass")),
    ]
    result = run_score([at(5, make_event("acknowledged", "ack")), step(6, 1, "step-done")] + events)
    assert result.unhelpful_commands == ["make rollback"]
    assert result.out_of_order == [2] and not result.in_order
    # 100 - 10 unhelpful - 5 out of order - 5 skip without reason - 2*2 (101 s past ack window)
    # - 10 step 5 missed
    assert result.points == 66


def test_never_mitigated_scores_zero_and_results_round_trip(tmp_path: Path) -> None:
    result = run_score([command(10, 3, "make rollback-now")])
    assert not result.mitigated and result.points == 0
    assert result.unhelpful_commands == ["make rollback-now"]
    save_result(tmp_path, result)
    save_result(tmp_path, run_score([]))
    saved = load_results(tmp_path)
    assert [r["points"] for r in saved] == [0, 0]
    assert saved[0]["unhelpful_commands"] == ["make rollback-now"]


class _Box:
    proxy_port, blue_port, green_port = 41000, 41001, 41002


def test_sandbox_guard_refuses_commands_outside_the_sandbox() -> None:
    box = _Box()
    assert (
        sandbox_refusal(("make rollback", "curl -fsS http://localhost:41002/health"), box) is None
    )  # type: ignore[arg-type]
    assert "port 3002" in (sandbox_refusal(("curl -fsS http://localhost:3002/health",), box) or "")  # type: ignore[arg-type]
    assert sandbox_refusal(("docker stop monkeytown-web-blue",), box) is not None  # type: ignore[arg-type]
    assert sandbox_refusal(("docker stop rbc-drill-ab12-web-blue",), box) is None  # type: ignore[arg-type]
    assert (
        sandbox_refusal(("docker-compose -f deploy/docker-compose.prod.yml up -d",), box)
        is not None
    )  # type: ignore[arg-type]


def test_drill_on_docker_without_an_engine_says_so_and_starts_nothing(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock",
        "RUNBOOK_STATE_DIR": str(tmp_path / "state"),
    }
    code = "import sys; from console.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", code, "drill", "crash-loop", "--runtime", "docker"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert done.returncode == 3
    assert done.stderr == (
        f"runbook-console: DRILL: no Docker engine answers at unix://{tmp_path}/no-engine.sock; "
        "start one (make services) or drill as local processes (--runtime local)\n"
    )
    assert not (tmp_path / "state" / "drills").exists()


class _IdleSandbox:
    """Just enough of a sandbox to build a Drill whose incident is opened by hand."""

    kind = "local"
    prefix = "rbc-drill-idle"
    proxy_port, blue_port, green_port = 9, 10, 11

    def __init__(self, directory: Path) -> None:
        self.drill_id = "idle01"
        self.environment = "DRILL-idle01"
        self.directory = directory

    @property
    def base_url(self) -> str:
        return "http://127.0.0.1:9"

    @property
    def history_dir(self) -> Path:
        return self.directory / "history"

    def env(self) -> dict[str, str]:
        return {}

    def names(self) -> list[str]:
        return []

    def up(self) -> None: ...

    def inject(self, scenario) -> None: ...

    def down(self) -> None: ...

    def restart_counts(self) -> dict[str, int]:
        return {}


def test_acknowledging_a_drill_ticks_the_acknowledge_step(tmp_path: Path) -> None:
    from runbook.drills.runner import Drill, DrillError
    from runbook.drills.scenarios import find_scenario
    from runbook.incident.model import open_incident
    from runbook.incident.store import IncidentStore

    scenario = find_scenario("crash-loop")
    store = IncidentStore(tmp_path / "incidents")
    seen: list[Event] = []
    drill = Drill(
        scenario,
        RUNBOOK,
        sandbox=_IdleSandbox(tmp_path),
        store=store,
        trainee="tess",
        on_event=seen.append,
    )
    started = datetime.now(UTC)
    incident = open_incident(RUNBOOK, scenario.severity, by="drill", drill=drill.id)
    incident.procedure = drill.procedure.key
    store.save(incident)
    drill.incident, drill.started_at = incident, started

    drill.acknowledge()
    assert [e.kind for e in seen] == ["acknowledged", "step-done"]
    stored = store.load(incident.id)
    assert stored.acknowledged_by == "tess"
    assert [e.kind for e in stored.events] == ["opened", "acknowledged", "step-done"]
    result = score(
        scenario=scenario.name,
        drill_id=drill.id,
        procedure=drill.procedure,
        events=stored.events,
        started_at=started,
        ended_at=datetime.now(UTC),
        sandbox="local",
    )
    assert result.steps[0].status == "done"
    with pytest.raises(DrillError, match="already acknowledged"):
        drill.acknowledge()


def test_ticking_a_drill_acknowledge_step_acknowledges(tmp_path: Path) -> None:
    from runbook.drills.runner import Drill
    from runbook.drills.scenarios import find_scenario
    from runbook.incident.model import open_incident
    from runbook.incident.store import IncidentStore

    scenario = find_scenario("crash-loop")
    store = IncidentStore(tmp_path / "incidents")
    drill = Drill(scenario, RUNBOOK, sandbox=_IdleSandbox(tmp_path), store=store, trainee="tess")
    incident = open_incident(RUNBOOK, scenario.severity, by="drill", drill=drill.id)
    incident.procedure = drill.procedure.key
    store.save(incident)
    drill.incident = incident
    drill.mark(1, "done")
    stored = store.load(incident.id)
    assert stored.acknowledged_by == "tess"
    assert [e.kind for e in stored.events] == ["opened", "step-done", "acknowledged"]


def test_a_cancelled_command_is_scored_as_cancelled_and_a_later_run_counts() -> None:
    cancelled = command(30, 2, "make status")
    cancelled = replace(cancelled, data={**cancelled.data, "status": "cancelled"})
    result = run_score([*clean_run()[:3], cancelled])
    assert result.steps[1].status == "cancelled", "a cancel is not a failure, nor followed"
    assert result.followed == 1

    again = run_score([*clean_run()[:3], cancelled, *clean_run()[3:]])
    assert again.steps[1].status == "ran", "running the step after cancelling it counts"


def test_a_drill_calls_breaches_with_the_gauges_configured_hysteresis(tmp_path: Path) -> None:
    """The drill decides breach and recovery as the operator's gauges do: with `[sources]`'s
    hysteresis, and the default when that table is broken."""
    from runbook.config import Config, ConfigError, SourcesConfig, SourceSettings
    from runbook.drills.runner import Drill
    from runbook.drills.scenarios import find_scenario
    from runbook.sources.gauges import Hysteresis

    def drill(sources: SourcesConfig) -> Drill:
        return Drill(
            find_scenario("high-latency"),
            RUNBOOK,
            sandbox=_IdleSandbox(tmp_path),
            config=Config(sources=sources),
        )

    quick = SourcesConfig(other=SourceSettings(breach_for_s=1.0, clear_for_s=3.0))
    assert drill(quick).checks.hysteresis == Hysteresis(1.0, 3.0, 0.1)
    broken = SourcesConfig(other=ConfigError("[sources] clear_for_s: not a number"))
    assert drill(broken).checks.hysteresis == Hysteresis()
