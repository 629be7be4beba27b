"""Steps that roll across hosts: the fence attributes, the plan's batches and the roll's
stopping rules (hosts faked: `run_host` is a function here)."""

from __future__ import annotations

import threading

import pytest

from runbook.config import Config, EnvironmentConfig
from runbook.document.parser import parse
from runbook.document.rollout import RolloutError, read_rollout
from runbook.execution.plan import PlanError, plan
from runbook.execution.rollout import (
    HostOutcome,
    RollHost,
    RollPlan,
    environment_engines,
    roll_plan,
    run_roll,
)
from runbook.model import Rollout

ENGINES = ("unix:///run/a.sock", "tcp://127.0.0.1:2376", "ssh://ops@box", "prod-east")


def runbook_with(info: str, extra: str = "") -> str:
    return f"# T\n\n## Diagnose\n\n1. Engines\n\n   ```sh {info}\n   docker ps\n   ```\n{extra}"


def test_json_attributes_become_the_steps_rollout() -> None:
    text = runbook_with('{"hosts": "all", "batch": 2, "max_failures": 1, "canary": 1}')
    step = parse(text).procedures[0].steps[0]
    assert step.rollout == Rollout(hosts=None, batch=2, max_failures=1, canary=1, line=8)
    assert parse(text).problems == ()
    assert parse(text).to_dict()["procedures"][0]["steps"][0]["rollout"]["hosts"] == "all"


def test_a_list_of_hosts_and_runme_form() -> None:
    listed = parse(runbook_with('{"hosts": ["a", "b"]}')).procedures[0].steps[0].rollout
    assert listed is not None and listed.hosts == ("a", "b") and listed.canary == 1
    runme = parse(runbook_with("{ hosts=a,b batch=3 canary=0 }")).procedures[0].steps[0].rollout
    assert runme == Rollout(hosts=("a", "b"), batch=3, canary=0, line=8)


def test_a_plain_block_has_no_rollout() -> None:
    assert parse(runbook_with("")).procedures[0].steps[0].rollout is None
    assert read_rollout([("name", "x")]) is None


@pytest.mark.parametrize(
    ("info", "message"),
    [
        ('{"hosts": "all", "batch": 0}', "batch='0': expected a whole number of at least 1"),
        ('{"hosts": "all", "batch": "two"}', "batch='two'"),
        ('{"hosts": "all", "max_failures": -1}', "max_failures='-1'"),
        ('{"hosts": "all", "canary": 1.5}', "canary='1.5'"),
        ('{"hosts": []}', 'expected "all" or a list of non-empty host names'),
        ('{"hosts": ["a", "a"]}', "hosts names a twice"),
        ('{"hosts": [1, 2]}', 'expected "all" or a list of host names'),
        ('{"batch": 2}', "batch without hosts"),
    ],
)
def test_bad_attributes_are_check_errors_and_never_plan(info: str, message: str) -> None:
    runbook = parse(runbook_with(info))
    assert [(p.severity, p.line) for p in runbook.problems] == [("error", 8)]
    assert message in runbook.problems[0].message
    with pytest.raises(PlanError, match="does not run"):
        plan(runbook, runbook.procedures[0], 1)


def test_a_step_mixing_rolled_and_plain_blocks_is_an_error() -> None:
    text = (
        '# T\n\n## D\n\n1. Both\n\n   ```sh {"hosts": "all"}\n   docker ps\n   ```\n\n'
        "   ```sh\n   docker info\n   ```\n"
    )
    runbook = parse(text)
    assert "hosts applies to the whole step" in runbook.problems[0].message


def test_read_rollout_raises_one_line() -> None:
    with pytest.raises(RolloutError, match="^batch='x'"):
        read_rollout([("hosts", "all"), ("batch", "x")])


