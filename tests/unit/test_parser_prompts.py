"""Terminal transcripts: which lines are commands (after a prompt), which are output, and
lines that are never shell commands (issue 13 item 4; issue 12 item 17 for loops)."""

from __future__ import annotations

import pytest

from runbook.document.commands import split_block
from runbook.document.parser import parse
from runbook.document.shell import nesting_change, output_kind, read_prompt
from runbook.model import Procedure


def only_procedure(text: str) -> Procedure:
    runbook = parse(text)
    assert len(runbook.procedures) == 1, [p.title for p in runbook.procedures]
    return runbook.procedures[0]


def codes(text: str) -> list[str]:
    """Every command code of the document's one procedure, in order."""
    return [c.code for step in only_procedure(text).steps for c in step.commands]


def fence(language: str, body: str) -> str:
    return f"## Check\n\n```{language}\n{body}\n```\n"


# -- issue 12 item 17: a compound command on one line ends where it ends ---------


@pytest.mark.parametrize(
    "first",
    [
        "for i in 1 2; do echo $i; done",
        "while true; do date; sleep 1; done",
        "until curl -fs localhost; do sleep 1; done",
        "if [ -f /tmp/x ]; then echo y; fi",
        "case $x in a) echo a;; esac",
        "for i in 1 2\ndo\n  # inside the loop\n  echo $i\ndone",
        "kubectl get pod \\\n  # still the same command\n  -o wide",
        "cat <<EOF\n# in the heredoc\nEOF",
        "curl -d '{\n# in the quoted body\n}' http://localhost",
        "restart() {\n  # in the function\n  echo\n}",
    ],
)
def test_compound_command_does_not_swallow_the_next_comment_group(first: str) -> None:
    procedure = only_procedure(fence("bash", f"{first}\n# Say hi\necho hi"))
    assert [s.title for s in procedure.steps][1:] == ["Say hi"]
    assert procedure.steps[0].commands[0].code == first
    assert procedure.steps[1].commands[0].code == "echo hi"


def test_nesting_counts_words_not_line_starts() -> None:
    assert nesting_change("for i in 1 2; do echo $i; done") == 0
    assert nesting_change("for i in 1 2; do") == 1
    assert nesting_change("done") == -1
    assert nesting_change("echo 'for if while'") == 0
    assert nesting_change("echo done # for") == 0


# -- prompts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "prompt", "code"),
    [
        ("$ kubectl get pods", "$", "kubectl get pods"),
        ("user@host:~$ df -h", "user@host:~$", "df -h"),
        ("[root@host ~]# systemctl restart kubelet", "[root@host ~]#", "systemctl restart kubelet"),
        ("sh-5.1$ ls /host", "sh-5.1$", "ls /host"),
        ("sh-4.4# chroot /host", "sh-4.4#", "chroot /host"),
        ("[cluster-1]$ kubectl get nodes", "[cluster-1]$", "kubectl get nodes"),
        ("node-1:/home/ec2-user # kubectl get pod", "node-1:/home/ec2-user #", "kubectl get pod"),
        ("PS C:\\> Get-Service docker", "PS C:\\>", "Get-Service docker"),
        ("-> kubectl get -oyaml volume", "->", "kubectl get -oyaml volume"),
        ("# dnf install gdb -y", "#", "dnf install gdb -y"),
        ("(venv) $ pip install x", "(venv) $", "pip install x"),
    ],
)
def test_prompt_styles_are_read(line: str, prompt: str, code: str) -> None:
    assert read_prompt(line) == (prompt, code)


@pytest.mark.parametrize(
    "line",
    [
        "# Restart the service",  # a comment, not a root prompt
        "mysql> SELECT 1;",
        "redis> GET key",
        "127.0.0.1:6379> INFO",
        "postgres=# \\dt",
        "gpg/card> admin",
        "(gdb) bt",
        "(pprof) top 30",
        "  % Total    % Received % Xferd",  # curl's progress meter
        "-> this arrow points at prose",
    ],
)
def test_other_lines_are_not_shell_prompts(line: str) -> None:
    assert read_prompt(line) is None


