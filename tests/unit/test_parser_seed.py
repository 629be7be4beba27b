"""Every fact of the team's real runbook, as the model must hold it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.document.parser import load
from runbook.model import Runbook
from tests.required import unavailable

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED_COPY = FIXTURES / "seed_runbook.md"
GOLDEN = FIXTURES / "seed_runbook.golden.json"


@pytest.fixture(scope="module")
def seed() -> Runbook:
    return load(SEED_COPY)


def test_fixture_is_the_shared_seed() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "seed" / "runbook.md"
    if not shared.exists():
        unavailable("../shared is not beside this checkout")
    assert shared.read_bytes() == SEED_COPY.read_bytes()


def test_procedures_found(seed: Runbook) -> None:
    titles = [p.title for p in seed.procedures]
    assert titles == [
        "Build the Web Application",
        "Docker Operations",
        "Deployment Commands",
        "Zero-Downtime Deployment (Blue-Green)",
        "Emergency Rollback",
        "Configuration Updates",
        "P1 - Critical (System Down)",
        "P2 - High (Degraded Service)",
        "P3 - Warning (Degraded Experience)",
        "Automated Rollback",
        "Manual Rollback",
        "Container Won't Start",
        "Build Fails",
        "Health Check Failing",
    ]
    assert seed.procedure("Emergency Rollback") is not None
    assert seed.procedure("Manual Rollback").path == ("Rollback Procedure",)  # type: ignore[union-attr]


def test_blue_green_steps(seed: Runbook) -> None:
    procedure = seed.procedure("Zero-Downtime Deployment (Blue-Green)")
    assert procedure is not None
    assert [s.kind for s in procedure.steps] == [
        "manual", "manual", "manual", "wait", "decision", "decision",
    ]  # fmt: skip
    assert procedure.steps[0].text == 'Deploy new version to "green" environment'
    assert procedure.steps[3].wait_s == 300
    assert (procedure.steps[4].condition, procedure.steps[4].outcome) == (
        "healthy",
        "decommission blue",
    )
    assert (procedure.steps[5].condition, procedure.steps[5].outcome) == (
        "unhealthy",
        "rollback to blue",
    )
    assert [s.line for s in procedure.steps] == [102, 103, 104, 105, 106, 107]


def test_p1_steps_deadlines_and_commands(seed: Runbook) -> None:
    procedure = seed.procedure("P1 - Critical (System Down)")
    assert procedure is not None
    kinds = [(s.kind, s.deadline_s) for s in procedure.steps]
    assert kinds == [
        ("deadline", 300),
        ("command", None),
        ("decision", None),
        ("command", None),
        ("deadline", 900),
    ]
    assert [c.code for c in procedure.steps[1].commands] == ["make status"]
    assert [c.code for c in procedure.steps[3].commands] == ["make logs-tail"]
    assert procedure.steps[1].text == "Check deployment status: `make status`"


def test_severities(seed: Runbook) -> None:
    levels = {s.level: (s.acknowledge_s, s.escalate_s) for s in seed.severities}
    assert levels == {"P1": (300, 900), "P2": (900, None), "P3": (None, None)}
    p1 = seed.procedure(seed.severities[0].procedure)
    assert p1 is not None
    assert [s.incident_action for s in p1.steps] == ["acknowledge", None, None, None, "escalate"]


def test_thresholds(seed: Runbook) -> None:
    table = {
        t.metric: (t.warning.op, t.warning.value, t.warning.unit, t.critical.value, t.critical.unit)  # type: ignore[union-attr]
        for t in seed.thresholds
    }
    assert table == {
        "CPU Usage": (">", 70, "%", 90, "%"),
        "Memory Usage": (">", 80, "%", 95, "%"),
        "Request Latency (p99)": (">", 0.5, "s", 1, "s"),
        "Error Rate": (">", 1, "%", 5, "%"),
        "Disk Usage": (">", 70, "%", 85, "%"),
    }
    assert seed.thresholds[0].action == "Scale up or investigate"


def test_endpoints(seed: Runbook) -> None:
    assert [(e.path, e.expect_status, e.expect_body) for e in seed.endpoints] == [
        ("/health", 200, {"status": "healthy"}),
        ("/ready", 200, None),
        ("/metrics", None, None),
    ]


def test_environments(seed: Runbook) -> None:
    assert [(e.name, e.url, e.status) for e in seed.environments] == [
        ("Development", "http://localhost:5173", "Active"),
        ("Staging", None, "Planned"),
        ("Production", None, "Planned"),
    ]
    assert [e.is_production for e in seed.environments] == [False, False, True]


def test_risks(seed: Runbook) -> None:
    risks = {c.code: c.risk for p in seed.procedures for s in p.steps for c in s.commands}
    assert risks["make rollback"] == "mutating"
    assert risks["make rollback-now"] == "mutating"
    assert risks["make deploy"] == "mutating"
    assert risks["make status"] == "read-only"
    assert risks["docker logs monkeytown-web"] == "read-only"
    assert risks["docker stats"] == "read-only"
    assert risks["curl http://localhost:3000/health"] == "read-only"
    assert risks["./deploy/update-config.sh prod"] == "mutating"
    assert risks["docker tag monkeytown-web:<previous-sha> monkeytown-web:current"] == "mutating"
    assert risks["docker-compose -f deploy/docker-compose.prod.yml restart"] == "mutating"
    assert risks['docker exec monkeytown-web env | grep -E "NODE|REACT|VITE"'] == "read-only"


def test_previous_sha_variable(seed: Runbook) -> None:
    procedure = seed.procedure("Manual Rollback")
    assert procedure is not None
    assert [s.title for s in procedure.steps] == [
        "Identify previous version",
        "Restore specific version",
        "Restart",
    ]
    command = procedure.steps[1].commands[0]
    assert command.variable_names == ("previous-sha",)
    assert command.variables[0].kind == "placeholder"


def test_comments_kept_apart(seed: Runbook) -> None:
    rollback = seed.procedure("Emergency Rollback")
    assert rollback is not None
    command = rollback.steps[0].commands[0]
    assert command.code == "make rollback-now"
    assert command.comments == (
        "Immediate rollback",
        "This restores the previous Docker image tag",
        "and restarts containers with zero downtime",
    )
    node = seed.procedure("Build Fails").steps[1].commands[0]  # type: ignore[union-attr]
    assert (node.code, node.comments) == (
        "node --version",
        ("Verify Node version", "Should match package.json engines"),
    )


def test_automated_rollback_description_folds_into_its_step(seed: Runbook) -> None:
    procedure = seed.procedure("Automated Rollback")
    assert procedure is not None
    assert len(procedure.steps) == 1
    assert "1. Stop current containers" in procedure.steps[0].text
    assert "5. Report status" in procedure.steps[0].text


def test_section_rules_are_not_step_text(seed: Runbook) -> None:
    for procedure in seed.procedures:
        for step in procedure.steps:
            assert not step.text.rstrip().endswith("---"), (procedure.title, step.index)


def test_references_and_tables(seed: Runbook) -> None:
    targets = [r.target for r in seed.references]
    assert ".github/workflows/ci.yml" in targets
    assert ".monkeytown/architecture/infrastructure.md" in targets
    kinds = [t.kind for t in seed.tables]
    assert kinds == ["environments", "endpoints", "thresholds", "generic"]
    assert seed.tables[-1].header == ("Version", "Date", "Changes")


def test_non_procedures_stay_sections(seed: Runbook) -> None:
    titles = {p.title for p in seed.procedures}
    for section in ("Directory Structure", "Security Considerations", "Cost Management", "Purpose"):
        assert section not in titles


def test_golden_json(seed: Runbook) -> None:
    """The whole model of the seed; regenerate with `runbook-console show --json`."""
    produced = seed.to_dict()
    produced["path"] = None
    assert produced == json.loads(GOLDEN.read_text(encoding="utf-8"))
