"""Parse time of the seed runbook, of a synthetic 10,000-line runbook, and of huge inputs
(a 100,000-line fence; the longest line the parser accepts, 100,000 bytes).

Prints figures; asserts nothing. Target: about 100 ms for 10,000 lines. Cold: the parser's
memos emptied first, as in a console's first parse of a file; warm: memos kept (a reload).
The time to the first frame of the huge inputs: `bench/startup.py --huge` (or
`bench/startup.py FILE` on a file this writes with `--write DIR`).
Usage: python bench/parse.py [LINES]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from runbook.document import assignments, tables
from runbook.document.commands import is_transcript
from runbook.document.parser import parse
from runbook.execution.risk import classify

SEED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seed_runbook.md"


def synthetic(lines: int) -> str:
    """A runbook of about `lines` lines: procedures with lists, code, tables and waits."""
    chunk = (
        "## Procedure {n}\n\n1. Acknowledge alert within 5 minutes\n"
        "2. Check status: `kubectl -n ns{n} get pod $POD`\n3. Monitor for 5 minutes\n"
        "4. If healthy: close\n\n```bash\n# Restart\nmake rollback-{n}\n\n# Verify\n"
        "curl http://localhost:3000/health?n={n}\n```\n\n| Metric | Warning | Critical | Action |\n"
        "|---|---|---|---|\n| CPU | > 70% | > 90% | Scale |\n\n"
    )
    per_chunk = chunk.count("\n")
    return "# Synthetic\n\n" + "".join(chunk.format(n=n) for n in range(lines // per_chunk))


def seed_like(seed: str, lines: int) -> str:
    """About `lines` lines made of the seed's own sections, headings numbered to stay distinct.

    Real runbooks mix prose, tables and steps; this keeps the seed's mix, where
    `synthetic` is denser than any real document (a step or command on every line).
    """
    copies = max(1, lines // seed.count("\n"))
    return "\n".join(seed.replace("\n## ", f"\n## {n}: ") for n in range(copies))


def forget() -> None:
    """Empty the parser's memos (risk rules, transcripts, assignments, table headings), so each
    parse pays what the console's first parse of a file pays."""
    classify.cache_clear()
    is_transcript.cache_clear()
    assignments._read_only.cache_clear()  # noqa: SLF001
    tables._label.cache_clear()  # noqa: SLF001


def measure(text: str, repeat: int = 7) -> tuple[float, float, float]:
    """Median wall time and best CPU time of a cold parse (the memos emptied before each:
    a file's first parse in a console), and best CPU time of a warm one (memos kept: a
    reload), in ms. CPU time is steadier than wall time on a busy machine."""
    wall, cold, warm = [], [], []
    for _ in range(repeat):
        forget()
        start, start_cpu = time.perf_counter(), time.process_time()
        parse(text)
        wall.append(time.perf_counter() - start)
        cold.append(time.process_time() - start_cpu)
        start_cpu = time.process_time()
        parse(text)
        warm.append(time.process_time() - start_cpu)
    return statistics.median(wall) * 1000, min(cold) * 1000, min(warm) * 1000


def huge_fence(lines: int = 100_000) -> str:
    body = "\n".join(f"   echo line {n}" for n in range(lines))
    return f"# Huge\n\n## Fence\n\n1. Run:\n\n   ```bash\n{body}\n   ```\n"


def longest_line() -> str:
    return "# Huge\n\n## Line\n\n1. Run:\n\n   ```bash\n   echo " + "x" * 99_000 + "\n   ```\n"


def five_mb_line() -> str:
    """A 5 MB file that is one line: refused at load (the line limit is 100,000 bytes)."""
    return "# Huge\n\n## Line\n\n1. Run: `echo " + "x" * 5_000_000 + "`\n"


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--write"]:
        folder = Path(args[1])
        (folder / "huge-fence.md").write_text(huge_fence())
        (folder / "longest-line.md").write_text(longest_line())
        (folder / "five-mb-line.md").write_text(five_mb_line())
        print(f"wrote huge-fence.md, longest-line.md and five-mb-line.md (refused) in {folder}")
        return
    lines = int(args[0]) if args else 10_000
    seed = SEED.read_text(encoding="utf-8")
    documents = (
        ("seed", seed),
        (f"dense synthetic {lines}", synthetic(lines)),
        (f"seed-like {lines}", seed_like(seed, lines)),
        ("100,000-line fence", huge_fence()),
        ("99,000-byte line", longest_line()),
    )
    for name, text in documents:
        median, cold, warm = measure(text)
        lines_read = text.count("\n")
        print(
            f"{name:>26}: {lines_read:>6} lines  cold: wall median {median:7.1f} ms"
            f"  cpu best {cold:7.1f} ms   warm: cpu best {warm:7.1f} ms"
        )
    print("target: about 100 ms for 10,000 lines (issue 13); huge inputs: bench/startup.py --huge")


if __name__ == "__main__":
    main()
