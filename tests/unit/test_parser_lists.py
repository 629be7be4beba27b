"""A list item holding a command is a step; a shell block never vanishes unexplained."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runbook.document.parser import parse
from runbook.model import Procedure, Runbook

REPO = Path(__file__).resolve().parents[2]


def only_procedure(text: str) -> Procedure:
    runbook = parse(text)
    assert len(runbook.procedures) == 1, [p.title for p in runbook.procedures]
    return runbook.procedures[0]


def commands_of(procedure: Procedure) -> list[list[str]]:
    return [[c.code for c in step.commands] for step in procedure.steps]


def test_labelled_step_item_with_indented_fence_is_a_step() -> None:
    procedure = only_procedure(
        "## Mitigation\n\n"
        "* **Step 1**: scale the collector down\n\n"
        "  ```sh\n  kubectl -n obs scale deploy/collector --replicas=0\n  ```\n\n"
        "* **Step 2**: wait for the queue to drain\n"
    )
    scale, drain = procedure.steps
    assert scale.commands[0].code == "kubectl -n obs scale deploy/collector --replicas=0"
    assert scale.commands[0].line == 6
    assert scale.title.startswith("Step 1: scale the collector down")
    # A step label is set aside: "wait ..." reads as an action, so it is a step too.
    assert drain.kind == "manual" and "drain" in drain.text


def test_conditional_item_with_fence_is_a_step() -> None:
    procedure = only_procedure(
        "## Mitigation\n\nSome pods never terminate.\n\n"
        "- If the pod is stuck, delete it:\n"
        "  ```sh\n  kubectl -n app delete pod web-0 --grace-period=0 --force\n  ```\n"
        "- The controller recreates it.\n"
        "- Pods that are Running are fine.\n"
    )
    assert procedure.intro == "Some pods never terminate."
    (delete,) = procedure.steps
    assert delete.kind == "decision" and delete.condition == "the pod is stuck"
    assert delete.commands[0].code == "kubectl -n app delete pod web-0 --grace-period=0 --force"
    assert delete.commands[0].risk == "destructive"
    # The items that are neither commands nor actions stay with the step as its text.
    assert "The controller recreates it." in delete.text
    assert "Pods that are Running are fine." in delete.text


@pytest.mark.parametrize("marker", ["1.", "-"])
def test_option_item_with_fence_is_a_step(marker: str) -> None:
    procedure = only_procedure(
        f"## Fix\n\nPick one.\n\n{marker} Option A - restart\n"
        "   ```bash\n   systemctl restart collector\n   ```\n"
        f"{marker} Option B - page the database team\n"
    )
    restart, page = procedure.steps
    assert restart.title == "Option A - restart"
    assert commands_of(procedure) == [["systemctl restart collector"], []]
    assert page.title == "Option B - page the database team"


def test_item_with_inline_command_among_symptoms_is_a_step() -> None:
    procedure = only_procedure(
        "## Diagnosis\n\n- Latency above 2 s\n- Error rate climbing\n"
        "- Queue depth shown by `kubectl -n obs get hpa collector`\n"
    )
    (step,) = procedure.steps
    assert step.commands[0].code == "kubectl -n obs get hpa collector"
    assert "Latency above 2 s" in procedure.intro


def test_fence_in_a_nested_item_belongs_to_its_top_item() -> None:
    procedure = only_procedure(
        "## Install\n\n- Using Homebrew:\n"
        "  - Update the formulae:\n\n    ```sh\n    $ brew update\n    ```\n\n"
        "  - Install it:\n\n    ```sh\n    $ brew install etcd\n    ```\n"
    )
    assert commands_of(procedure) == [["brew update", "brew install etcd"]]


def test_indented_code_block_in_an_item_is_read() -> None:
    procedure = only_procedure(
        "## Check\n\n- About the nodes:\n\n      kubectl get nodes -o wide\n"
    )
    assert commands_of(procedure) == [["kubectl get nodes -o wide"]]


def test_fence_after_a_describing_lead_in_is_not_swallowed() -> None:
    procedure = only_procedure(
        "## Fix\n\n1. Restart the agent\n\nThis will also do the following:\n\n"
        "- Flush the buffer:\n  ```sh\n  agentctl flush --all\n  ```\n"
    )
    assert commands_of(procedure)[-1] == ["agentctl flush --all"]


def test_labelled_policy_list_with_inline_code_is_no_procedure() -> None:
    runbook = parse(
        "## Security\n\n- **Secrets:** never commit\n- **Deps:** audit with `npm audit`\n"
    )
    assert runbook.procedures == ()


def test_mislabelled_fence_of_commands_is_a_step_and_a_warning() -> None:
    runbook = parse(
        "## Diagnosis\n\n```yaml\n"
        "kubectl exec -n <namespace> svc/db-rw -- psql -c 'SELECT 1;'\n```\n"
    )
    (step,) = runbook.procedures[0].steps
    assert step.commands[0].code.startswith("kubectl exec -n <namespace>")
    assert [(p.line, p.message) for p in runbook.problems] == [
        (3, "`yaml` block holds shell commands only: read as commands")
    ]


def problems(text: str) -> list[tuple[int, str]]:
    runbook: Runbook = parse(text)
    return [(p.line, p.message) for p in runbook.problems]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            "## Fix\n\n```sh\n# dnf install gdb -y\n```\n",
            3,
            "every line of this `sh` block starts with `#`, so it is read as comments, "
            "not as commands after a root prompt (`# dnf install gdb -y`): nothing to run",
        ),
        (
            "## Fix\n\n```shell\n# TODO: Command needed\n```\n",
            3,
            "this `shell` block holds only comments: nothing to run",
        ),
        ("## Fix\n\n```sh\n```\n", 3, "empty `sh` block: nothing to run"),
        (
            "## Fix\n\n> Only to remove everything:\n>\n> ```sh\n> kubectl delete crd x\n> ```\n",
            5,
            "shell block inside a quote: an aside, not read as a step",
        ),
        (
            "## Clean up\n\n```\neksctl delete cluster --name $CLUSTER\n"
            "aws route53 delete-hosted-zone --id $ZONE\n```\n",
            3,
            "block without a language mixes command-like lines "
            "(`aws route53 delete-hosted-zone --id $ZO…`) with others "
            "(`eksctl delete cluster --name $CLUSTER`) and has no `$ ` prompt",
        ),
    ],
)
def test_unread_shell_block_says_why(text: str, line: int, reason: str) -> None:
    found = problems(text)
    assert len(found) == 1, found
    assert found[0][0] == line
    assert found[0][1].startswith(reason)


@pytest.mark.parametrize(
    "text",
    [
        "## Config\n\n```yaml\nspec:\n  replicas: 3\n```\n",
        "## Logs\n\n```\nE0219 01:25:20.123 update.go:2641] sync failed\n```\n",
        "## Flags\n\n```nocode\n--name 'default'\n```\n",
        "## Diff\n\n```diff\n-etcdctl set foo bar\n+etcdctl put foo bar\n```\n",
    ],
)
def test_blocks_that_are_not_shell_need_no_word(text: str) -> None:
    runbook = parse(text)
    assert runbook.procedures == () and runbook.problems == ()


def test_check_prints_why_a_shell_block_gave_no_step(tmp_path: Path) -> None:
    path = tmp_path / "runbook.md"
    path.write_text("# Node\n\n## Check\n\nAs root:\n\n```sh\n# systemctl status kubelet\n```\n")
    result = subprocess.run(
        [sys.executable, "-m", "console.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip() == (
        f"{path}:7: warning: every line of this `sh` block starts with `#`, so it is "
        "read as comments, not as commands after a root prompt (`# systemctl status kubelet`): "
        "nothing to run"
    )


def test_a_command_the_prose_names_as_a_thing_is_no_step() -> None:
    """cert-manager's backup tips: "if `--exclude-namespaces` flag is passed to `velero
    backup create`, CRDs … might not be included": a reference, not an order."""
    runbook = parse(
        "## Velero\n\n- Ensure that the backups include CRDs.\n  For example, if a flag is "
        "passed to\n  `velero backup create`, CRDs might be left out.\n"
        "- Run `velero backup get` to list them.\n"
    )
    codes = [c.code for p in runbook.procedures for s in p.steps for c in s.commands]
    assert codes == ["velero backup get"]
