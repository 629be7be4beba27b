"""Alert context: procedure matching and variable filling from labels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.document.alerts import (
    Alert,
    AlertError,
    alerts_from_payload,
    match,
    pick_alert,
    runbook_for_alert,
    variables_from_labels,
    words,
)
from runbook.document.parser import load
from runbook.execution.plan import plan, plan_procedure
from tests.required import unavailable

REPO = Path(__file__).resolve().parents[2]
PROJECT_RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"
CORPUS = REPO.parent / "shared" / "corpus" / "prometheus-operator"

PAYLOAD = {
    "version": "4",
    "status": "firing",
    "receiver": "oncall",
    "groupLabels": {"alertname": "KubePodCrashLooping"},
    "commonLabels": {
        "alertname": "KubePodCrashLooping",
        "namespace": "shop",
        "severity": "warning",
    },
    "alerts": [
        {
            "status": "resolved",
            "labels": {"alertname": "KubePodCrashLooping", "pod": "old-0", "container": "x"},
        },
        {
            "status": "firing",
            "labels": {
                "alertname": "KubePodCrashLooping",
                "pod": "web-7d9f-abcde",
                "container": "web",
            },
            "annotations": {
                "runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"
            },
        },
    ],
}


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        unavailable("../shared/corpus/prometheus-operator is not beside this checkout")
    return CORPUS


def test_labels_become_variables() -> None:
    values = variables_from_labels(
        {
            "alertname": "X",
            "namespace": "shop",
            "pod": "web-1",
            "node": "n1",
            "app.kubernetes.io/name": "web",
        }
    )
    assert values == {
        "NAMESPACE": "shop",
        "POD": "web-1",
        "NODE": "n1",
        "NODE_NAME": "n1",
        "APP_KUBERNETES_IO_NAME": "web",
    }


def test_bad_label_is_refused() -> None:
    with pytest.raises(AlertError):
        Alert.from_args("X", ["namespace"])


def test_words_split_alert_names() -> None:
    assert words("KubePodCrashLooping") == {"kube", "pod", "crash", "loop"}
    assert words("Container Won't Start") == words("ContainerWontStart")


def test_corpus_runbook_from_labels(corpus: Path) -> None:
    path = runbook_for_alert(corpus, "KubePodCrashLooping")
    assert path == corpus / "kubernetes" / "KubePodCrashLooping.md"
    runbook = load(path)
    alert = Alert.from_args("KubePodCrashLooping", ["namespace=shop", "pod=web-1", "container=app"])
    target = match(runbook, alert)
    assert target.procedure is not None and target.procedure.title == "Diagnosis"
    assert target.used == {"NAMESPACE": "shop", "POD": "web-1", "CONTAINER": "app"}
    assert target.missing == []
    step = plan(runbook, target.procedure, 3, values=target.values)
    assert step.resolved_commands == ("kubectl -n shop logs web-1 -c app",)


def test_corpus_runbook_from_webhook_payload(corpus: Path) -> None:
    alerts = alerts_from_payload(PAYLOAD)
    assert [a.status for a in alerts] == ["firing", "resolved"]
    alert = alerts[0]
    assert alert.labels["namespace"] == "shop"  # from commonLabels
    runbook = load(runbook_for_alert(corpus, alert.name))  # type: ignore[arg-type]
    target = match(runbook, alert)
    step = plan(runbook, target.procedure, 1, values=target.values)  # type: ignore[arg-type]
    assert step.resolved_commands == ("kubectl -n shop get pod web-7d9f-abcde",)


def test_value_with_shell_metacharacters_is_quoted(corpus: Path) -> None:
    runbook = load(corpus / "kubernetes" / "KubePodCrashLooping.md")
    target = match(
        runbook, Alert.from_args("KubePodCrashLooping", ["namespace=a; rm -rf /", "pod=$(id)"])
    )
    (code,) = plan(runbook, target.procedure, 1, values=target.values).resolved_commands  # type: ignore[arg-type]
    assert code == "kubectl -n 'a; rm -rf /' get pod '$(id)'"


def test_project_runbook_procedures_from_alert_names() -> None:
    runbook = load(PROJECT_RUNBOOK)
    target = match(runbook, Alert.from_args("ContainerWontStart", ["colour=green"]))
    assert target.procedure is not None and target.procedure.title == "Container Won't Start"
    assert target.used == {"COLOUR": "green"}
    step = plan(runbook, target.procedure, 1, values=target.values)
    assert step.resolved_commands == ("docker logs monkeytown-web-green",)

    health = match(runbook, Alert.from_args("HealthCheckFailing", []))
    assert health.procedure is not None and health.procedure.title == "Health Check Failing"
    assert health.missing == ["COLOUR"]


def test_an_alert_is_picked_from_a_payload_by_name_with_labels_added() -> None:
    alerts = alerts_from_payload(PAYLOAD)
    first = pick_alert(alerts, None, ["namespace=staging"])
    assert (first.status, first.labels["pod"], first.labels["namespace"]) == (
        "firing",
        "web-7d9f-abcde",
        "staging",
    )
    assert pick_alert(alerts, "KubePodCrashLooping").annotations == alerts[0].annotations
    with pytest.raises(AlertError, match=r"no alert Watchdog in the payload \(it has: Kube"):
        pick_alert(alerts, "Watchdog")
    with pytest.raises(AlertError, match="not key=value"):
        pick_alert(alerts, None, ["pod"])


def test_a_procedure_is_planned_step_by_step_with_the_alert_s_values() -> None:
    runbook = load(PROJECT_RUNBOOK)
    target = match(runbook, Alert.from_args("ContainerWontStart", ["colour=green"]))
    assert target.procedure is not None
    plans = plan_procedure(runbook, target.procedure, values=target.values)
    with_commands = [step.index for step in target.procedure.steps if step.commands]
    assert [p.step_index for p in plans] == with_commands
    assert plans[0].resolved_commands == ("docker logs monkeytown-web-green",)


def test_project_runbook_severity_and_threshold_alerts() -> None:
    runbook = load(PROJECT_RUNBOOK)
    down = match(runbook, Alert.from_args("Outage", ["severity=critical"]))
    assert down.severity == "P1"
    assert down.procedure is not None and down.procedure.title == "P1 - Critical (System Down)"
    latency = match(runbook, Alert.from_args("HighRequestLatency", []))
    assert latency.severity == "P2"
    assert latency.procedure is not None and latency.procedure.title.startswith("P2")
    assert match(runbook, Alert.from_args("Watchdog", [])).procedure is None


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from console.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, "open", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


def test_open_cli_with_payload_file(corpus: Path, tmp_path: Path) -> None:
    payload = tmp_path / "webhook.json"
    payload.write_text(json.dumps(PAYLOAD))
    done = _cli(str(corpus), "--payload", str(payload), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["procedure"] == "Diagnosis"
    assert result["variables"] == {"NAMESPACE": "shop", "POD": "web-7d9f-abcde", "CONTAINER": "web"}
    assert result["steps"][2]["commands"] == ["kubectl -n shop logs web-7d9f-abcde -c web"]


def test_open_cli_project_runbook_plain_text() -> None:
    done = _cli(str(PROJECT_RUNBOOK), "--alert", "ContainerWontStart", "--label", "colour=blue")
    assert done.returncode == 0, done.stderr
    assert "procedure: Troubleshooting / Container Won't Start" in done.stdout
    assert "$COLOUR = blue" in done.stdout
    assert "docker logs monkeytown-web-blue" in done.stdout
    missing = _cli(str(PROJECT_RUNBOOK), "--alert", "Watchdog")
    assert missing.returncode == 1
