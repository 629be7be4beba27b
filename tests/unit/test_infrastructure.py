"""Offline checks of deploy/ and infrastructure/: Kubernetes manifests against the
Kubernetes schemas (kubernetes-validate), workflows and compose files against vendored
schemas (check-jsonschema), probe paths against the runbook's endpoints table, and the
project runbook against the seed's structure."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import required

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "infrastructure" / "kubernetes"
RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"
SEED = REPO.parent / "shared" / "seed" / "runbook.md"
WORKFLOWS = REPO / ".github" / "workflows"
sys.path.insert(0, str(REPO / "deploy" / "service"))

from service_config import parse_config  # noqa: E402

OWNED_PATHS = [
    "deploy",
    "infrastructure",
    ".github/workflows",
    "scripts/services.sh",
    "scripts/base-image.sh",
    "Makefile",
    ".monkeytown/devops/runbook.md",
    ".monkeytown/devops/architecture.md",
]


# --- a plain reading of Markdown tables (the runbook parser is tested elsewhere) --------


def markdown_tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every pipe table as (header cells, body rows)."""
    tables: list[tuple[list[str], list[list[str]]]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines) - 1:
        header, rule = lines[index].strip(), lines[index + 1].strip()
        if header.startswith("|") and re.fullmatch(r"\|[\s:|-]+\|", rule):
            rows = []
            index += 2
            while index < len(lines) and lines[index].strip().startswith("|"):
                rows.append(cells(lines[index]))
                index += 1
            tables.append((cells(header), rows))
        else:
            index += 1
    return tables


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table(text: str, first_header: str) -> list[list[str]]:
    for header, rows in markdown_tables(text):
        if header[0] == first_header:
            return rows
    raise AssertionError(f"no table starting with {first_header!r}")


def headings(text: str) -> list[str]:
    """Markdown headings, leaving out comment lines inside fenced code."""
    found, in_fence = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and re.match(r"^#{1,3} ", line):
            found.append(line.strip())
    return found


# --- a small kustomize: enough for the base and overlays this repo has ------------------


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization_file(directory: Path) -> Path:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if (directory / name).is_file():
            return directory / name
    raise AssertionError(f"no kustomization in {directory}")


def json_patch(document: dict[str, Any], operations: list[dict[str, Any]]) -> None:
    for operation in operations:
        assert operation["op"] in ("replace", "add"), operation
        *parents, last = operation["path"].strip("/").split("/")
        target: Any = document
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if operation["op"] == "replace":
            assert last in target or (isinstance(target, list) and int(last) < len(target))
        target[last] = operation["value"]


def render(directory: Path) -> list[dict[str, Any]]:
    """Build a kustomization the way `kustomize build` would for the features used here."""
    spec = yaml.safe_load(kustomization_file(directory).read_text())
    unsupported = set(spec) - {
        "apiVersion",
        "kind",
        "resources",
        "namespace",
        "labels",
        "replicas",
        "images",
        "patches",
    }
    assert not unsupported, f"extend this renderer for {unsupported}"
    documents: list[dict[str, Any]] = []
    for resource in spec.get("resources", []):
        path = (directory / resource).resolve()
        documents += render(path) if path.is_dir() else load_yaml_documents(path)
    documents = copy.deepcopy(documents)
    for document in documents:
        if "namespace" in spec:
            document["metadata"]["namespace"] = spec["namespace"]
        for label in spec.get("labels", []):
            document["metadata"].setdefault("labels", {}).update(label["pairs"])
        for replicas in spec.get("replicas", []):
            if document["metadata"]["name"] == replicas["name"] and "replicas" in document["spec"]:
                document["spec"]["replicas"] = replicas["count"]
        if document["kind"] == "Deployment":
            for image in spec.get("images", []):
                for container in document["spec"]["template"]["spec"]["containers"]:
                    if container["image"].split(":")[0] == image["name"]:
                        container["image"] = f"{image['newName']}:{image['newTag']}"
        for patch in spec.get("patches", []):
            target = patch["target"]
            if (document["kind"], document["metadata"]["name"]) != (target["kind"], target["name"]):
                continue
            text = (directory / patch["path"]).read_text() if "path" in patch else patch["patch"]
            json_patch(document, yaml.safe_load(text))
    return documents


