"""A warning or note belongs to the step that follows it (issue 13, item 7).

It is never text of the step before it, the step after it carries it into its plan and
confirmation, and one that no step follows stays with its section.
"""

from __future__ import annotations

import pytest

from runbook.document.parser import parse
from runbook.execution.plan import plan
from runbook.model import Procedure, Step

DELETE = "```sh\nkubectl -n app delete pvc data-0\n```\n"
LIST = "```sh\nkubectl -n app get pvc\n```\n"


def only_procedure(text: str) -> Procedure:
    runbook = parse(text)
    assert len(runbook.procedures) == 1, [p.title for p in runbook.procedures]
    return runbook.procedures[0]


def list_then_delete(admonition: str) -> tuple[Step, Step]:
    """The steps of a section: list the claims, the admonition, delete one."""
    procedure = only_procedure(f"## Mitigation\n\n{LIST}\n{admonition}\n\n{DELETE}")
    listing, delete = procedure.steps
    assert delete.commands[0].code == "kubectl -n app delete pvc data-0"
    return listing, delete


@pytest.mark.parametrize(
    ("admonition", "kind", "said"),
    [
        (
            "**DO NOT RUN THE FOLLOWING ON A POOL REPOSITORY**",
            "warning",
            "DO NOT RUN THE FOLLOWING ON A POOL REPOSITORY",
        ),
        ("**Do not run this while a backup is in progress.**", "warning", "Do not run this"),
        ("> **Warning**\n> The claim's data is lost.", "warning", "The claim's data is lost."),
        ("> **Warning:** the claim's data is lost.", "warning", "the claim's data is lost."),
        ("> [!WARNING]\n> The claim's data is lost.", "warning", "The claim's data is lost."),
        ("> [!CAUTION]\n> The claim's data is lost.", "warning", "The claim's data is lost."),
        ("> [!NOTE]\n> The claim is recreated.", "note", "The claim is recreated."),
        ("!!! danger\n    The claim's data is lost.", "warning", "The claim's data is lost."),
        (
            '!!! warning "Data loss"\n    The claim is gone for good.',
            "warning",
            "Data loss: The claim is gone for good.",
        ),
        ("!!! note\n    The claim is recreated.", "note", "The claim is recreated."),
        (":::warning\nThe claim's data is lost.\n:::", "warning", "The claim's data is lost."),
        ("**Caution:** the claim's data is lost.", "warning", "the claim's data is lost."),
        ("**Important**: take a snapshot first.", "warning", "take a snapshot first."),
        ("**Note:** the claim is recreated.", "note", "the claim is recreated."),
        ("WARNING: the claim's data is lost.", "warning", "the claim's data is lost."),
    ],
)
def test_admonition_belongs_to_the_next_step(admonition: str, kind: str, said: str) -> None:
    listing, delete = list_then_delete(admonition)
    (found,) = delete.admonitions
    assert found.kind == kind
    assert found.text.startswith(said)
    assert found.line == 7
    assert not listing.admonitions
    # Neither step's text holds it: it is shown once, marked, with the step it is about.
    assert said not in listing.text
    assert delete.title == "Run kubectl -n app delete pvc data-0"


def test_docusaurus_block_over_several_paragraphs_is_one_admonition() -> None:
    _, delete = list_then_delete(
        ":::danger Irreversible\n\nThe claim's data is lost.\n\nTake a snapshot first.\n\n:::"
    )
    (found,) = delete.admonitions
    assert found.kind == "warning"
    assert found.text.startswith("Irreversible: The claim's data is lost.")
    assert "Take a snapshot first." in found.text


def test_admonition_before_a_list_goes_to_its_first_step() -> None:
    procedure = only_procedure(
        "## Mitigation\n\n"
        "1. Check the claims `kubectl -n app get pvc`\n\n"
        "> [!CAUTION]\n> Deleting a claim deletes its volume.\n\n"
        "1. Delete the claim `kubectl -n app delete pvc data-0`\n"
        "2. Restart the pod `kubectl -n app delete pod web-0`\n"
    )
    check, delete, restart = procedure.steps
    assert not check.admonitions and not restart.admonitions
    assert [a.text for a in delete.admonitions] == ["Deleting a claim deletes its volume."]
    assert "Deleting" not in check.text