def test_root_prompt_only_where_a_transcript_may_be() -> None:
    assert read_prompt("# systemctl status kubelet", root=False) is None
    assert codes(fence("console", "# systemctl status kubelet")) == ["systemctl status kubelet"]
    # In a script, `# ...` is a comment: nothing runs, and the block says why.
    runbook = parse(fence("sh", "# systemctl status kubelet"))
    assert not runbook.procedures
    assert "root prompt" in runbook.problems[0].message


def test_console_transcript_runs_prompted_lines_only() -> None:
    body = (
        "user@host:~$ kubectl get pods\nNAME   READY   STATUS\nweb-1  1/1     Running\n"
        "user@host:~$ kubectl logs web-1 | tail -2\n"
        "E0219 01:25:20.123456 1 update.go:2641] failed to sync\n"
        "update.go:2641] retrying\n"
        "2024-02-19T01:25:20Z level=error msg=boom"
    )
    assert codes(fence("console", body)) == ["kubectl get pods", "kubectl logs web-1 | tail -2"]


@pytest.mark.parametrize("language", ["text", "", "shell-session", "terminal"])
def test_plain_and_session_fences_read_prompts(language: str) -> None:
    body = "[root@node1 ~]# crictl ps\nCONTAINER  IMAGE\nabc123     nginx"
    assert codes(fence(language, body)) == ["crictl ps"]


def test_prompt_context_is_kept_and_shown_on_the_step() -> None:
    procedure = only_procedure(
        fence(
            "console",
            "[cluster-1]$ kubectl get nodes\nnode-1 Ready\n[cluster-2]$ kubectl get nodes",
        )
    )
    first, second = procedure.steps  # two hosts: two steps
    assert first.commands[0].code == "kubectl get nodes"
    assert first.commands[0].prompt == "[cluster-1]"
    assert "prompt: `[cluster-1]`" in first.text
    assert second.commands[0].prompt == "[cluster-2]"
    dumped = parse(fence("console", "[cluster-1]$ kubectl get nodes")).to_dict()
    assert dumped["procedures"][0]["steps"][0]["commands"][0]["prompt"] == "[cluster-1]"


def test_continuation_lines_join_their_command() -> None:
    body = "$ kubectl get pods \\\n>   -o wide\nNAME\n$ cat <<EOF > /tmp/x\n> a: 1\n> EOF"
    assert codes(fence("console", body)) == [
        "kubectl get pods \\\n  -o wide",
        "cat <<EOF > /tmp/x\na: 1\nEOF",
    ]


def test_powershell_prompt() -> None:
    assert codes(fence("console", "PS C:\\> Get-Service docker\nRunning docker")) == [
        "Get-Service docker"
    ]


# -- lines that are never shell ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("E0219 01:25:20.123456       1 update.go:2641] failed", "a log line"),
        ("update.go:2641] Unable to sync", "a log line"),
        ("2024-02-19T01:25:20.000Z INFO started", "a log line"),
        ("[51717.039319] INFO: task blocked", "a log line"),
        ("histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))", "PromQL"),
        ("sum by (pod) (rate(container_cpu_usage_seconds_total[5m]))", "PromQL"),
        ("rate(http_requests_total[5m])", "PromQL"),
        ('up{job="etcd"} == 0', "PromQL"),
        ('{"status": "healthy"}', "JSON"),
        ('  "replicas": 3,', "JSON"),
        ("apiVersion: v1", "YAML"),
        ("  - name: web", "YAML"),
        ("SELECT * FROM pg_stat_activity;", "SQL"),
        ("select pid from pg_locks;", "SQL"),
        ("\\dt", "SQL"),
        ("gpg/card> admin", "another program's prompt"),
        ("mysql> SHOW PROCESSLIST;", "another program's prompt"),
        ("(gdb) bt", "another program's prompt"),
    ],
)
def test_lines_that_are_not_shell(line: str, kind: str) -> None:
    assert output_kind(line) == kind


