"""Shell variables a runbook assigns itself (issue 13 item 6): a value computed by a
command is never offered as a literal, an earlier step's assignment travels to the step
that reads it (each step has its own shell), and `check` names a variable nothing sets."""

from __future__ import annotations

from pathlib import Path

from runbook.config import Config, EnvironmentConfig
from runbook.document.check import check_file
from runbook.document.parser import parse
from runbook.execution.plan import plan
from runbook.execution.resolve import suggestions
from runbook.model import Procedure, Variable

KUBEVIRT = 'export NS="$(oc get kubevirt -A -o jsonpath={.items[0].metadata.namespace})"'


def procedure_of(*fences: str, between: str = "Then:") -> Procedure:
    """One procedure, one numbered step per fence."""
    items = "".join(
        f"{index}. {between}\n\n   ```sh\n   {body.replace(chr(10), chr(10) + '   ')}\n   ```\n\n"
        for index, body in enumerate(fences, start=1)
    )
    runbook = parse(f"# Runbook\n\n## Fix\n\n{items}")
    assert len(runbook.procedures) == 1
    return runbook.procedures[0]


def variables(procedure: Procedure, step: int) -> dict[str, Variable]:
    found = procedure.steps[step - 1].commands[0].variables
    return {variable.name: variable for variable in found}


def planned_code(procedure: Procedure, step: int, **options: object) -> tuple[str, tuple[str, ...]]:
    runbook = parse("")
    made = plan(runbook, procedure, step, environ={}, **options)  # type: ignore[arg-type]
    return "\n".join(made.resolved_commands), made.missing


def test_a_value_computed_by_a_command_is_never_a_default() -> None:
    procedure = procedure_of(KUBEVIRT, "oc -n $NS get vmi")
    for step in (1, 2):
        assert all(
            "$(" not in (variable.default or "") for variable in variables(procedure, step).values()
        )


def test_the_same_fence_runs_the_assignment_itself() -> None:
    procedure = procedure_of(f"{KUBEVIRT}\noc -n $NS get vmi")
    code, missing = planned_code(procedure, 1)
    assert code == f"{KUBEVIRT}\noc -n $NS get vmi"
    assert missing == ()


def test_an_earlier_steps_assignment_travels_to_the_step_that_reads_it() -> None:
    procedure = procedure_of(KUBEVIRT, "oc -n $NS get vmi")
    assert procedure.steps[1].commands[0].carried == (KUBEVIRT,)
    shown = parse(f"## Fix\n\n```sh\n{KUBEVIRT}\n```\n\n```sh\noc -n $NS get vmi\n```\n").to_dict()
    assert [s["commands"][0].get("carried") for s in shown["procedures"][0]["steps"]] == [
        None,
        [KUBEVIRT],
    ]
    assert variables(procedure, 2)["NS"].kind == "export"  # the runbook sets it: never asked
    code, missing = planned_code(procedure, 2)
    assert code == f"{KUBEVIRT}\noc -n $NS get vmi"  # what the confirmation shows and bash runs
    assert missing == ()


def test_a_literal_is_offered_never_used_unasked() -> None:
    procedure = procedure_of('DISK="/dev/sdX"', "sgdisk --zap-all $DISK")
    assert procedure.steps[1].commands[0].carried == ()
    disk = variables(procedure, 2)["DISK"]
    assert (disk.kind, disk.default, disk.earlier_value) == ("env", None, "/dev/sdX")
    assert disk.assigned_by == 'step 1: DISK="/dev/sdX"'
    assert suggestions(procedure.steps[1].commands[0], disk) == ["/dev/sdX"]
    code, missing = planned_code(procedure, 2)
    assert missing == ("DISK",)  # a destructive step never runs on an example value
    code, missing = planned_code(procedure, 2, values={"DISK": "/dev/sdb"})
    assert (code, missing) == ("sgdisk --zap-all /dev/sdb", ())


def test_the_config_gives_a_carried_variable_its_value() -> None:
    procedure = procedure_of(KUBEVIRT, "oc -n $NS get vmi")
    config = Config(environments={"Staging": EnvironmentConfig("Staging", env={"NS": "vms"})})
    code, _ = planned_code(procedure, 2, environment="Staging", config=config)
    assert code == "export NS=vms\noc -n $NS get vmi"  # as step 1 would run with it


def test_what_a_carried_line_reads_comes_with_it() -> None:
    procedure = procedure_of(
        "export CLUSTER=$(kubectl config current-context)",
        'export CTX="$(kubectl config get-contexts $CLUSTER -o name)"',
        "kubectl get pods",
        "kubectl --context $CTX get nodes",
    )
    assert procedure.steps[3].commands[0].carried == (
        "export CLUSTER=$(kubectl config current-context)",
        'export CTX="$(kubectl config get-contexts $CLUSTER -o name)"',
    )
    assert procedure.steps[2].commands[0].carried == ()


