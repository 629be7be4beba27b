"""`check` reports a missing file only where a command runs it or reads it, relative to
the repository (issue 13 item 9): never a Kubernetes resource, a flag, a protocol string,
a line of output, a file the runbook has the operator make, or a script from elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.document.drift import find_drift
from runbook.document.parser import parse
from runbook.model import Command, Procedure, Runbook, Step


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with `deploy/ok.sh`, `bin/`, and folders named like resources."""
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "ok.sh").write_text("#!/bin/sh\n")
    for folder in ("bin", "node", "deployment", "curl", "service"):
        (tmp_path / folder).mkdir()
    return tmp_path


def runbook_of(*codes: str) -> Runbook:
    """One procedure, one step per code, taken as written (no parser in between)."""
    steps = tuple(
        Step(index, f"step {index}", index, "command", (Command(code, index, "mutating"),))
        for index, code in enumerate(codes, start=1)
    )
    return Runbook("t", "0", procedures=(Procedure("Fix", 1, steps),))


def missing(runbook: Runbook, root: Path, text: str = "") -> list[str]:
    return [problem.message for problem in find_drift(runbook, root, text)]


@pytest.mark.parametrize(
    "code",
    [
        "kubectl -n web logs -f deployment/web",  # `logs -f` follows
        "kubectl describe node/worker-1",
        "kubectl rollout restart deployment/web service/web",
        "docker logs -f --tail 10 web",  # a flag is not a file
        "docker rm -f web",
        "curl -A curl/7.43.0 -H 'X-Key: abc' --key-type PEM https://example.com",
        "HTTP/1.1 200 OK",  # a response line taken for a command
        "service/web created",  # kubectl's output
        "new-election/694d99fafea8840f",  # etcdctl's output
        "pkg/netutil: dropped request",  # a log line
        "hYIXAgMBAAGjggEiMIIBHjAOBgNVHQ8BAf8EBAMCAQYwDwYDVR0TAQH/BAUwAwEB",
        "cat /etc/hosts",  # the ops box's, not the repository's
        "bash ~/bin/fix.sh",
        "kubectl apply -f https://example.com/x.yaml",
        "kubectl apply -f -",
        "kubectl apply -f https://raw.githubusercontent.com/o/r/v{{< current-version >}}/x.yaml",
        "kubectl delete helmchart <HelmChart name> -n <HelmChart namespace>",
    ],
)
def test_not_a_file_of_the_repository(code: str, repo: Path) -> None:
    assert missing(runbook_of(code), repo) == []


@pytest.mark.parametrize(
    ("code", "path"),
    [
        ("./deploy/gone.sh prod", "./deploy/gone.sh"),
        ("bin/tool --check", "bin/tool"),
        ("scripts/rotate.sh", "scripts/rotate.sh"),
        ("cat config/app.conf", "config/app.conf"),
        ("source env/prod.sh", "env/prod.sh"),
        (". ./env.sh", "./env.sh"),
        ("bash fix.sh", "fix.sh"),
        ("sudo -u ops python3 tools/repair.py --dry-run", "tools/repair.py"),
        ("kubectl -n web apply -f k8s/web.yaml", "k8s/web.yaml"),
        ("kubectl apply -k overlays/prod", "overlays/prod"),
        ("helm upgrade web chart -f values-prod.yaml", "values-prod.yaml"),
        ("docker compose -f deploy/compose.yml up -d", "deploy/compose.yml"),
        ("terraform-wrapper --file plan.json", "plan.json"),
        ("psql -h db < migrations/001.sql", "migrations/001.sql"),
        ("cd deploy && ./gone.sh", "./gone.sh"),
    ],
)
def test_a_missing_file_the_command_runs_or_reads(code: str, path: str, repo: Path) -> None:
    messages = missing(runbook_of(code), repo)
    assert len(messages) == 1, messages
    assert f"names {path}, which does not exist" in messages[0]


def test_files_that_exist_are_fine(repo: Path) -> None:
    assert (
        missing(runbook_of("./deploy/ok.sh", "cd deploy && ./ok.sh", "bash deploy/ok.sh"), repo)
        == []
    )


def test_a_file_made_earlier_in_the_runbook_is_not_missing(repo: Path) -> None:
    made = runbook_of(
        "cat <<EOF > test-resources.yaml\nkind: Namespace\nEOF",
        "kubectl apply -f test-resources.yaml",
        "curl -sSLo rotate.sh https://example.com/rotate.sh && bash rotate.sh",
        "wget https://example.com/tools/fix.py && python3 fix.py",
        "kubectl get cm x -o yaml | tee backup.yaml",
        "kubectl replace -f backup.yaml",
    )
    assert missing(made, repo) == []


def test_a_folder_made_at_run_time_stops_the_check(repo: Path) -> None:
    cloned = runbook_of(
        "git clone https://github.com/etcd-io/etcd.git", "cd etcd", "./scripts/build.sh"
    )
    assert missing(cloned, repo) == []
    elsewhere = runbook_of("cd /var/lib/longhorn/replicas", "cat volume.meta")
    assert missing(elsewhere, repo) == []


def test_a_script_the_prose_fetches_or_has_written_is_not_the_repositorys(repo: Path) -> None:
    text = (
        "## Migrate\n\n"
        "1. Get [the migration script](https://github.com/o/longhorn/blob/master/scripts/migrate.sh).\n"
        "2. Create a file named `cluster-issuer.yaml`:\n\n"
        "   ```yaml\n   kind: ClusterIssuer\n   ```\n\n"
        "3. Run it:\n\n   ```sh\n   ./migrate.sh --type migrate\n"
        "   kubectl create -f cluster-issuer.yaml\n   ```\n"
    )
    runbook = parse(text)
    assert missing(runbook, repo, text) == []
    assert len(missing(runbook, repo)) == 2  # without the prose, both are missing