@pytest.mark.parametrize(
    "line",
    [
        "kubectl get pods -o json",
        "curl -s 'http://prom:9090/api/v1/query?query=rate(x[5m])'",
        "echo SELECT",
        "export NS=default",
        "./scripts/restart.sh",
        "[ -f /tmp/x ] && rm /tmp/x",
    ],
)
def test_shell_lines_are_not_output(line: str) -> None:
    assert output_kind(line) is None


@pytest.mark.parametrize(
    "body",
    [
        "histogram_quantile(0.99, sum by (le) (rate(apiserver_request_seconds_bucket[5m])))",
        "sum by (pod) (rate(container_cpu_usage_seconds_total[5m]))",
        "E0219 01:25:20.123456       1 update.go:2641] failed to sync",
        '{\n  "status": "healthy"\n}',
        "apiVersion: v1\nkind: Pod",
        "SELECT * FROM pg_stat_activity;",
    ],
)
def test_shell_labelled_block_of_non_shell_is_not_run_and_says_why(body: str) -> None:
    runbook = parse(fence("sh", body))
    assert not runbook.procedures
    (problem,) = runbook.problems
    assert problem.line == 3
    assert "not shell commands: read as output, not run" in problem.message


def test_output_after_a_command_in_a_script_is_left_out() -> None:
    body = "kubectl logs web-1\nE0219 01:25:20.123456 1 update.go:2641] failed\nkubectl get pods"
    assert codes(fence("bash", body)) == ["kubectl logs web-1\nkubectl get pods"]


def test_pprof_commands_are_not_extracted() -> None:
    body = (
        "$ go tool pprof http://localhost:6060/debug/pprof/heap\n(pprof) top 30\n(pprof) list main"
    )
    procedure = only_procedure(fence("console", body))
    assert [c.code for s in procedure.steps for c in s.commands] == []
    (step,) = procedure.steps
    assert step.session == "go tool pprof http://localhost:6060/debug/pprof/heap"
    assert [c.code for c in step.session_commands] == ["top 30\nlist main"]


def test_split_block_gives_one_group_per_prompt() -> None:
    groups = split_block("$ a=1\n$ echo $a\nout\n[c1]$ kubectl get ns", 1, "console")
    assert [(g.code, g.prompt) for g in groups] == [
        ("a=1\necho $a", None),
        ("kubectl get ns", "[c1]"),
    ]


def test_console_script_whose_comments_start_with_a_program_name_stays_a_script() -> None:
    body = (
        "# Find the device name, such as rbd0\nlsblk | grep rbd\n"
        "# Mount the block device\nmkdir /tmp/v\nmount /dev/rbd0 /tmp/v"
    )
    procedure = only_procedure(fence("console", body))
    assert [s.title for s in procedure.steps] == [
        "Find the device name, such as rbd0",
        "Mount the block device",
    ]
    assert codes(fence("console", body)) == [
        "lsblk | grep rbd",
        "mkdir /tmp/v\nmount /dev/rbd0 /tmp/v",
    ]


def test_root_prompt_before_output_is_read() -> None:
    body = "# kubectl get secret token -o jsonpath='{.data.token}' | base64 -d\neyJmc2lkIjoi0=="
    assert codes(fence("console", body)) == [
        "kubectl get secret token -o jsonpath='{.data.token}' | base64 -d"
    ]


def test_console_block_of_output_without_prompts_gives_no_command() -> None:
    body = (
        "2018-01-21 21:52:35.071462 7f96a3b82700  0 monclient(hunting): timed out\n"
        "[errno 110] error connecting to the cluster"
    )
    runbook = parse(fence("console", body))
    assert not runbook.procedures
    assert "not shell commands" in runbook.problems[0].message


def test_elided_output_and_nested_yaml_keys_are_not_commands() -> None:
    body = "kubectl edit cm kube-proxy-config\n...\n      longhorn.io/node: worker-1\n..."
    assert codes(fence("bash", body)) == ["kubectl edit cm kube-proxy-config"]


