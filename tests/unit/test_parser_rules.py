"""Parser rules on small documents: steps, commands, kinds, variables, fences, tables."""

from __future__ import annotations

import pytest

from runbook.document.commands import find_variables, parse_fence_info, split_block
from runbook.document.parser import parse
from runbook.document.values import parse_bound, parse_duration, parse_expected_response
from runbook.execution.risk import classify


def only_procedure(text: str):  # type: ignore[no-untyped-def]
    runbook = parse(text)
    assert len(runbook.procedures) == 1, [p.title for p in runbook.procedures]
    return runbook.procedures[0]


def test_inline_command_in_bullet_item() -> None:
    procedure = only_procedure(
        "## Diagnosis\n\n- Check template via `kubectl -n $NAMESPACE get pod $POD`.\n"
        "- Look at `/metrics` output\n"
    )
    first, second = procedure.steps
    assert first.kind == "command"
    assert first.commands[0].code == "kubectl -n $NAMESPACE get pod $POD"
    assert first.commands[0].variable_names == ("NAMESPACE", "POD")
    assert first.commands[0].risk == "read-only"
    assert second.kind == "manual" and second.commands == ()


def test_prompt_lines_stripped_and_output_dropped() -> None:
    procedure = only_procedure(
        "## Diagnosis\n\nLook at the logs.\n\n```shell\n$ kubectl logs sts/am -c reloader\n\n"
        "level=error msg=failed\n$ kubectl get pods\nNAME READY\n```\n"
    )
    (step,) = procedure.steps
    assert step.text == "Look at the logs."
    assert [c.code for c in step.commands] == [
        "kubectl logs sts/am -c reloader",
        "kubectl get pods",
    ]
    assert [c.line for c in step.commands] == [6, 9]


def test_fence_in_list_item_belongs_to_item() -> None:
    procedure = only_procedure(
        "## Fix\n\n1. Restart it\n\n   ```bash\n   systemctl restart nginx\n   ```\n"
        "2. Wait 30 seconds\n3. Verify: `curl -fsS localhost/health`\n"
    )
    restart, wait, verify = procedure.steps
    assert restart.commands[0].code == "systemctl restart nginx"
    assert restart.commands[0].risk == "mutating"
    assert (wait.kind, wait.wait_s) == ("wait", 30)
    assert verify.commands[0].risk == "read-only"


def test_non_shell_blocks_are_not_commands() -> None:
    runbook = parse(
        "## Layout\n\n```\nsrc/\n├── app.py\n```\n\n## Config\n\n```yaml\nkey: value\n```\n"
    )
    assert runbook.procedures == ()


def test_unlabelled_block_of_commands_is_runnable() -> None:
    procedure = only_procedure("## Check\n\n```\nkubectl get nodes\n```\n")
    assert procedure.steps[0].commands[0].code == "kubectl get nodes"


def test_runme_attributes_and_our_prefix() -> None:
    procedure = only_procedure(
        "## Ops\n\n```sh { name=restart interactive=false rb-risk=destructive rb-timeout=5m }\n"
        "echo restart\n```\n\n"
        '```bash {"name": "probe", "rb-confirm": false}\nmake deploy\n```\n'
    )
    first, second = procedure.steps
    command = first.commands[0]
    assert command.name == "restart"
    assert command.risk == "destructive"
    assert command.timeout_s == 300
    assert ("interactive", "false") in command.attributes
    assert second.commands[0].name == "probe"
    assert second.commands[0].confirm is False


def test_fence_info_forms() -> None:
    assert parse_fence_info("sh").language == "sh"
    info = parse_fence_info('bash { name="a b" excludeFromRunAll=true }')
    assert info.get("name") == "a b" and info.get("excludeFromRunAll") == "true"
    assert parse_fence_info('{"name": "x"}').get("name") == "x"


def test_split_block_keeps_loops_and_heredocs_whole() -> None:
    groups = split_block(
        "# one\nfor x in a b; do\n  # inside\n  echo $x\ndone\n"
        "# two\ncat <<EOF\n# not a comment\nEOF\n",
        1,
    )
    assert [g[0] for g in groups] == [["one"], ["two"]]
    assert "# inside" in groups[0][1]
    assert "# not a comment" in groups[1][1]


