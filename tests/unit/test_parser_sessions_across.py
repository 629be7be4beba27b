"""Sessions across fences (issue 13 item 5): a fence that ends inside a session it opened
and never left (`kubectl exec -it pod -- sh`, `oc debug node/x` + `chroot /host`, `oc rsh`,
`psql`, `ssh host`) leaves the operator there, so the later fences meant for that session
are typed into it: manual steps with `session_from`, never local commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.document.parser import parse
from runbook.execution.plan import PlanError, plan, plan_procedure
from runbook.model import Procedure, Runbook, Step

REPO = Path(__file__).resolve().parents[2]


def local_codes(runbook: Runbook) -> str:
    """Everything the console could run, as one text."""
    return "\n".join(c.code for p in runbook.procedures for s in p.steps for c in s.commands)


def step_with(runbook: Runbook, code: str) -> tuple[Procedure, Step]:
    for procedure in runbook.procedures:
        for step in procedure.steps:
            if any(code in c.code for c in (*step.commands, *step.session_commands)):
                return procedure, step
    raise AssertionError(f"no step holds {code!r}")


def assert_typed_inside(runbook: Runbook, code: str, opener: str) -> Step:
    """`code` is a manual step typed into the session `opener` opened, not local."""
    procedure, step = step_with(runbook, code)
    assert code not in local_codes(runbook)
    assert step.kind == "manual" and step.commands == ()
    assert step.session == opener
    assert all(c.session == opener for c in step.session_commands)
    assert step.session_from is not None
    assert f"inside `{opener.splitlines()[-1]}`" in step.text.split("\n")[0]
    assert all(plan.step_index != step.index for plan in plan_procedure(runbook, procedure))
    with pytest.raises(PlanError):
        plan(runbook, procedure, step)
    return step


@pytest.mark.parametrize(
    ("opener", "inside"),
    [
        ("kubectl exec -it web-1 -- sh", "rm -rf /tmp/cache"),
        ("kubectl -n rook-ceph exec -it deploy/rook-ceph-tools -- bash", "ceph osd pool rm x"),
        ("oc rsh web-1", "cat /etc/resolv.conf"),
        ("kubectl rsh -c etcdctl etcd-0", "etcdctl endpoint status -w table"),
        ("ssh admin@db-1", "sudo systemctl restart postgresql"),
        ("docker exec -it web sh", "kill -9 1"),
        ("toolbox", "ceph status"),
        ("kubectl exec -c etcdctl etcd-0", "etcdctl member list"),
    ],
)
def test_the_next_fence_of_the_section_is_typed_into_the_open_session(
    opener: str, inside: str
) -> None:
    runbook = parse(
        f"## Fix\n\nOpen a shell:\n\n```sh\n{opener}\n```\n\nThen:\n\n```sh\n{inside}\n```\n"
    )
    step = assert_typed_inside(runbook, inside, opener)
    assert step.session_from is not None
    assert (step.session_from.procedure, step.session_from.step) == ("Fix", 1)
    assert step.session_from.line == 6


def test_oc_debug_node_then_chroot_then_later_fences() -> None:
    runbook = parse(
        "## Node\n\n```sh\noc debug node/worker-1\n```\n\nThen enter the host:\n\n"
        "```sh\nchroot /host\n```\n\nFree space:\n\n```sh\ncrictl rmi --prune\n```\n\n"
        "Leave:\n\n```sh\nexit\nexit\n```\n\nCheck from here:\n\n```sh\noc get nodes\n```\n"
    )
    assert_typed_inside(runbook, "chroot /host", "oc debug node/worker-1")
    assert_typed_inside(runbook, "crictl rmi --prune", "oc debug node/worker-1")
    assert_typed_inside(runbook, "exit\nexit", "oc debug node/worker-1")
    assert "oc get nodes" in local_codes(runbook)


@pytest.mark.parametrize(
    ("opener", "language", "inside"),
    [
        ("psql -U postgres", "sh", "DROP TABLE sessions;"),
        ("mysql -u root -p", "sh", "DELETE FROM jobs;"),
        ("redis-cli", "sh", "FLUSHALL"),
        ("psql -U postgres", "sql", "TRUNCATE audit;"),
    ],
)
def test_a_program_s_session_takes_its_own_language(
    opener: str, language: str, inside: str
) -> None:
    runbook = parse(f"## Db\n\n```sh\n{opener}\n```\n\nThen:\n\n```{language}\n{inside}\n```\n")
    assert inside not in local_codes(runbook)


def test_a_shell_command_after_a_program_s_session_is_local() -> None:
    """After `psql` (or gdb) a shell line means the operator has quit the program."""
    runbook = parse("## Db\n\n```sh\npsql -U postgres\n```\n\nThen:\n\n```sh\nls /var/lib\n```\n")
    assert "ls /var/lib" in local_codes(runbook)


@pytest.mark.parametrize(
    "opener",
    [
        "k exec -it web-1 -- sh",
        "kl exec -it instance-manager-e-5453 bash",
        "kc -n prod exec -it web-1 -- bash",
        "oc -n prod rsh web-1",
    ],
)
def test_aliases_open_sessions_that_run_on(opener: str) -> None:
    runbook = parse(f"## Fix\n\n```sh\n{opener}\n```\n\nThen:\n\n```sh\nrm -rf /data/x\n```\n")
    assert_typed_inside(runbook, "rm -rf /data/x", opener)


def test_a_session_runs_on_into_later_sections_that_say_they_are_in_the_pod() -> None:
    runbook = parse(
        "# Direct tools\n\n## Start the pod\n\n```console\n"
        "kubectl -n rook-ceph exec -it <pod> -- bash\n```\n\n## Block tools\n\n"
        "Mount an image in the direct mount pod.\n\n```console\nmkfs.ext4 -m0 /dev/rbd0\n```\n\n"
        "### Unmount\n\n```console\numount /tmp/rook-volume\n```\n"
    )
    opener = "kubectl -n rook-ceph exec -it <pod> -- bash"
    step = assert_typed_inside(runbook, "mkfs.ext4 -m0 /dev/rbd0", opener)
    assert step.session_from is not None
    assert step.session_from.procedure == "Start the pod"
    assert "step 1 of “Start the pod”" in step.text
    assert_typed_inside(runbook, "umount /tmp/rook-volume", opener)


def test_inline_opener_then_list_items_and_fences() -> None:
    runbook = parse(
        "## Toolbox\n\n1. Enter the toolbox: `kubectl -n rook-ceph exec -it deploy/tools -- bash`\n"
        "2. Check `ceph status`\n3. Remove it when done:\n\n"
        "```sh\nkubectl -n rook-ceph delete deploy/tools\n```\n"
    )
    assert_typed_inside(
        runbook, "ceph status", "kubectl -n rook-ceph exec -it deploy/tools -- bash"
    )
    assert "kubectl -n rook-ceph delete deploy/tools" in local_codes(runbook)


def test_a_prompt_says_where_a_line_runs() -> None:
    runbook = parse(
        "## Fix\n\n```console\n$ oc debug node/worker-1\n```\n\nThen:\n\n"
        "```console\nsh-4.4# chroot /host\nsh-4.4# systemctl restart kubelet\n```\n"
    )
    assert_typed_inside(runbook, "systemctl restart kubelet", "oc debug node/worker-1")


# -- what stays local -----------------------------------------------------------


def test_a_fence_after_a_session_closed_with_exit_stays_local() -> None:
    runbook = parse(
        "## Fix\n\n```sh\nkubectl exec -it web-1 -- sh\nls /tmp\nexit\n```\n\n"
        "Then:\n\n```sh\nrm -rf ./build\n```\n"
    )
    assert "rm -rf ./build" in local_codes(runbook)
    _, step = step_with(runbook, "rm -rf ./build")
    assert step.session is None and step.session_from is None


@pytest.mark.parametrize(
    "command",
    [
        "kubectl exec web-1 -- ls",
        "kubectl exec -it web-1 -- ls /tmp",
        "k exec web-1 -- cat /etc/hosts",
        "ssh db-1 uptime",
        "psql -c 'select 1'",
        "docker exec web ls",
    ],
)
def test_a_fence_after_a_non_interactive_command_stays_local(command: str) -> None:
    runbook = parse(f"## Fix\n\n```sh\n{command}\n```\n\nThen:\n\n```sh\nrm -rf ./build\n```\n")
    assert "rm -rf ./build" in local_codes(runbook)
    assert all(s.session is None for p in runbook.procedures for s in p.steps)


def test_a_workstation_client_means_the_operator_has_left() -> None:
    runbook = parse(
        "## Fix\n\n```sh\nkubectl exec -it web-1 -- sh\n```\n\n```sh\nkubectl get pods\n```\n\n"
        "```sh\nrm -rf ./build\n```\n"
    )
    assert local_codes(runbook) == "kubectl get pods\nrm -rf ./build"


def test_prose_saying_the_operator_left_ends_the_session() -> None:
    runbook = parse(
        "## Fix\n\n```sh\nssh admin@db-1\n```\n\n```sh\nsystemctl restart pg\n```\n\n"
        "When you are done with the host, on your workstation:\n\n```sh\nmake report\n```\n"
    )
    assert_typed_inside(runbook, "systemctl restart pg", "ssh admin@db-1")
    assert "make report" in local_codes(runbook)


def test_a_later_section_saying_nothing_of_the_session_is_local() -> None:
    runbook = parse(
        "## Connect\n\n```sh\nssh admin@db-1\n```\n\n## Report\n\nWrite it up.\n\n"
        "```sh\nmake report\n```\n"
    )
    assert "make report" in local_codes(runbook)


def test_a_higher_heading_ends_the_session() -> None:
    runbook = parse(
        "# Part 1\n\n## Connect\n\n```sh\nssh admin@db-1\n```\n\n# Part 2\n\n"
        "Inside the host again? No: on the workstation.\n\n```sh\nmake report\n```\n"
    )
    assert "make report" in local_codes(runbook)


def test_lines_after_an_exit_in_a_later_fence_run_locally() -> None:
    runbook = parse(
        "## Fix\n\n```sh\nkubectl exec -it web-1 -- sh\n```\n\n"
        "```sh\nrm -rf /tmp/cache\nexit\nmake report\n```\n"
    )
    assert_typed_inside(runbook, "rm -rf /tmp/cache", "kubectl exec -it web-1 -- sh")
    assert local_codes(runbook) == "make report"


def test_variables_set_inside_the_session_are_not_asked_for() -> None:
    runbook = parse(
        "## Mount\n\n```sh\nkubectl exec -it tools -- bash\n```\n\n"
        "```sh\n# Read the secret\nsecret=$(grep key /etc/ceph/keyring)\n"
        "# Mount\nmount -o secret=$secret x:/ /mnt\n```\n"
    )
    _, step = step_with(runbook, "mount -o")
    assert [v.name for c in step.session_commands for v in c.variables] == []


def test_session_from_in_show_json(tmp_path: Path) -> None:
    path = tmp_path / "runbook.md"
    path.write_text(
        "# Node\n\n## Open\n\n```sh\noc debug node/worker-1\n```\n\n## Fix\n\n"
        "Inside the node:\n\n```sh\nchroot /host\n```\n"
    )
    shown = subprocess.run(
        [sys.executable, "-m", "console.cli", "show", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert shown.returncode == 0, shown.stderr
    fix = json.loads(shown.stdout)["procedures"][1]
    (step,) = fix["steps"]
    assert step["kind"] == "manual" and step["commands"] == []
    assert step["session"] == "oc debug node/worker-1"
    assert step["session_commands"][0]["code"] == "chroot /host"
    assert step["session_from"] == {"procedure": "Open", "step": 1, "line": 6}