def test_canary_first_then_batches() -> None:
    rolled = roll_plan(Rollout(hosts=None, batch=2, canary=1), ENGINES)
    names = [[host.name for host in batch] for batch in rolled.batches]
    assert names == [["/run/a.sock"], ["127.0.0.1:2376", "ops@box"], ["prod-east"]]
    assert rolled.describe()[1] == "canary: /run/a.sock (unix:///run/a.sock)"
    assert rolled.describe()[0].startswith("4 host(s), 3 batch(es), stops at the first failure")
    no_canary = roll_plan(Rollout(hosts=None, batch=3, canary=0), ENGINES)
    assert [len(batch) for batch in no_canary.batches] == [3, 1]
    assert no_canary.describe()[1].startswith("batch 1:")


def test_hosts_by_name_or_engine_in_the_rollouts_order() -> None:
    rolled = roll_plan(Rollout(hosts=("prod-east", "tcp://127.0.0.1:2376"), canary=5), ENGINES)
    assert [host.engine for host in rolled.hosts] == ["prod-east", "tcp://127.0.0.1:2376"]
    assert rolled.canary == 2 and len(rolled.batches) == 1
    with pytest.raises(ValueError, match="host 'nope' is not one of the environment's"):
        roll_plan(Rollout(hosts=("nope",)), ENGINES)


def test_each_host_is_told_its_engine() -> None:
    assert dict(RollHost("a.sock", "unix:///a.sock").env)["DOCKER_HOST"] == "unix:///a.sock"
    context = dict(RollHost("prod-east", "prod-east").env)
    assert context == {"DOCKER_CONTEXT": "prod-east", "RUNBOOK_ROLL_HOST": "prod-east"}


def test_without_engines_in_the_config_the_current_one() -> None:
    assert environment_engines((), {"DOCKER_HOST": "tcp://127.0.0.1:1"}) == ("tcp://127.0.0.1:1",)
    assert environment_engines((), {}) == ("unix:///var/run/docker.sock",)
    assert environment_engines(ENGINES, {}) == ENGINES


def test_the_plan_names_hosts_and_batches_and_binds_them() -> None:
    runbook = parse(runbook_with('{"hosts": "all", "batch": 2}'))
    config = Config(environments={"Staging": EnvironmentConfig("Staging", docker_hosts=ENGINES)})
    planned = plan(runbook, runbook.procedures[0], 1, environment="Staging", config=config)
    described = planned.describe()
    assert "hosts:       4 host(s), 3 batch(es)" in described
    assert (
        "    batch 2: 127.0.0.1:2376 (tcp://127.0.0.1:2376), ops@box (ssh://ops@box)" in described
    )
    fewer = Config(environments={"Staging": EnvironmentConfig("Staging", docker_hosts=ENGINES[:2])})
    other = plan(runbook, runbook.procedures[0], 1, environment="Staging", config=fewer)
    assert other.digest != planned.digest  # a confirmation of one roll never runs another
    named = parse(runbook_with('{"hosts": ["elsewhere"]}'))
    with pytest.raises(PlanError, match="step 1 in Staging: host 'elsewhere'"):
        plan(named, named.procedures[0], 1, environment="Staging", config=config)


# The roll, with hosts faked ----------------------------------------------------------


def three_hosts(batch: int = 1, max_failures: int = 0, canary: int = 1) -> RollPlan:
    return roll_plan(
        Rollout(hosts=None, batch=batch, max_failures=max_failures, canary=canary),
        ("unix:///a", "unix:///b", "unix:///c"),
    )


def fake(failing: set[str], ran: list[str]):  # type: ignore[no-untyped-def]
    def run_host(host: RollHost) -> HostOutcome:
        ran.append(host.name)
        state = "failed" if host.name in failing else "ok"
        return HostOutcome(host, state, 1 if state == "failed" else 0, f"run-{host.name}")  # type: ignore[arg-type]

    return run_host