def test_continued_lines_stay_one_command() -> None:
    groups = split_block("# build\ndocker build \\\n  # odd but legal\n  -t x .\n", 1)
    assert len(groups) == 1


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Monitor for 5 minutes", "wait", 300),
        ("Wait 90 s for the pods", "wait", 90),
        ("Acknowledge alert within 5 minutes", "deadline", 300),
        ("Escalate if not resolved within 15 minutes", "deadline", 900),
        ("If healthy: decommission blue", "decision", None),
        ("When the queue drains, restart workers", "decision", None),
        ("Monitor for escalation", "manual", None),
        ("Document incident", "manual", None),
    ],
)
def test_step_kinds(text: str, kind: str, value: float | None) -> None:
    step = only_procedure(f"## P\n\n1. {text}\n2. Check it\n").steps[0]
    assert step.kind == kind
    assert (step.wait_s if kind == "wait" else step.deadline_s) == value


@pytest.mark.parametrize(
    ("code", "risk"),
    [
        ("make rollback", "mutating"),
        ("make deploy VERSION=v2", "mutating"),
        ("make status", "read-only"),
        ("make logs-tail", "read-only"),
        ("docker logs -f web", "read-only"),
        ("docker restart web", "mutating"),
        ("docker rm -f web", "destructive"),
        ("docker-compose -f deploy/x.yml up -d", "mutating"),
        ("docker-compose -f deploy/x.yml down", "destructive"),
        ("docker compose -f x.yml logs web", "read-only"),
        ("kubectl -n ns get pods", "read-only"),
        ("kubectl -n ns describe pod p", "read-only"),
        ("kubectl apply -f x.yaml", "mutating"),
        ("kubectl apply -f x.yaml --dry-run=client", "read-only"),
        ("kubectl delete pod p", "destructive"),
        ("kubectl rollout status deploy/web", "read-only"),
        ("kubectl -n ns rollout history deploy/web", "read-only"),
        ("kubectl rollout undo deploy/web", "mutating"),
        ("kubectl config view", "read-only"),
        ("kubectl config use-context prod", "mutating"),
        ("kubectl config get-contexts", "read-only"),
        ("docker image ls", "read-only"),
        ("docker system df", "read-only"),
        ("docker volume create data", "mutating"),
        ("kubectl exec -it p -- cat /etc/hosts", "read-only"),
        ("kubectl exec -it p -- rm -rf /data", "destructive"),
        ("curl http://localhost:3000/health", "read-only"),
        ("curl -X POST http://localhost/-/reload", "mutating"),
        ("curl -XDELETE http://localhost/x", "destructive"),
        ("curl -d a=1 http://localhost/x", "mutating"),
        ("docker images | grep web", "read-only"),
        ("docker stats --no-stream && docker kill web", "destructive"),
        ("echo hi > /etc/motd", "mutating"),
        ("echo hi > /dev/null", "read-only"),
        ("./deploy/update-config.sh prod", "mutating"),
        ("unknown-tool --flag", "mutating"),
        ("sudo systemctl status nginx", "read-only"),
        ("git status", "read-only"),
        ("git reset --hard HEAD~1", "destructive"),
        ("helm rollback web 3", "mutating"),
        ("npm ls --depth=0", "read-only"),
        ("npm run build", "mutating"),
        ("rm -rf /tmp/x", "destructive"),
        ("echo 'unbalanced", "read-only"),
    ],
)
def test_risk_rules(code: str, risk: str) -> None:
    assert classify(code) == risk


def test_variables() -> None:
    variables = find_variables(
        "export NS=prod\nkubectl -n $NS get pod ${POD} --since=${SINCE:-1h} "
        "| awk '{print $1}'\ndocker tag web:<previous-sha> web:current\necho $HOME $1 $?"
    )
    by_name = {v.name: v for v in variables}
    assert set(by_name) == {"NS", "POD", "SINCE", "previous-sha"}
    assert (by_name["NS"].kind, by_name["NS"].default) == ("export", "prod")
    assert by_name["SINCE"].default == "1h"
    assert by_name["previous-sha"].kind == "placeholder"


def test_make_arguments_are_not_assignments() -> None:
    names = [v.name for v in find_variables("make deploy VERSION=$VERSION && X=1 echo $X")]
    assert names == ["VERSION"]


def test_heredoc_marker_is_not_a_placeholder() -> None:
    assert find_variables("cat <<EOF\nx\nEOF\nsort < in.txt > out.txt") == ()


