"""The parser against the hand-labelled fidelity set (tests/fixtures/fidelity, read by
tests/fidelity_set.py): the safety floor holds and the figures never fall.

The floors are the figures reached; a change may raise them, never lower them.
bench/fidelity.py prints the figures and the faults file by file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tests.fidelity_set import (
    CORPUS,
    FIXTURES,
    FileScore,
    LabelError,
    Totals,
    fixture_files,
    load_set,
    normal,
    read_label,
    score,
    totals,
    units,
)
from tests.required import unavailable

RECALL_FLOOR = 1.0  # 512/512
PRECISION_FLOOR = 1.0  # 512/512
RISK_ACCURACY_FLOOR = 1.0  # 512/512
SESSION_LINES_RUN_LOCALLY_CEILING = 0
"""Lines the labels say are typed inside a session, opened in the same fence or an earlier
one (`kubectl exec -it … -- bash`, then the next fences), that the parser runs locally."""
LOCAL_LINES_IN_A_SESSION_CEILING = 0
"""Lines the labels say run locally that the parser puts inside a session (manual steps)."""


@pytest.fixture
def corpus_present() -> None:
    if not CORPUS.exists():
        unavailable("../shared/corpus is not beside this checkout")


@cache
def scored() -> tuple[list[FileScore], Totals]:
    scores = [score(labelled) for labelled in load_set()]
    return scores, totals(scores)


@pytest.mark.usefixtures("corpus_present")
def test_the_set_is_broad() -> None:
    labelled = load_set()
    assert len(labelled) >= 60
    sources = {item.path.split("/", 1)[0] for item in labelled}
    assert len(sources) == 6
    assert all(item.file.exists() for item in labelled), "a fixture names a missing corpus file"
    risks = {command.risk for item in labelled for command in item.commands}
    assert risks == {"read-only", "mutating", "destructive"}


@pytest.mark.usefixtures("corpus_present")
def test_no_destructive_command_is_labelled_lower() -> None:
    scores, _ = scored()
    under = [(s.path, e.line, e.code, risk) for s in scores for e, risk in s.under_destructive]
    assert under == []


@pytest.mark.usefixtures("corpus_present")
def test_no_shell_fence_is_lost_silently() -> None:
    scores, _ = scored()
    lost = [(s.path, line) for s in scores for line in s.silent_fences]
    assert lost == []


@pytest.mark.usefixtures("corpus_present")
def test_recall_precision_and_risk_accuracy_do_not_fall() -> None:
    _, total = scored()
    assert total.recall >= RECALL_FLOOR
    assert total.precision >= PRECISION_FLOOR
    assert total.risk_accuracy >= RISK_ACCURACY_FLOOR
    assert total.session_run_locally <= SESSION_LINES_RUN_LOCALLY_CEILING
    assert total.local_typed_in_session <= LOCAL_LINES_IN_A_SESSION_CEILING


def test_units_keep_compound_commands_whole() -> None:
    code = (
        "kubectl get pods\n# comment\nfor i in 1 2; do\n  echo $i\ndone\n"
        "curl -d '{\n  \"a\": 1\n}' x \\\n  -H y\ncat <<EOF\nbody\nEOF"
    )
    assert [text.split("\n")[0] for _, text in units(code)] == [
        "kubectl get pods",
        "for i in 1 2; do",
        "curl -d '{",
        "cat <<EOF",
    ]


def test_normal_joins_continuations_and_drops_a_trailing_comment() -> None:
    assert normal("kubectl get \\\n   pods  -A") == "kubectl get pods -A"
    assert normal("HOST=127.0.0.1 # new member") == "HOST=127.0.0.1"


def test_a_bad_fixture_is_a_one_line_error(tmp_path: Path) -> None:
    fixture = FIXTURES / "prometheus-operator" / "kubernetes" / "KubeNodeNotReady.yaml"
    assert read_label(fixture).commands  # the labels alone need no corpus
    broken = tmp_path / "a" / "b.yaml"
    broken.parent.mkdir()
    broken.write_text("path: [unclosed\n", encoding="utf-8")
    with pytest.raises(LabelError, match=r"a/b.yaml: not YAML"):
        read_label(broken, tmp_path)
    broken.write_text("path: a/c.md\n", encoding="utf-8")
    with pytest.raises(LabelError, match="does not match"):
        read_label(broken, tmp_path)
    broken.write_text("path: a/b.md\ncommands:\n- {code: ls, risk: harmless}\n", encoding="utf-8")
    with pytest.raises(LabelError, match="bad command"):
        read_label(broken, tmp_path)
    assert len(fixture_files()) == len(load_set())
