"""The drill scenarios: a fault injected into the sandbox and the procedure that fixes it.

Each scenario names the symptom the checks watch for, the severity it is opened
at, the runbook procedure the trainee is pointed to, and the runbook command
that mitigates it (the answer, used by the tests and shown after the drill).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["bad-deploy", "config"]
CRASH_AFTER_S = 10
"""The crash-loop version serves this long (past the deploy's smoke test), then crash-loops."""
Symptom = Literal["latency", "errors", "health", "ready"]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    briefing: str
    """What the trainee is told when the drill starts (as an alert would say it)."""
    alert: str
    """The alert name the drill fires (opens the procedure through the alert context too)."""
    severity: str
    procedure: str
    """Title (or unique part of the key) of the procedure the drill opens."""
    fault: FaultKind
    symptom: Symptom
    fix: str
    """The runbook command that mitigates the fault."""
    image_env: dict[str, str] = field(default_factory=dict)
    """For bad-deploy: environment baked into the bad version's image (the service's
    DRILL_* switches: latency, error ratio, crash after N seconds)."""
    config_drills: dict[str, Any] = field(default_factory=dict)
    """For config: drill switches set in the config pushed to the sandbox."""


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="high-latency",
        title="High p99 latency after a deploy",
        briefing="p99 latency on the web service is above 1 s since the last deploy.",
        alert="HighRequestLatency",
        severity="P2",
        procedure="P2 - High (Degraded Service)",
        fault="bad-deploy",
        symptom="latency",
        fix="make rollback",
        image_env={"DRILL_LATENCY_MS": "1500"},
    ),
    Scenario(
        name="error-rate",
        title="Error-rate spike after a deploy",
        briefing="About a third of requests answer 500 since the last deploy.",
        alert="HighErrorRate",
        severity="P2",
        procedure="P2 - High (Degraded Service)",
        fault="bad-deploy",
        symptom="errors",
        fix="make rollback",
        image_env={"DRILL_ERROR_RATIO": "0.35"},
    ),
    Scenario(
        name="crash-loop",
        title="Crash loop after a bad deploy",
        briefing="The web service is down: the new version keeps crashing and restarting.",
        alert="ServiceDown",
        severity="P1",
        procedure="P1 - Critical (System Down)",
        fault="bad-deploy",
        symptom="health",
        fix="make rollback-now",
        image_env={"DRILL_CRASH_AFTER_S": str(CRASH_AFTER_S)},
    ),
    Scenario(
        name="broken-config",
        title="Broken configuration pushed",
        briefing="A configuration change went out and most requests now fail.",
        alert="HighErrorRate",
        severity="P2",
        procedure="Configuration Updates",
        fault="config",
        symptom="errors",
        fix="make update-config",
        config_drills={"error_ratio": 0.8},
    ),
    Scenario(
        name="readiness-failing",
        title="Readiness probe failing",
        briefing="/ready answers 503: the service reports it is not ready to serve.",
        alert="HealthCheckFailing",
        severity="P2",
        procedure="Configuration Updates",
        fault="config",
        symptom="ready",
        fix="make update-config",
        config_drills={"fail_readiness": True},
    ),
)


def find_scenario(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name.strip().casefold():
            return scenario
    known = ", ".join(s.name for s in SCENARIOS)
    raise KeyError(f"no drill scenario {name!r} (known: {known})")
