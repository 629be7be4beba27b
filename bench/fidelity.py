"""How faithfully the parser reads real public runbooks, against the hand-labelled set in
tests/fixtures/fidelity (one YAML per ../shared/corpus file; tests/fidelity_set.py reads it).

Prints command recall and precision, risk accuracy, the destructive commands labelled lower,
the shell fences that give no step and no reason (silent losses), and the worst files.
Targets (issue 13): recall and precision >= 99 %, 0 destructive under-rated, 0 silent losses.
Asserts nothing; tests/unit/test_fidelity.py holds the floor.

    python bench/fidelity.py               figures and the 10 worst files
    python bench/fidelity.py --all         every file's faults
    python bench/fidelity.py FIXTURE...    the faults of these files (corpus or fixture paths)
    python bench/fidelity.py --draft PATH  the parser's reading of a corpus file as a fixture
                                           draft, to correct line by line by reading the file
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fidelity_set import (  # noqa: E402
    CORPUS,
    FileScore,
    LabelError,
    draft,
    load_set,
    score,
    totals,
)


def _one_line(code: str, width: int = 90) -> str:
    flat = " ⏎ ".join(line.strip() for line in code.strip().splitlines())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def show(file_score: FileScore) -> None:
    print(
        f"\n{file_score.path}: {file_score.matched}/{file_score.expected} found, "
        f"{len(file_score.extra)} extra"
    )
    for expected in file_score.missed:
        print(f"  missed   {expected.line:>4} {_one_line(expected.code)}")
    for found in file_score.extra:
        print(f"  extra    {found.line:>4} {_one_line(found.code)}")
    for expected, risk in file_score.risk_wrong:
        print(
            f"  risk     {expected.line:>4} {expected.risk} read as {risk}: "
            f"{_one_line(expected.code, 70)}"
        )
    for expected in file_score.session_run_locally:
        print(f"  local    {expected.line:>4} typed in a session, run here: {expected.code}")
    for expected in file_score.local_typed_in_session:
        print(f"  inside   {expected.line:>4} a local command put in a session: {expected.code}")
    for line in file_score.silent_fences:
        print(f"  silent   {line:>4} shell fence gives no step and no reason")
    if file_score.variables_missed or file_score.variables_extra:
        print(
            f"  values   missed {sorted(file_score.variables_missed)} "
            f"extra {sorted(file_score.variables_extra)}"
        )


def main() -> int:
    args = sys.argv[1:]
    if not CORPUS.exists():
        print(f"no corpus at {CORPUS}: clone the team's ../shared beside this checkout")
        return 1
    if args[:1] == ["--draft"]:
        for path in args[1:]:
            print(draft(path), end="")
        return 0
    try:
        labelled = load_set()
    except LabelError as error:
        print(f"fidelity set: {error}")
        return 1
    wanted = {a.removeprefix("tests/fixtures/fidelity/").replace(".yaml", ".md") for a in args}
    wanted.discard("--all")
    scores = [score(item) for item in labelled if not wanted or item.path in wanted]
    total = totals(scores)
    sources = {item.path.split("/", 1)[0] for item in labelled}
    print(
        f"fidelity set: {total.files} runbooks from {len(sources)} sources, "
        f"{total.expected} labelled commands, {total.found} read by the parser"
    )
    print(f"  command recall     {total.recall:7.2%}  ({total.matched}/{total.expected})")
    print(f"  command precision  {total.precision:7.2%}  ({total.matched}/{total.found})")
    print(
        f"  risk accuracy      {total.risk_accuracy:7.2%}  "
        f"({total.risk_right}/{total.matched} found commands)"
    )
    print(f"  destructive labelled lower     {total.under_destructive}")
    print(
        f"  shell fences lost silently     {total.silent_fences}"
        f"  (and {total.explained_fences} giving no step, with a reason)"
    )
    print(f"  session lines run locally      {total.session_run_locally}")
    print(f"  local lines put in a session   {total.local_typed_in_session}")
    print(
        f"  values to fill: {total.variables_expected} labelled, "
        f"{total.variables_missed} not asked, {total.variables_extra} asked but not labelled"
    )
    print("targets: recall and precision >= 99 %, 0 destructive under-rated, 0 silent losses")
    if "--all" in args or wanted:
        shown = [s for s in scores if s.faults or wanted]
    else:
        shown = sorted((s for s in scores if s.faults), key=lambda s: -s.faults)[:10]
        if shown:
            print("\nworst files:")
    for file_score in shown:
        show(file_score)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
