"""From `r` to the confirmation of a 100,000-line step, and `runbook-console run` on it.

    .venv/bin/python bench/huge_run.py [--runs 3]

The step is a `## Proc` heading and one ```bash fence of 100,000 lines like
`echo line N $(date) some words to make it longer than usual` (6 MB). Printed, not asserted:

- plan: CPU time of `Executor.plan` on the step, without values and with two values
  substituted on every line;
- r to the confirmation: in a headless console (80x24), wall and CPU time from `r` to the
  dialog's command box drawn, and the longest the event loop went without answering (a
  10 ms ticker's largest gap): keys wait at most that long;
- CLI: wall time of `runbook-console run PATH -p Proc --step 1 --dry-run` (load, plan,
  print) and of a real run (`--confirm Development`) of the same step made of `:` lines
  (the shell's no-op, so that 100,000 `date` processes do not drown the figure).

On 4 December, best of three on the 2-core box at load 7-9: plan 5 ms CPU without values
(17.9 s before: the rules read the 6 MB command twice over, and values were substituted
character by character even when there were none), 0.56 s with two values on every line;
`r` to the confirmation drawn 0.58-0.88 s wall, 0.30-0.36 s of it CPU (some 40 s before),
the longest a key waited meanwhile 0.14-0.20 s (0.58-0.74 s in the worst run: Textual
drawing the dialog, not the plan); CLI `run --dry-run` 3.1-3.5 s wall, almost all of it
loading the file (lines with `$(…)` are read the long way by the parser), none of it rating
the command; a real `run --confirm` of 100,000 `:` lines 3.0-3.5 s (before, it failed:
`Argument list too long: 'bash'`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LINES = 100_000
LINE = "echo line {n} $(date) some words to make it longer than usual"


def write_runbook(path: Path, line: str = LINE) -> Path:
    body = "\n".join(line.format(n=n) for n in range(LINES))
    path.write_text(f"# Huge\n\n## Proc\n\n```bash\n{body}\n```\n")
    return path


def plan_seconds(path: Path, values: dict[str, str]) -> float:
    """CPU seconds of one plan of the step (the executor's import left out)."""
    from runbook.config import Config
    from runbook.document.parser import load
    from runbook.execution.executor import Executor

    runbook = load(path)
    executor = Executor(Config())
    procedure = runbook.procedures[0]
    start = time.process_time()
    executor.plan(runbook, procedure, procedure.steps[0], values=values)
    return time.process_time() - start


async def r_to_confirmation(path: Path, folder: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, longest event-loop gap s) from `r` to the dialog's box drawn."""
    from console.app import RunbookConsole
    from console.screens.confirm import ConfirmScreen
    from console.settings import ConsoleSettings
    from console.widgets.line_view import LineView
    from console.widgets.step_list import StepList
    from runbook.document.parser import load

    settings = ConsoleSettings(
        runbook_path=str(path), session_dir=folder / "sessions", live_panes=None
    )
    app = RunbookConsole(load(path), settings)
    async with app.run_test(size=(80, 24)) as pilot:
        while app.main_screen is None:
            await pilot.pause()
        app.main_screen.query_one(StepList).focus()
        for _ in range(5):
            await pilot.pause()
        ticks: list[float] = []
        app.set_interval(0.01, lambda: ticks.append(time.monotonic()))
        await pilot.pause()
        wall, cpu = time.monotonic(), time.process_time()
        ticks.append(wall)
        await pilot.press("r")
        while True:
            screen = app.screen
            if isinstance(screen, ConfirmScreen) and screen.query("#confirm-commands-log"):
                box = screen.query_one("#confirm-commands-log", LineView)
                height = box.scrollable_content_region.height
                if height and box.render_line(0).text.startswith("$ echo"):
                    break
            await pilot.pause()
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        ticks.append(time.monotonic())
        gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
        await pilot.press("n")
        return wall, cpu, max(gaps)


def cli_seconds(arguments: list[str], folder: Path) -> float:
    """Wall seconds of `runbook-console ARGS`, its state kept in `folder`."""
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(folder / "state"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_DATA_HOME": str(folder / "data"),
        "RUNBOOK_CONFIG_FILE": str(folder / "none.toml"),
    }
    command = [sys.executable, "-m", "console.cli", *arguments]
    start = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        print(f"  ({' '.join(arguments[:1])} exited {done.returncode}: {done.stderr.strip()})")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        path = write_runbook(folder / "huge.md")
        with_values = write_runbook(
            folder / "values.md", 'echo line {n} "$TARGET_HOST" img:<tag> some words'
        )
        print(f"{LINES:,}-line step, best of {args.runs}")
        plain = min(plan_seconds(path, {}) for _ in range(args.runs))
        print(f"plan, no values:                    {plain * 1000:7.0f} ms CPU")
        values = {"TARGET_HOST": "a b", "tag": "v1"}
        valued = min(plan_seconds(with_values, values) for _ in range(args.runs))
        print(f"plan, two values on every line:     {valued * 1000:7.0f} ms CPU")
        figures = [asyncio.run(r_to_confirmation(path, folder)) for _ in range(args.runs)]
        wall, cpu, gap = (min(run[n] for run in figures) for n in range(3))
        worst = max(run[2] for run in figures)
        print(f"r to the confirmation drawn:        {wall * 1000:7.0f} ms wall")
        print(f"  of which CPU:                     {cpu * 1000:7.0f} ms")
        print(f"longest wait of a key meanwhile:  {gap * 1000:7.0f} ms (worst {worst * 1000:.0f})")
        step = ["-p", "Proc", "--step", "1"]
        dry = min(
            cli_seconds(["run", str(path), *step, "--dry-run"], folder) for _ in range(args.runs)
        )
        print(f"CLI run --dry-run:                  {dry * 1000:7.0f} ms wall")
        noop = write_runbook(folder / "noop.md", ": line {n} some words to make it longer")
        real = min(
            cli_seconds(["run", str(noop), *step, "--confirm", "Development"], folder)
            for _ in range(args.runs)
        )
        print(f"CLI run --confirm (no-op lines):    {real * 1000:7.0f} ms wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
