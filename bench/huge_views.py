"""CPU time to show every line of a 100,000-line command: the confirmation's box (opening it,
then three new widths) and the step detail's full view (`f`), in a headless console.

    .venv/bin/python bench/huge_views.py [--runs 3]

Each figure is the process's CPU time from the action to the rows in view being drawn
(best of the runs: CPU time, steadier than wall time on a shared box). Printed, not
asserted. On 4 December (load 5-6), best of three, the `Log` the box and the view were
before `LineView` against `LineView`: the confirmation opened in 247 ms against 92, took
204-237 ms at each new width against 30-33, and the full view 246 ms against 114.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LINES = 100_000


def drawn_rows(view: Any) -> list[str]:
    """Draw the rows in view, as the screen would."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


async def confirmation() -> list[float]:
    """CPU seconds to open the box, then to redraw it at each of three widths."""
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    from console.requests import ConfirmRequest
    from console.screens.confirm import ConfirmScreen

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Label("host")

    code = "\n".join(f"touch /tmp/never-run-{n}" for n in range(LINES))
    request = ConfirmRequest(
        title="Huge",
        risk="mutating",
        commands=(code,),
        cwd="/srv/app",
        environment="Development",
        production=False,
    )
    figures = []
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        start = time.process_time()
        dialog = ConfirmScreen(request, arm_delay=0.0)
        app.push_screen(dialog)
        while not dialog.query("#confirm-commands-log") or not drawn_rows(
            box := dialog.query_one("#confirm-commands-log")
        )[0].startswith("$ touch"):
            await pilot.pause()
        figures.append(time.process_time() - start)
        for size in ((70, 24), (60, 20), (100, 30)):
            start = time.process_time()
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
            drawn_rows(box)
            figures.append(time.process_time() - start)
    return figures


async def full_view(folder: Path) -> float:
    """CPU seconds from `f` to the full view's rows drawn."""
    from console.app import RunbookConsole
    from console.settings import ConsoleSettings
    from console.widgets.step_detail import StepDetail
    from runbook.document.parser import load

    body = "\n".join(f"   echo line {n}" for n in range(LINES))
    path = folder / "huge.md"
    path.write_text(f"# Huge\n\n## Fence\n\n1. Run:\n\n   ```bash\n{body}\n   ```\n")
    settings = ConsoleSettings(
        runbook_path=str(path), session_dir=folder / "sessions", live_panes=None
    )
    app = RunbookConsole(load(path), settings)
    async with app.run_test(size=(80, 24)) as pilot:
        while app.main_screen is None:
            await pilot.pause()
        detail = app.main_screen.query_one(StepDetail)
        for _ in range(5):
            await pilot.pause()
        detail.focus()
        await pilot.pause()
        start = time.process_time()
        await pilot.press("f")
        while not detail.showing_full:
            await pilot.pause()
        while not drawn_rows(app.main_screen.query_one("#detail-full"))[1].startswith("$ echo"):
            await pilot.pause()
        return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    boxes = [asyncio.run(confirmation()) for _ in range(args.runs)]
    opened = min(run[0] for run in boxes)
    widths = [min(run[n] for run in boxes) for n in range(1, 4)]
    print(f"{LINES:,}-line command, best of {args.runs} (CPU time)")
    print(f"confirmation: opened and drawn {opened * 1000:5.0f} ms")
    shown = ", ".join(f"{figure * 1000:.0f}" for figure in widths)
    print(f"confirmation: redrawn at three new widths {shown} ms")
    with tempfile.TemporaryDirectory() as folder:
        full = min(asyncio.run(full_view(Path(folder))) for _ in range(args.runs))
    print(f"step detail: f to every line shown {full * 1000:5.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