KUSTOMIZATIONS = [
    K8S / "base",
    K8S / "overlays" / "staging",
    K8S / "overlays" / "production",
    REPO / "deploy",
]


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda path: path.name)
def test_rendered_manifests_pass_the_kubernetes_schema(directory: Path) -> None:
    kubernetes_validate = required.module("kubernetes_validate")
    documents = render(directory)
    assert sorted(doc["kind"] for doc in documents) == ["ConfigMap", "Deployment", "Service"]
    for document in documents:
        kubernetes_validate.validate(document, "1.37.0", strict=True)


def by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(doc for doc in documents if doc["kind"] == kind)


def test_probe_paths_are_the_runbooks_endpoints() -> None:
    endpoints = {row[0].strip("`"): row[1] for row in table(RUNBOOK.read_text(), "Endpoint")}
    assert set(endpoints) == {"/health", "/ready", "/metrics"}
    container = by_kind(render(K8S / "base"), "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert endpoints["/ready"] == "Readiness probe"
    assert endpoints["/health"] == "Basic health check"
    annotations = by_kind(render(K8S / "base"), "Deployment")["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert annotations["prometheus.io/path"] == "/metrics"


def test_prometheus_scrape_annotations_point_at_the_container_port() -> None:
    documents = render(K8S / "base")
    template = by_kind(documents, "Deployment")["spec"]["template"]
    port = template["spec"]["containers"][0]["ports"][0]["containerPort"]
    for scrape in (
        template["metadata"]["annotations"],
        by_kind(documents, "Service")["metadata"]["annotations"],
    ):
        assert scrape["prometheus.io/scrape"] == "true"
        assert scrape["prometheus.io/port"] == str(port)
    env = {item["name"]: item["value"] for item in template["spec"]["containers"][0]["env"]}
    assert env["APP_PORT"] == str(port)


@pytest.mark.parametrize(
    ("overlay", "config_name", "replicas"), [("staging", "staging", 1), ("production", "prod", 3)]
)
def test_overlays_carry_the_environment_config(
    overlay: str, config_name: str, replicas: int
) -> None:
    documents = render(K8S / "overlays" / overlay)
    config_text = by_kind(documents, "ConfigMap")["data"]["app.json"]
    shipped = (REPO / "deploy" / "config" / f"{config_name}.json").read_text()
    assert json.loads(config_text) == json.loads(shipped)
    assert parse_config(config_text).environment == config_name
    deployment = by_kind(documents, "Deployment")
    assert deployment["spec"]["replicas"] == replicas
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "ghcr.io/monkeytown/monkeytown-web:"
    )
    assert {doc["metadata"]["namespace"] for doc in documents} == {
        "monkeytown-staging" if overlay == "staging" else "monkeytown"
    }


def test_base_configmap_is_a_valid_service_config() -> None:
    parse_config(by_kind(render(K8S / "base"), "ConfigMap")["data"]["app.json"])


# --- workflows and compose files -----------------------------------------------------


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    required.module("check_jsonschema")
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_workflows_pass_the_github_workflow_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [path.name for path in files] == ["cd.yml", "ci.yml", "devops.yml"]
    result = check_jsonschema("vendor.github-workflows", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def workflow_runs(name: str) -> str:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    return "\n".join(
        step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]
    )


def test_workflows_run_what_the_runbook_promises() -> None:
    devops = workflow_runs("devops.yml")
    assert "runbook-console check .monkeytown/devops/runbook.md" in devops
    assert "make status" in devops
    ci = workflow_runs("ci.yml")
    assert "make test" in ci and "scripts/services.sh" in ci and "make lint" in ci
    cd = workflow_runs("cd.yml")
    assert "make deploy" in cd and "make rollback" in cd
    assert "infrastructure/docker/Dockerfile.web" in cd


def test_compose_files_pass_the_compose_schema() -> None:
    names = ("docker-compose.yml", "docker-compose.prod.yml", "docker-compose.swarm.yml")
    files = [REPO / "deploy" / name for name in names]
    result = check_jsonschema("vendor.compose-spec", *files)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.prod.yml"])
def test_compose_uses_host_network_and_loopback(name: str) -> None:
    compose = yaml.safe_load((REPO / "deploy" / name).read_text())
    assert "networks" not in compose
    for service in compose["services"].values():
        assert service["network_mode"] == "host"
        assert "ports" not in service and "networks" not in service
        assert service["environment"]["APP_HOST"] == "${MONKEYTOWN_HOST:-127.0.0.1}"


def test_compose_swarm_is_host_network_start_first_and_rolls_back_on_ready() -> None:
    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.swarm.yml").read_text())
    assert compose["networks"] == {"hostnet": {"external": True, "name": "host"}}
    web = compose["services"]["web"]
    assert web["networks"] == ["hostnet"] and "ports" not in web
    assert web["environment"]["APP_HOST"] == "${MONKEYTOWN_HOST:-127.0.0.1}"
    assert web["environment"]["APP_REUSE_PORT"] == "1"
    assert web["healthcheck"]["test"][-2:] == ["--probe", "/ready"]
    update = web["deploy"]["update_config"]
    assert update["order"] == "start-first" and update["failure_action"] == "rollback"
    assert web["deploy"]["rollback_config"]["order"] == "start-first"
    assert compose["configs"]["app"]["external"] is True


def test_compose_prod_has_restart_healthcheck_limits_and_log_rotation() -> None:
    web = yaml.safe_load((REPO / "deploy" / "docker-compose.prod.yml").read_text())["services"][
        "web"
    ]
    assert web["restart"] == "unless-stopped"
    assert "/health" in " ".join(web["healthcheck"]["test"])
    assert web["mem_limit"] and web["cpus"]
    assert web["logging"]["options"] == {"max-size": "10m", "max-file": "3"}


# --- Makefile, scripts, Dockerfiles ----------------------------------------------------


def test_makefile_targets_and_the_leads_two_recipes() -> None:
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    assert {
        "build",
        "deploy",
        "rollback",
        "rollback-now",
        "status",
        "logs-tail",
        "update-config",
        "dev",
        "preview",
        "clean",
        "test",
        "console",
        "history",
        "down",
        "audit",
    } <= targets
    assert re.search(r"^test:\n\tbash scripts/test\.sh$", makefile, re.M)
    assert re.search(r"^console:\n\tbash scripts/console\.sh$", makefile, re.M)


SHELL_SCRIPTS = sorted((REPO / "deploy").glob("*.sh")) + [
    REPO / "scripts" / "services.sh",
    REPO / "scripts" / "base-image.sh",
]


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda path: path.name)
def test_shell_scripts_parse_and_stop_on_errors(script: Path) -> None:
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    if not script.name.startswith("lib"):
        assert "\nset -euo pipefail\n" in script.read_text()
    if shutil.which("shellcheck"):
        checked = subprocess.run(
            ["shellcheck", "-x", "-S", "warning", str(script)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout


def test_dockerfiles_take_the_base_image_as_an_argument() -> None:
    docker = REPO / "infrastructure" / "docker"
    web = (docker / "Dockerfile.web").read_text()
    assert "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}" in web
    assert "HEALTHCHECK" in web and "/health" in web
    assert "ARG BASE_IMAGE=" in (docker / "Dockerfile.proxy").read_text()
    assert "FROM" in (docker / "Dockerfile.ci").read_text()


def owned_files() -> list[Path]:
    files: list[Path] = []
    for name in OWNED_PATHS:
        path = REPO / name
        files += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return [p for p in files if "__pycache__" not in p.parts]


def test_no_private_network_addresses_in_infrastructure_files() -> None:
    private = re.compile(r"\b(10\.\d{1,3}|172\.(1[6-9]|2\d|3[01])|192\.168)\.\d{1,3}\.\d{1,3}\b")
    offenders = [str(p) for p in owned_files() if private.search(p.read_text(errors="ignore"))]
    assert offenders == []


# --- the project's runbook against the seed --------------------------------------------


@pytest.fixture
def seed_text() -> str:
    if not SEED.exists():
        required.unavailable("../shared/seed/runbook.md is not beside this checkout")
    return SEED.read_text()


def test_runbook_keeps_every_seed_heading(seed_text: str) -> None:
    ours = headings(RUNBOOK.read_text())
    assert [h for h in headings(seed_text) if h not in ours] == []


def test_runbook_keeps_the_seed_tables(seed_text: str) -> None:
    ours = RUNBOOK.read_text()
    assert table(ours, "Metric") == table(seed_text, "Metric")
    assert table(ours, "Endpoint") == table(seed_text, "Endpoint")
    environments = table(ours, "Environment")
    assert [row[0] for row in environments] == [row[0] for row in table(seed_text, "Environment")]
    assert environments[0] == ["Development", "Local testing", "localhost:3000", "Active"]
    assert environments[1:] == table(seed_text, "Environment")[1:]
    our_headers = {tuple(header) for header, _ in markdown_tables(ours)}
    assert {tuple(header) for header, _ in markdown_tables(seed_text)} <= our_headers


def test_runbook_keeps_every_numbered_step(seed_text: str) -> None:
    def numbered(text: str) -> list[str]:
        return re.findall(r"^\d+\. (.+?)(?::|$)", text, re.M)

    ours = "\n".join(numbered(RUNBOOK.read_text()))
    missing = [step for step in numbered(seed_text) if step.split(":")[0] not in ours]
    assert missing == []


def test_runbook_names_no_npm_and_only_existing_make_targets() -> None:
    text = RUNBOOK.read_text()
    assert "npm " not in text
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    named = set(re.findall(r"(?:^|`|&&\s)make ([a-z][a-z-]*)", text, re.M))
    assert {"deploy", "rollback", "rollback-now", "status", "logs-tail"} <= named
    assert named - targets == set()
    for path in re.findall(r"(?:\./)?((?:deploy|infrastructure|\.github)/[\w./-]+\w)", text):
        assert (REPO / path).exists(), path


def test_runbook_console_check_finds_no_drift() -> None:
    cli = Path(sys.executable).parent / "runbook-console"
    if not cli.exists():
        required.unavailable("runbook-console is not installed in this environment")
    result = subprocess.run([str(cli), "check", str(RUNBOOK)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- Prometheus config and the runbook's thresholds as alert rules ---------------------

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"


def threshold_value(text: str) -> float:
    """'> 500ms' -> 0.5 (seconds), '> 1s' -> 1.0, '> 70%' -> 70.0."""
    match = re.fullmatch(r">\s*([\d.]+)\s*(ms|s|%)", text.strip())
    assert match, text
    number, unit = float(match.group(1)), match.group(2)
    return number / 1000 if unit == "ms" else number


def test_alert_rules_carry_the_runbook_thresholds() -> None:
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"][0]["rules"]
    by_metric: dict[tuple[str, str], dict[str, Any]] = {
        (rule["labels"]["metric"], rule["labels"]["severity"]): rule for rule in rules
    }
    rows = table(RUNBOOK.read_text(), "Metric")
    assert len(rows) == 5 and len(rules) == 10
    for metric, warning, critical, action in rows:
        for severity, limit in (("warning", warning), ("critical", critical)):
            rule = by_metric[(metric, severity)]
            expr_limit = float(rule["expr"].rsplit(">", 1)[1])
            assert expr_limit == threshold_value(limit), (metric, severity)
            assert rule["annotations"]["action"] == action


@pytest.mark.parametrize(
    ("command", "target"),
    [(["check", "config"], "prometheus.yml"), (["check", "rules"], "alerts.yml")],
)
def test_promtool_accepts_the_prometheus_files(command: list[str], target: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        required.unavailable(
            "promtool not installed (bash scripts/services.sh installs prometheus)"
        )
    result = subprocess.run(
        [promtool, *command, str(PROMETHEUS_DIR / target)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