def test_an_assignment_that_is_unsafe_to_repeat_is_asked_for_with_its_origin() -> None:
    procedure = procedure_of(
        "TOKEN=$(curl -fsS -X POST https://auth.example.com/login)",
        'curl -H "Authorization: Bearer $TOKEN" https://api.example.com/status',
    )
    token = variables(procedure, 2)["TOKEN"]
    assert token.kind == "env"
    assert token.assigned_by is not None and token.assigned_by.startswith("step 1: TOKEN=$(curl")
    code, missing = planned_code(procedure, 2)
    assert "POST" not in code  # a mutating request is never sent again behind the operator
    assert missing == ("TOKEN",)


def test_a_read_or_loop_variable_is_not_carried() -> None:
    procedure = procedure_of('read -r -p "Namespace: " NS', "kubectl -n $NS get pods")
    assert procedure.steps[1].commands[0].carried == ()
    assert variables(procedure, 2)["NS"].assigned_by == 'step 1: read -r -p "Namespace: " NS'
    procedure = procedure_of("for NODE in a b; do echo $NODE; done", "kubectl drain $NODE")
    assert procedure.steps[1].commands[0].carried == ()
    assert variables(procedure, 2)["NODE"].assigned_by is not None


def test_commands_of_one_step_share_a_shell() -> None:
    text = (
        "## Fix\n\n1. Find the pod, then read its logs:\n\n"
        "   ```sh\n   export POD=$(kubectl get pod -l app=web -o name | head -1)\n   ```\n\n"
        "   ```sh\n   kubectl logs $POD\n   ```\n"
    )
    (step,) = parse(text).procedures[0].steps
    assert len(step.commands) == 2
    assert step.commands[1].variables == ()
    assert step.commands[1].carried == ()


def test_a_literal_an_earlier_command_of_the_step_assigns_is_offered() -> None:
    text = (
        "## Fix\n\n1. Run the script. You will need to replace `BACKEND_URL`.\n\n"
        '   ```sh\n   # Replace this\n   BACKEND_URL="18.141.237.97:32595"\n\n'
        "   # Request the bundle\n   curl -sSX POST http://${BACKEND_URL}/v1/supportbundles\n"
        "   ```\n"
    )
    steps = parse(text).procedures[0].steps
    commands = [c for step in steps for c in step.commands]
    assert len(commands) == 2
    (url,) = commands[1].variables
    assert (url.name, url.kind, url.earlier_value) == ("BACKEND_URL", "env", "18.141.237.97:32595")


def write(tmp_path: Path, text: str) -> str:
    (tmp_path / ".git").mkdir(exist_ok=True)
    path = tmp_path / "runbook.md"
    path.write_text(text)
    return str(path)


def unassigned(result: dict[str, object]) -> list[tuple[int, str]]:
    problems = result["problems"]
    assert isinstance(problems, list)
    return [
        (p["line"], p["message"].split(" ", 1)[0])
        for p in problems
        if "never assigned" in p["message"] and p["severity"] == "warning"
    ]


def test_check_names_a_variable_nothing_sets_once_per_procedure(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "## Fix\n\n```sh\nkubectl -n $NAMESPACE get pods\nkubectl -n $NAMESPACE logs $POD\n```\n\n"
        "## Again\n\n```sh\nkubectl -n $NAMESPACE get events\n```\n",
    )
    assert unassigned(check_file(path)) == [(4, "$NAMESPACE"), (4, "$POD"), (11, "$NAMESPACE")]


def test_check_accepts_every_source_of_a_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "## Fix\n\n"
        f"1. Find it:\n\n   ```sh\n   {KUBEVIRT}\n"
        "   TOKEN=$(curl -X POST https://x/login)\n   ```\n\n"
        '2. Use it:\n\n   ```sh\n   oc -n $NS get vmi\n   curl -H "X: $TOKEN" https://x/\n'
        "   echo $HOME $USER $PWD $HOSTNAME $KUBECONFIG $1 $@ $? ${REGION:-eu-west-1} $CONFIGURED\n"
        "   for node in a b; do echo $node; done\n   ```\n\n"
        "3. Check `$COLOUR`, blue or green: `docker logs web-$COLOUR`\n",
    )
    assert unassigned(check_file(path, known={"CONFIGURED"})) == []
    assert unassigned(check_file(path)) == [(13, "$CONFIGURED")]
