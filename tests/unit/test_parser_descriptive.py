"""Lists of causes, symptoms and impact are text, not checklists (issue 13, item 8).

Under such a heading an item is a step only when it holds a command or gives an order;
the others stay the section's text, and an item with a runnable fence is a step still.
"""

from __future__ import annotations

import pytest

from runbook.document.parser import parse
from runbook.model import Runbook, Section


def section_body(runbook: Runbook, title: str) -> str:
    def walk(sections: tuple[Section, ...]) -> list[Section]:
        return [found for s in sections for found in (s, *walk(s.children))]

    return next(s.body for s in walk(runbook.sections) if s.title == title)


@pytest.mark.parametrize(
    "heading",
    [
        "Possible causes",
        "Causes",
        "Root cause",
        "Symptoms",
        "Symptom 2",
        "Impact",
        "Indicators",
        "Background",
        "Related alerts",
        "References",
        "See also",
        "Description",
    ],
)
@pytest.mark.parametrize("marker", ["1.", "-"])
def test_list_of_causes_is_no_checklist(heading: str, marker: str) -> None:
    runbook = parse(
        f"# Disk pressure\n\n## {heading}\n\n"
        f"{marker} Disk full on the node\n"
        f"{marker} Log rotation stopped after the upgrade\n"
        f"{marker} Increase in write traffic from the batch jobs\n"
        f"{marker} **Apply errors** (`pg_stat_subscription`): rows the subscriber refused\n"
    )
    assert not runbook.procedures, [s.title for p in runbook.procedures for s in p.steps]
    body = section_body(runbook, heading)
    for said in ("Disk full on the node", "Log rotation stopped", "Increase in write traffic"):
        assert said in body  # nothing the author wrote is lost


def test_item_with_a_fence_under_symptoms_is_a_step() -> None:
    runbook = parse(
        "## Symptoms\n\n"
        "- Pods restart every few minutes\n"
        "- The kubelet reports disk pressure:\n\n"
        "  ```sh\n  kubectl describe node worker-1 | grep -i pressure\n  ```\n"
        "- Users see timeouts\n"
    )
    (procedure,) = runbook.procedures
    (step,) = procedure.steps
    assert step.commands[0].code == "kubectl describe node worker-1 | grep -i pressure"
    assert step.title == "The kubelet reports disk pressure:"
    assert "Pods restart every few minutes" in procedure.intro
    assert "Users see timeouts" in step.text


def test_item_with_an_inline_command_under_impact_is_a_step() -> None:
    runbook = parse(
        "## Impact\n\n"
        "1. Writes to the volume fail\n"
        "2. Backups stop; see `kubectl -n longhorn-system get backups`\n"
    )
    (procedure,) = runbook.procedures
    (step,) = procedure.steps
    assert step.commands[0].code == "kubectl -n longhorn-system get backups"
    assert procedure.intro == "1. Writes to the volume fail"


def test_an_order_under_a_descriptive_heading_is_a_step() -> None:
    runbook = parse(
        "## Possible causes\n\n"
        "- Disk full on the node\n"
        "- Check the node's disk usage on the dashboard\n"
    )
    (procedure,) = runbook.procedures
    (step,) = procedure.steps
    assert step.title == "Check the node's disk usage on the dashboard"
    assert procedure.intro == "- Disk full on the node"


@pytest.mark.parametrize(
    "heading", ["Possible causes and solutions", "Mitigation", "Cause 1: a stale lease"]
)
def test_other_headings_keep_their_checklists(heading: str) -> None:
    runbook = parse(f"## {heading}\n\n1. Drain the node\n2. Disk full on the node\n")
    (procedure,) = runbook.procedures
    assert len(procedure.steps) == 2