@pytest.mark.parametrize(
    "line",
    [
        '[ -n "$NS" ] # the namespace must be set',
        "[[ -f /tmp/x ]] # a test, not a prompt",
        "~/bin/restart $SERVICE",
        "scp backup.tar host:/tmp/ # copy",
    ],
)
def test_script_lines_are_not_prompts(line: str) -> None:
    assert read_prompt(line) is None
    assert codes(fence("bash", f"{line}\necho done")) == [f"{line}\necho done"]


def test_a_lone_value_printed_after_output_is_output() -> None:
    """etcd's election example: `proposal1` is printed after the key line, not run."""
    body = (
        "./etcdctl elect my-election proposal1\nmy-election/694d99fafea88404\nproposal1\n\n"
        "another election:\n./etcdctl elect new-election proposal1\n"
        "new-election/694d99fafea8840f\nproposal1"
    )
    runbook = parse(fence("shell", body))
    found = [c.code for p in runbook.procedures for s in p.steps for c in s.commands]
    assert "proposal1" not in "\n".join(found).split("\n")
    assert any("./etcdctl elect new-election proposal1" in code for code in found)
    # A lone word not after output is a command all the same (`reboot`, `make`).
    script = parse(fence("sh", "uptime\nmystatus"))
    assert [c.code for p in script.procedures for s in p.steps for c in s.commands] == [
        "uptime\nmystatus"
    ]


def test_settings_nothing_reads_are_no_commands_but_settings_read_later_are() -> None:
    """Longhorn's `K3S_RESOLV_CONF=/etc/resolv.conf` fence is a line for an env file."""
    runbook = parse(fence("shell", "K3S_RESOLV_CONF=/etc/resolv.conf\nRKE2_RESOLV_CONF=/etc/x"))
    assert not runbook.procedures
    assert [(p.line, p.message.split(" (")[0]) for p in runbook.problems] == [
        (3, "block holds only settings that nothing in the runbook reads")
    ]
    used = parse(fence("sh", "NAMESPACE=prod") + "\n```sh\nkubectl -n $NAMESPACE get pods\n```\n")
    codes_ = [c.code for p in used.procedures for s in p.steps for c in s.commands]
    assert codes_[0] == "NAMESPACE=prod"


ROOT_TRANSCRIPT = (
    "```sh\n# docker ps\nCONTAINER ID   IMAGE          NAMES\n"
    "4b9f29881a7b   engine:v1.6.2  carson\n```\n"
)
"""A script fence showing a root prompt and its output: the author writes `# ` for root."""


def test_a_lone_root_prompted_line_is_a_command_where_the_author_writes_root_prompts() -> None:
    """Longhorn's orphaned-replica KB: `# docker ps` with its output, then a fence holding
    only `# docker stop <container_id>` after "stop the container using its ID:"."""
    text = (
        f"## Clean up\n\nFind the container ID:\n\n{ROOT_TRANSCRIPT}\n"
        "Then, stop the container using its ID:\n\n```sh\n# docker stop <container_id>\n```\n"
    )
    runbook = parse(text)
    listing, stop = runbook.procedures[0].steps
    assert [c.code for c in listing.commands] == ["docker ps"]
    (command,) = stop.commands
    assert command.code == "docker stop <container_id>"
    assert command.risk == "mutating"
    assert [v.name for v in command.variables] == ["container_id"]
    assert not [p for p in runbook.problems if "root prompt" in p.message]


@pytest.mark.parametrize(
    ("body", "runs"),
    [
        ("# Restart the service", []),  # prose after `#`: a comment, whoever writes it
        (
            "# kubectl get pods\nkubectl -n app delete pod web-0",
            ["kubectl -n app delete pod web-0"],
        ),
        ("# First look\n# kubectl get pods", []),  # a comment beside it: all comments
    ],
)
def test_the_authors_root_prompts_leave_script_comments_comments(
    body: str, runs: list[str]
) -> None:
    runbook = parse(f"## Check\n\n{ROOT_TRANSCRIPT}\n```sh\n{body}\n```\n")
    codes_run = [c.code for p in runbook.procedures for s in p.steps for c in s.commands]
    assert codes_run == ["docker ps", *runs]
