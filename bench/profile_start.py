"""Where the console's time to its first frame goes: cProfile from launch to the first
refresh of the main screen (textual itself is imported first: a bare app pays for it too).

    .venv/bin/python bench/profile_start.py [RUNBOOK] [--out FILE] [--top 40]

Run it in a terminal (the console opens, the profile stops at its first frame and the
console quits); then prints the top functions by cumulative time, and writes them to
FILE (default start-profile.txt) with the raw stats beside it (FILE.prof, for snakeviz
or pstats). Timings are printed only.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# Bytecode is written and read, as for an installed console, even where the shell sets
# PYTHONDONTWRITEBYTECODE: else each run profiles the compiling of the console's own
# modules (`builtins.compile`, about 0.1 s). A first run after a change still does.
sys.dont_write_bytecode = False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runbook", nargs="?")
    parser.add_argument("--out", default="start-profile.txt")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    import textual.app  # noqa: F401 - paid by a bare app too: not the console's start
    from textual.screen import Screen

    profiler = cProfile.Profile()
    refresh = Screen._compositor_refresh

    def first_refresh(self: Screen[Any]) -> None:
        refresh(self)
        if type(self).__name__ == "MainScreen" and profiler is not None:
            profiler.disable()
            self.app.exit()

    Screen._compositor_refresh = first_refresh  # type: ignore[method-assign]
    profiler.enable()
    from console.launch import launch

    launch([*([args.runbook] if args.runbook else []), "--no-resume"])
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.dump_stats(f"{args.out}.prof")
    Path(args.out).write_text(text.getvalue())
    print(text.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
