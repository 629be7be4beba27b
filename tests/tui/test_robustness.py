"""Every runbook we know of opens; a 10,000-line runbook opens in under a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.widgets.step_list import StepList
from tests.required import unavailable
from tests.tui.conftest import MakeConsole
from tests.waiting import wait_until_async as until

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
PROJECT_RUNBOOK = REPO / ".monkeytown" / "devops" / "runbook.md"


def _corpus_files() -> list[Path]:
    """The corpus runbooks; the corpus folder itself when it is absent (the test says so)."""
    if not CORPUS.exists():
        return [CORPUS]
    return sorted(path for path in CORPUS.rglob("*.md") if path.name != "README.md")


def _big_runbook(path: Path, lines: int = 10_000) -> Path:
    parts = ["# Big runbook", ""]
    section = 0
    while len(parts) < lines:
        section += 1
        parts += [f"## Area {section}", "", f"### Procedure {section}", ""]
        for index in range(1, 9):
            parts.append(
                f"{index}. Check thing {index} of area {section}: `echo {section}-{index}`"
            )
        parts += [
            "",
            "```bash",
            f"# Restart area {section}",
            f"systemctl restart area{section}",
            "```",
            "",
        ]
    path.write_text("\n".join(parts[:lines]) + "\n")
    return path


async def _open(app: object, size: tuple[int, int] = (80, 24)) -> None:
    async with app.run_test(size=size) as pilot:  # type: ignore[attr-defined]
        await until(lambda: app.main_screen is not None, what="the main screen is ready")  # type: ignore[attr-defined]
        await pilot.pause()
        assert app.main_screen is not None  # type: ignore[attr-defined]
        assert app.is_running  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "path", _corpus_files(), ids=lambda p: str(p.relative_to(CORPUS)) if CORPUS in p.parents else p
)
async def test_corpus_runbook_opens(make_console: MakeConsole, path: Path) -> None:
    if path == CORPUS:
        unavailable("../shared/corpus is not beside this checkout")
    await _open(make_console(path))


async def test_seed_and_project_runbooks_open(make_console: MakeConsole) -> None:
    for path in (REPO / "tests" / "fixtures" / "seed_runbook.md", PROJECT_RUNBOOK):
        if path.exists():
            await _open(make_console(path), size=(120, 40))


async def test_ten_thousand_lines_open(make_console: MakeConsole, tmp_path: Path) -> None:
    """A 10,000-line runbook opens with its procedures listed. How fast is a figure, not an
    assertion: `bench/parse.py` prints the parse time and `bench/startup.py RUNBOOK` the
    time to the first frame."""
    path = _big_runbook(tmp_path / "big.md")
    app = make_console(path)
    async with app.run_test(size=(120, 40)):
        await until(lambda: app.main_screen is not None, what="the main screen is ready")
        assert len(app.runbook.procedures) > 300
        assert app.main_screen.query_one(StepList).option_count > 0


async def test_a_step_finishing_while_its_detail_is_not_composed_changes_nothing_else(
    make_console: MakeConsole,
) -> None:
    """A run's outcome can reach the step detail before it is composed, or after the console
    began to quit and took its children away: the detail takes the step, and shows it once
    composed, instead of crashing the console."""
    from console.widgets.step_detail import StepDetail

    app = make_console()
    procedure = app.runbook.procedures[0]
    async with app.run_test(size=(80, 24)) as pilot:
        detail = StepDetail()
        detail.show_step(procedure, procedure.steps[0], None)  # not composed: used to raise
        await app.screen.mount(detail)
        await pilot.pause()
        assert f"Step 1 of {len(procedure.steps)}" in str(detail._heading.render())  # noqa: SLF001
        await detail.remove_children()
        detail.show_step(procedure, procedure.steps[-1], None)  # children gone: used to raise