def test_every_host_runs_in_order_and_reports_each_change() -> None:
    ran: list[str] = []
    seen: list[tuple[str, str]] = []
    outcome = run_roll(
        three_hosts(), fake(set(), ran), lambda: None, lambda o: seen.append((o.host.name, o.state))
    )
    assert ran == ["/a", "/b", "/c"] and outcome.status == "succeeded"
    assert seen[:3] == [("/a", "pending"), ("/b", "pending"), ("/c", "pending")]
    assert seen[3:] == [(h, s) for h in ("/a", "/b", "/c") for s in ("running", "ok")]
    assert outcome.record()["ran"] == ["/a", "/b", "/c"]


def test_the_first_failure_stops_the_roll() -> None:
    ran: list[str] = []
    outcome = run_roll(three_hosts(), fake({"/b"}, ran), lambda: None)
    assert ran == ["/a", "/b"]
    assert [o.state for o in outcome.hosts] == ["ok", "failed", "skipped"]
    assert outcome.status == "failed"
    assert outcome.summary() == "1 of 3 hosts ok; failed: /b; skipped: /c"
    assert outcome.record()["skipped"] == ["/c"] and outcome.record()["failed"] == ["/b"]
    assert outcome.hosts[2].reason == "the roll stopped after 1 failed host(s)"


def test_max_failures_lets_the_roll_go_on() -> None:
    ran: list[str] = []
    outcome = run_roll(three_hosts(max_failures=1), fake({"/a"}, ran), lambda: None)
    assert ran == ["/a", "/b", "/c"] and outcome.status == "failed"
    ran.clear()
    outcome = run_roll(three_hosts(max_failures=1), fake({"/a", "/b"}, ran), lambda: None)
    assert ran == ["/a", "/b"] and outcome.named("skipped") == ["/c"]


def test_a_failing_canary_stops_before_any_batch() -> None:
    ran: list[str] = []
    outcome = run_roll(three_hosts(batch=2), fake({"/a"}, ran), lambda: None)
    assert ran == ["/a"] and outcome.named("skipped") == ["/b", "/c"]


def test_the_hosts_of_a_batch_run_at_once_and_all_finish() -> None:
    both_running = threading.Barrier(2, timeout=10)
    ran: list[str] = []

    def run_host(host: RollHost) -> HostOutcome:
        both_running.wait()  # only passes when the two hosts of the batch run together
        ran.append(host.name)
        return HostOutcome(host, "failed" if host.name == "/b" else "ok", run_id=host.name)

    outcome = run_roll(three_hosts(batch=2, canary=0), run_host, lambda: None)
    assert sorted(ran) == ["/a", "/b"]  # /a finished although /b failed beside it
    assert [o.state for o in outcome.hosts] == ["ok", "failed", "skipped"]


def test_cancel_stops_the_hosts_not_started() -> None:
    cancelled: list[str] = []
    ran: list[str] = []

    def run_host(host: RollHost) -> HostOutcome:
        ran.append(host.name)
        cancelled.append("alice")  # the operator cancels while the first host runs
        return HostOutcome(host, "cancelled", None, "run-a", "cancelled by alice")

    outcome = run_roll(three_hosts(), run_host, lambda: cancelled[0] if cancelled else None)
    assert ran == ["/a"]
    assert [o.state for o in outcome.hosts] == ["cancelled", "skipped", "skipped"]
    assert outcome.status == "cancelled" and outcome.cancelled_by == "alice"


def test_a_host_that_raises_is_that_hosts_failure() -> None:
    def run_host(host: RollHost) -> HostOutcome:
        raise OSError("no such engine")

    outcome = run_roll(three_hosts(), run_host, lambda: None)
    assert outcome.hosts[0].state == "failed"
    assert outcome.hosts[0].reason == "could not run: no such engine"


def test_what_each_host_is_told_is_never_asked() -> None:
    text = runbook_with('{"hosts": "all"}').replace("docker ps", 'echo "$DOCKER_HOST $TAG"')
    names = parse(text).procedures[0].steps[0].commands[0].variable_names
    assert names == ("TAG",)
    plain = parse(runbook_with("").replace("docker ps", 'echo "$DOCKER_HOST"'))
    assert plain.procedures[0].steps[0].commands[0].variable_names == ("DOCKER_HOST",)