def test_lead_paragraph_stays_the_steps_text_beside_its_warning() -> None:
    procedure = only_procedure(
        f"## Mitigation\n\n{LIST}\nDelete the stuck claim:\n\n"
        f"!!! warning\n    Its data is lost.\n\n{DELETE}"
    )
    delete = procedure.steps[1]
    assert delete.title == "Delete the stuck claim:"
    assert [a.text for a in delete.admonitions] == ["Its data is lost."]


def test_warning_that_no_step_follows_stays_with_the_section() -> None:
    procedure = only_procedure(
        f"## Mitigation\n\n{DELETE}\n**Warning:** the volume is not reclaimed for an hour.\n"
    )
    (delete,) = procedure.steps
    assert not delete.admonitions
    assert "reclaimed" not in delete.text
    (found,) = procedure.admonitions
    assert (found.kind, found.text) == ("warning", "the volume is not reclaimed for an hour.")
    shown = parse(
        f"## Mitigation\n\n{DELETE}\n**Warning:** the volume is not reclaimed for an hour.\n"
    ).to_dict()["procedures"][0]
    assert shown["admonitions"][0]["text"] == "the volume is not reclaimed for an hour."


def test_warning_in_a_section_without_steps_stays_its_text() -> None:
    runbook = parse("## Background\n\n> **Warning**\n> Never scale the pool below three.\n")
    assert not runbook.procedures
    assert "Never scale the pool below three." in runbook.sections[0].body


@pytest.mark.parametrize(
    "paragraph",
    [
        "> A quote from the incident channel.",
        "**Important points**",
        "**Step 2**",
        "Note that the claim is recreated by the operator.",
    ],
)
def test_other_paragraphs_and_quotes_are_not_admonitions(paragraph: str) -> None:
    listing, delete = list_then_delete(paragraph)
    assert not delete.admonitions
    assert paragraph.lstrip("> *")[:10] in listing.text + delete.text


def test_the_plan_and_its_description_carry_the_warning() -> None:
    runbook = parse(
        f"## Mitigation\n\n{LIST}\n**DO NOT RUN THE FOLLOWING ON A POOL REPOSITORY**\n\n{DELETE}"
    )
    procedure = runbook.procedures[0]
    assert not plan(runbook, procedure, 1).admonitions
    planned = plan(runbook, procedure, 2)
    assert planned.needs_confirmation
    described = planned.describe().splitlines()
    assert described[1] == (
        "  ⚠ Warning from the runbook: DO NOT RUN THE FOLLOWING ON A POOL REPOSITORY"
    )
    step = runbook.to_dict()["procedures"][0]["steps"][1]
    assert step["admonitions"] == [
        {"kind": "warning", "text": "DO NOT RUN THE FOLLOWING ON A POOL REPOSITORY", "line": 7}
    ]


def test_an_admonition_that_gives_an_order_with_a_command_is_a_step_and_still_warns() -> None:
    """Rook's OpenShift page: `!!! attention` "Switch to `rook-ceph` namespace using
    `oc project rook-ceph`." above the numbered steps: the command is a step of its own,
    and the admonition still speaks to the step after it."""
    procedure = only_procedure(
        "## Troubleshoot\n\n!!! attention\n"
        "    Switch to `rook-ceph` namespace using `oc project rook-ceph`.\n\n"
        f"1. Delete the claim\n\n    {DELETE.replace(chr(10), chr(10) + '    ')}"
    )
    switch, delete = procedure.steps
    assert [c.code for c in switch.commands] == ["oc project rook-ceph"]
    assert switch.commands[0].risk == "mutating"
    assert switch.text.startswith("Switch to `rook-ceph` namespace")
    assert [a.kind for a in switch.admonitions] == ["warning"]
    assert delete.commands[0].code == "kubectl -n app delete pvc data-0"
    assert [a.text for a in delete.admonitions] == [switch.admonitions[0].text]


@pytest.mark.parametrize(
    "admonition",
    [
        "!!! note\n    These images need to be cleaned up manually using `rbd rm`.",
        "> **Warning:** do not run `kubectl -n app delete pvc data-0` twice.",
        "!!! danger\n    The `kubectl delete` below loses the claim's data.",
    ],
)
def test_an_admonition_that_only_names_a_command_gives_no_step(admonition: str) -> None:
    listing, delete = list_then_delete(admonition)
    assert len(delete.admonitions) == 1 and not listing.admonitions
