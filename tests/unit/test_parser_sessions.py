"""Interactive sessions (issue 13 item 5): the lines after `oc debug node/x`, `ssh host`,
`psql` … run inside that session, so they are a manual step, never a local command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.document.parser import parse
from runbook.document.shell import session_opener
from runbook.execution.plan import PlanError, plan, plan_procedure
from runbook.model import Procedure, Runbook, Step

REPO = Path(__file__).resolve().parents[2]


def only_procedure(text: str) -> Procedure:
    runbook = parse(text)
    assert len(runbook.procedures) == 1, [p.title for p in runbook.procedures]
    return runbook.procedures[0]


def fence(language: str, body: str) -> str:
    return f"## Fix\n\n```{language}\n{body}\n```\n"


def local_codes(procedure: Procedure) -> str:
    """Everything the console could run for this procedure, as one text."""
    return "\n".join(c.code for step in procedure.steps for c in step.commands)


@pytest.mark.parametrize(
    ("language", "body", "session", "inside"),
    [
        ("bash", "oc debug node/worker-1\nchroot /host\ntop", "oc debug node/worker-1", "top"),
        (
            "bash",
            "kubectl exec -it web-1 -- sh\nrm -rf /tmp/cache\nls /tmp",
            "kubectl exec -it web-1 -- sh",
            "rm -rf /tmp/cache",
        ),
        ("sh", "oc rsh web-1\ncat /etc/resolv.conf", "oc rsh web-1", "cat /etc/resolv.conf"),
        (
            "sh",
            "psql -U postgres\nDROP TABLE sessions;",
            "psql -U postgres",
            "DROP TABLE sessions;",
        ),
        ("sh", "ssh admin@db-1\nsudo systemctl restart postgresql", "ssh admin@db-1", "restart"),
        (
            "bash",
            "docker exec -it web sh\nkill -9 1",
            "docker exec -it web sh",
            "kill -9 1",
        ),
        ("sh", "mysql -u root -p\nSHOW PROCESSLIST;", "mysql -u root -p", "SHOW PROCESSLIST;"),
        ("sh", "redis-cli\nFLUSHALL", "redis-cli", "FLUSHALL"),
        (
            "console",
            "$ oc debug node/worker-1\nStarting pod/worker-1-debug ...\nsh-4.4# chroot /host\n"
            "sh-4.4# crictl rmi --prune",
            "oc debug node/worker-1",
            "crictl rmi --prune",
        ),
        (
            "console",
            "user@host:~$ psql -U postgres\npostgres=# DELETE FROM jobs;\nDELETE 3",
            "psql -U postgres",
            "DELETE FROM jobs;",
        ),
        (
            "console",
            "$ gpg --card-edit\ngpg/card> admin\ngpg/card> passwd",
            "gpg --card-edit",
            "passwd",
        ),
        ("console", "(gdb) bt\n$ gdb -p 1234\n(gdb) bt", "gdb -p 1234", "bt"),
    ],
)
def test_lines_inside_a_session_are_a_manual_step_not_a_local_command(
    language: str, body: str, session: str, inside: str
) -> None:
    procedure = only_procedure(fence(language, body))
    (step,) = [s for s in procedure.steps if s.session is not None]
    assert step.session == session
    assert step.kind == "manual" and step.commands == ()
    assert inside in "\n".join(c.code for c in step.session_commands)
    assert all(c.session == session for c in step.session_commands)
    assert inside not in local_codes(procedure)  # never runnable on this machine
    assert f"inside `{session}`" in step.text.split("\n")[0]


def test_commands_before_the_session_and_after_its_exit_stay_local() -> None:
    procedure = only_procedure(
        fence(
            "bash",
            "oc get nodes\noc debug node/worker-1\nchroot /host\ntop\nexit\nexit\n"
            "# Say hi\necho hi",
        )
    )
    before, session, after = procedure.steps
    assert [c.code for c in before.commands] == ["oc get nodes"]
    assert session.session == "oc debug node/worker-1"
    assert session.session_commands[0].code == "chroot /host\ntop\nexit\nexit"
    assert after.title == "Say hi" and after.commands[0].code == "echo hi"


def test_a_session_command_given_its_input_is_an_ordinary_command() -> None:
    for code in (
        "kubectl exec web-1 -- ls /tmp",
        "kubectl exec -it web-1 -- ls /tmp",
        "oc debug node/worker-1 -- chroot /host uptime",
        "ssh db-1 uptime",
        "psql -c 'select 1'",
        "echo 'select 1' | psql",
        "mysql -e 'show processlist'",
        "redis-cli INFO",
        "docker exec web ls",
        "kubectl get pods",
    ):
        assert not session_opener(code), code
    procedure = only_procedure(fence("sh", "ssh db-1 uptime\nkubectl get pods"))
    assert local_codes(procedure) == "ssh db-1 uptime\nkubectl get pods"


@pytest.mark.parametrize(
    "code",
    [
        "kubectl -n default debug node/$NODE -it --image=busybox",
        "kubectl run -it --rm debug --image=busybox",
        "oc rsh -c app web-1",
        "sudo -i",
        "sudo -u postgres psql",
        "go tool pprof http://localhost:6060/debug/pprof/heap",
        "kubectl exec -it web-1 -- psql -U app",
        "ssh -i key.pem -p 2222 admin@db-1",
    ],
)
def test_session_openers(code: str) -> None:
    assert session_opener(code)


def _session_runbook() -> tuple[Runbook, Step]:
    runbook = parse("# Node\n\n" + fence("bash", "oc debug node/worker-1\nchroot /host\nreboot"))
    (step,) = runbook.procedures[0].steps
    return runbook, step


def test_the_planner_gives_a_session_step_nothing_to_run() -> None:
    runbook, step = _session_runbook()
    procedure = runbook.procedures[0]
    assert plan_procedure(runbook, procedure) == []
    with pytest.raises(PlanError, match="runs inside `oc debug node/worker-1`"):
        plan(runbook, procedure, step)


def test_the_planner_refuses_a_command_marked_as_typed_into_a_session() -> None:
    """A Step built by hand with session code among its commands is refused all the same."""
    runbook, step = _session_runbook()
    procedure = runbook.procedures[0]
    smuggled = Step(1, "x", step.line, "command", commands=step.session_commands)
    hand_made = Procedure(procedure.title, procedure.line, (smuggled,))
    with pytest.raises(PlanError, match="the console does not run them"):
        plan(runbook, hand_made, smuggled)


def test_session_step_in_show_json_and_check(tmp_path: Path) -> None:
    path = tmp_path / "runbook.md"
    path.write_text("# Node\n\n" + fence("bash", "oc debug node/worker-1\nchroot /host\ntop"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "console.cli", *args, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )

    shown = cli("show", "--json")
    assert shown.returncode == 0, shown.stderr
    (step,) = json.loads(shown.stdout)["procedures"][0]["steps"]
    assert step["kind"] == "manual" and step["commands"] == []
    assert step["session"] == "oc debug node/worker-1"
    assert step["session_commands"][0]["code"] == "chroot /host\ntop"
    checked = cli("check")
    assert checked.returncode == 1
    assert checked.stdout.strip() == (
        f"{path}:6: warning: `oc debug node/worker-1` opens an interactive session: the lines "
        "after it run inside it, so this is a manual step (the console does not run them)"
    )


def test_inline_session_command_in_a_list_item_is_the_operator_s() -> None:
    procedure = only_procedure(
        "## Recover\n\n1. Run `kubectl -n rook-ceph exec -it mon-a -- bash` to enter the pod\n"
        "2. Check `kubectl -n rook-ceph get pods`\n"
    )
    enter, check = procedure.steps
    assert enter.kind == "manual" and enter.commands == ()
    assert enter.session == "kubectl -n rook-ceph exec -it mon-a -- bash"
    assert [c.code for c in check.commands] == ["kubectl -n rook-ceph get pods"]


@pytest.mark.parametrize(
    "code",
    [
        "k exec -it web-1 -- sh",
        "k -n prod exec -it web-1 -- bash",
        "kl exec -it instance-manager-e-5453 bash",
        "kubectl exec -it web-1 bash",
        "kc rsh web-1",
    ],
)
def test_aliases_and_the_old_exec_form_open_sessions(code: str) -> None:
    """`k`/`kl`/`kc` stand for kubectl; `exec -it pod bash` is kubectl's old form (no `--`)."""
    assert session_opener(code)
    procedure = only_procedure(fence("sh", f"{code}\nrm -rf /var/lib/cache"))
    (step,) = procedure.steps
    assert step.session == code and step.kind == "manual"
    assert "rm -rf" not in local_codes(procedure)


def test_alias_lines_given_their_input_open_no_session() -> None:
    for code in ("k exec web-1 -- ls", "kl exec -it web-1 ls /tmp", "k get pods", "kl logs x"):
        assert not session_opener(code), code