@pytest.mark.parametrize(
    ("text", "op", "value", "unit"),
    [
        ("> 70%", ">", 70, "%"),
        ("> 500ms", ">", 0.5, "s"),
        ("> 1s", ">", 1, "s"),
        (">= 2 GiB", ">=", 2 * 1024**3, "B"),
        ("< 10", "<", 10, ""),
        ("above 3 minutes", ">", 180, "s"),
    ],
)
def test_bounds(text: str, op: str, value: float, unit: str) -> None:
    bound = parse_bound(text)
    assert bound is not None
    assert (bound.op, bound.value, bound.unit) == (op, value, unit)


def test_unparseable_bound_is_none() -> None:
    assert parse_bound("N/A") is None
    assert parse_bound("") is None


def test_durations() -> None:
    assert parse_duration("5 minutes") == 300
    assert parse_duration("500ms") == 0.5
    assert parse_duration("2h") == 7200
    assert parse_duration("soon") is None


def test_expected_response() -> None:
    assert parse_expected_response('`200 OK` with `{status: "healthy"}`') == (
        200,
        {"status": "healthy"},
    )
    assert parse_expected_response("503 while draining") == (503, None)
    assert parse_expected_response("Raw Prometheus format") == (None, None)


def test_label_lists_are_not_procedures() -> None:
    runbook = parse(
        "## Security\n\n- **Secrets:** never commit\n- **Deps:** audit with `npm audit`\n"
    )
    assert runbook.procedures == ()


def test_ragged_table_warns_and_keeps_rows() -> None:
    runbook = parse("| Metric | Warning | Critical |\n|---|---|---|\n| CPU | > 1% |\n")
    assert runbook.thresholds[0].warning is not None
    assert runbook.thresholds[0].critical is None
    assert any("cells" in p.message for p in runbook.problems)


def test_front_matter_and_title() -> None:
    runbook = parse(
        "---\ntitle: Kube Pod Crash Looping\nweight: 20\n---\n\n# KubePodCrashLooping\n"
    )
    assert runbook.title == "Kube Pod Crash Looping"
    assert runbook.metadata == {"title": "Kube Pod Crash Looping", "weight": 20}


def test_broken_front_matter_is_a_warning() -> None:
    runbook = parse("---\ntitle: [unclosed\n---\n\n# T\n")
    assert runbook.title == "T"
    assert any("front matter" in p.message for p in runbook.problems)


def test_duplicate_procedures_reported() -> None:
    runbook = parse("## Fix\n\n1. Restart it\n\n## Fix\n\n1. Restart it again\n")
    assert any("duplicate procedure" in p.message for p in runbook.problems)


def test_links_become_references() -> None:
    runbook = parse("See [Debugging Pods](https://kubernetes.io/docs/debug) now.\n")
    assert [(r.title, r.target) for r in runbook.references] == [
        ("Debugging Pods", "https://kubernetes.io/docs/debug")
    ]


@pytest.mark.parametrize("text", ["\r-", "## Fix\r\r1. Check `kubectl get pods`\r", "- a\r\n- b"])
def test_carriage_returns_count_as_newlines(text: str) -> None:
    runbook = parse(text)
    for procedure in runbook.procedures:
        assert all(step.line >= 1 for step in procedure.steps)


def test_crlf_runbook_keeps_commands() -> None:
    procedure = only_procedure("## Fix\r\n\r\n1. Check `kubectl get pods`\r\n")
    assert procedure.steps[0].commands[0].code == "kubectl get pods"


def test_symptom_list_is_not_a_checklist() -> None:
    procedure = only_procedure(
        "## Diagnosis\n\n- Check pods via `kubectl get pods`\n\nOther things to check:\n\n"
        "- app responding slowly\n- read only filesystem\n- wrong user permissions\n"
    )
    assert len(procedure.steps) == 1
    assert "read only filesystem" in procedure.steps[0].text


def test_transcript_session_keeps_assignments_with_the_command_opening_it() -> None:
    procedure = only_procedure(
        "## Mitigation\n\nDebug the node:\n\n```shell\n$ NODE_NAME=node-1\n"
        "$ kubectl -n default debug node/$NODE_NAME\n$ chroot /host\n```\n"
    )
    (step,) = procedure.steps
    assert step.text.startswith("Debug the node:\n\nInside `kubectl -n default debug node/")
    # `chroot /host` runs on the node, inside the debug pod: never as a local command.
    assert step.kind == "manual" and step.commands == ()
    assert step.session == "NODE_NAME=node-1\nkubectl -n default debug node/$NODE_NAME"
    assert [c.code for c in step.session_commands] == ["chroot /host"]
