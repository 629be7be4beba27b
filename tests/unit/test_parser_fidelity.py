"""Shapes found in public runbooks by the fidelity set (tests/fixtures/fidelity, issue 13):
output that must not run as a command, commands that must not be lost, and lines typed
inside a session that must not run on the operator's machine."""

from __future__ import annotations

import pytest

from runbook.document.parser import parse
from runbook.document.shell import output_kind, read_prompt, session_opener
from runbook.model import Command, Step


def steps(text: str) -> list[Step]:
    return [step for procedure in parse(text).procedures for step in procedure.steps]


def commands(text: str) -> list[Command]:
    return [command for step in steps(text) for command in step.commands]


def fence(language: str, body: str) -> str:
    return f"## Check\n\n```{language}\n{body}\n```\n"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("+---------+----------+------------+", "a table"),
        ("|  HASH   | REVISION | TOTAL KEYS |", "a table"),
        ("CONTAINER ID   IMAGE                  COMMAND          CREATED", "a table"),
        ('4b9f29881a7b   longhornio/engine:v1.6.2   "launch-simple…"   12 minutes ago', "a table"),
        ("--cluster[=false]: use all endpoints from the cluster member list", None),
        ("-w, --write-out string   set the output format", None),
        ('--endpoints="127.0.0.1:2379": gRPC endpoints', None),
        ("https://discovery.etcd.io/a81b5818e67a6ea83e9d4daea5ecbc92", "a URL"),
        ("my-election/694d99fafea88404", "a key"),
        ("Snapshot saved at my.db", "prose"),
        ("This cluster is not yet finished:", "prose"),
        ("wrong fs type, bad option, bad superblock on /dev/longhorn/<volume>", "prose"),
        ("RGW deployments > CSI CephFS provisioners > OSD deployments > MON deployments", "prose"),
        ("127.0.0.1:2379 is healthy: successfully committed proposal", "prose"),
        ("    ceph-version=v19.2.3-0", "key=value output"),
        ("etcdctl endpoint status (--endpoints=$ENDPOINTS|--cluster)", "a usage synopsis"),
    ],
)
def test_output_is_not_a_command(line: str, kind: str | None) -> None:
    assert output_kind(line) == (kind or "an option's description")


@pytest.mark.parametrize(
    "line",
    [
        "kubectl get pods",
        "FOO=bar",
        "  -o wide",
        "mytool --flag value",
        "for i in a b; do",
        "echo a > b",
        "NODE_NAME=<instance label from alert>",
        "kubectl get pods   # three spaces before a comment",
    ],
)
def test_commands_are_not_output(line: str) -> None:
    assert output_kind(line) is None


def test_a_table_or_usage_in_a_shell_fence_is_not_run() -> None:
    text = fence(
        "shell",
        "etcdctl endpoint status (--endpoints=$ENDPOINTS|--cluster)\n\n"
        "etcdctl --write-out=table endpoint status\n\n"
        "+----------+---------+\n|   ID     | VERSION |\n+----------+---------+\n"
        "--cluster[=false]: use all endpoints from the cluster member list",
    )
    assert [c.code for c in commands(text)] == ["etcdctl --write-out=table endpoint status"]


def test_a_placeholder_is_no_redirection_for_a_session() -> None:
    assert session_opener("kubectl exec -it <pod-name> -- /bin/bash")
    assert session_opener("gdb -p <pid_of_the_process>")
    assert not session_opener("psql < dump.sql")
    text = fence(
        "bash",
        "kubectl exec -it <pod-name> -- /bin/bash\n"
        "curl https://longhorn-conversion-webhook.longhorn-system.svc:9501/v1/healthz",
    )
    [step] = steps(text)
    assert step.commands == ()
    assert [c.code for c in step.session_commands] == [
        "curl https://longhorn-conversion-webhook.longhorn-system.svc:9501/v1/healthz"
    ]


def test_a_pipe_inside_a_substitution_still_opens_the_session() -> None:
    opener = (
        "kubectl rsh -c etcdctl -n $NS $(kubectl get po -l app=etcd -oname -n $NS"
        " | awk -F/ 'NR==1{ print $2 }')"
    )
    assert session_opener(opener)
    [step] = steps(fence("shell", f"$ {opener}\n$ etcdctl defrag"))
    assert step.commands == () and step.session == opener
    assert [c.code for c in step.session_commands] == ["etcdctl defrag"]


def test_a_user_at_host_prompt_ending_with_angle_bracket() -> None:
    assert read_prompt("me@laptop:~/> kubectl get volumeattachment") == (
        "me@laptop:~/>",
        "kubectl get volumeattachment",
    )
    text = fence(
        "",
        "me@laptop:~/> kubectl taint node worker-1 k=v:NoExecute\nnode/worker-1 tainted",
    )
    [command] = commands(text)
    assert command.code == "kubectl taint node worker-1 k=v:NoExecute"
    assert command.risk == "mutating"


def test_a_command_before_the_first_prompt_is_not_output() -> None:
    text = fence(
        "console",
        "kubectl -n rook-ceph get pod -l app=rook-direct-mount\nNAME   READY\n"
        "$ kubectl -n rook-ceph get pod x -o yaml\napiVersion: v1",
    )
    assert [c.code for c in commands(text)] == [
        "kubectl -n rook-ceph get pod -l app=rook-direct-mount",
        "kubectl -n rook-ceph get pod x -o yaml",
    ]


def test_root_prompts_in_a_sh_fence_that_shows_output() -> None:
    text = fence(
        "sh",
        "# ls /var/lib/longhorn/replicas/\npvc-06b4a8a8-b51d-42c6-a8cc-d8c8d6bc65bc-d890efb2\n"
        "pvc-71a266e0-5db5-44e5-a2a3-e5471b007cc9-fe160a2c",
    )
    assert [c.code for c in commands(text)] == ["ls /var/lib/longhorn/replicas/"]
    # A comment naming a program, above a command, stays a comment.
    script = fence("sh", "# kubectl get pods shows them all\nkubectl get pods -A")
    assert [c.code for c in commands(script)] == ["kubectl get pods -A"]


def test_an_unlabelled_script_starting_with_assignments_is_run() -> None:
    text = fence(
        "",
        '# Replace this block\nBACKEND_URL="18.141.237.97:32595"\nISSUE_URL="https://x/1"\n\n'
        "curl -sS http://${BACKEND_URL}/v1/supportbundles --output /tmp/bundle.zip\n"
        'echo "Downloaded"',
    )
    assert "curl -sS" in "\n".join(c.code for c in commands(text))
    env_file = fence("", "K3S_RESOLV_CONF=/etc/resolv.conf\nRKE2_RESOLV_CONF=/etc/resolv.conf")
    assert commands(env_file) == []


def test_a_one_line_iscsiadm_fence_is_a_destructive_step() -> None:
    [command] = commands(fence("", "iscsiadm -m node --op=delete"))
    assert command.risk == "destructive"
    [command] = commands("## Fix\n\n1. Check with `ceph osd status`\n")
    assert command.risk == "read-only"
