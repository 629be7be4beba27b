"""Print the per-test accounting report again from a run's files.

    RUNBOOK_TEST_ACCOUNTING=/tmp/acct .venv/bin/pytest -p tests.cpu_accounting
    .venv/bin/python bench/test_accounting.py /tmp/acct [--top 50]

(tests/cpu_accounting.py writes the files and prints the same report at the end of the run.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cpu_accounting import load, report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--top", type=int, default=30)
    options = parser.parse_args()
    if not options.directory.is_dir():
        parser.error(f"no such directory: {options.directory}")
    for line in report(load(options.directory), options.top):
        print(line)


if __name__ == "__main__":
    main()
