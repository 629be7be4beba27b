"""Opt-in per-test accounting: wall time and CPU of every test, to see where a run goes.

Not a check: it asserts nothing, it only reports. Enable it with

    RUNBOOK_TEST_ACCOUNTING=/tmp/acct .venv/bin/pytest -p tests.cpu_accounting ...

Each test's setup, call and teardown are measured together (`pytest_runtest_protocol`):
wall time, and CPU from `getrusage` of this process and of its waited-for children (the
subprocesses a test starts; daemons it talks to, such as dockerd, are not counted). Every
xdist worker appends one JSON line per test to `<dir>/<worker>.jsonl`; at the end the
controller prints the 30 tests using the most CPU, the 30 taking the longest, the totals per
file and per worker (the `serial` group runs on one worker: its total bounds the run).
`bench/test_accounting.py <dir>` prints the same report again from the files.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

ENV = "RUNBOOK_TEST_ACCOUNTING"
TOP = 30


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _directory() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    directory = _directory()
    if directory is None:
        yield
        return
    start_wall, start_mono = time.time(), time.monotonic()
    own_before, children_before = _cpu()
    yield
    own_after, children_after = _cpu()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    group = item.get_closest_marker("xdist_group")
    record = {
        "test": item.nodeid,
        "file": item.nodeid.split("::", 1)[0],
        "worker": worker,
        "group": group.args[0] if group and group.args else None,
        "start": start_wall,
        "wall": time.monotonic() - start_mono,
        "cpu": own_after - own_before,
        "children_cpu": children_after - children_before,
    }
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / f"{worker}.jsonl").open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def load(directory: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl")):
        records.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    return records


def report(records: Iterable[dict[str, Any]], top: int = TOP) -> list[str]:
    rows = list(records)
    if not rows:
        return ["accounting: no tests recorded"]
    for row in rows:
        row["total_cpu"] = row["cpu"] + row["children_cpu"]
    lines: list[str] = []

    def table(title: str, key: str) -> None:
        lines.append(f"--- top {top} by {title}: wall s, own cpu s, children cpu s, test")
        for row in sorted(rows, key=lambda r: r[key], reverse=True)[:top]:
            lines.append(
                f"{row['wall']:7.2f} {row['cpu']:7.2f} {row['children_cpu']:7.2f}  {row['test']}"
            )

    table("cpu (own + children)", "total_cpu")
    table("wall", "wall")

    def totals(title: str, field: str) -> None:
        sums: dict[str, list[float]] = {}
        for row in rows:
            entry = sums.setdefault(str(row[field]), [0.0, 0.0, 0.0, 0])
            entry[0] += row["wall"]
            entry[1] += row["cpu"]
            entry[2] += row["children_cpu"]
            entry[3] += 1
        lines.append(f"--- per {title}: wall s, own cpu s, children cpu s, tests, {title}")
        for name, (wall, cpu, children, count) in sorted(
            sums.items(), key=lambda kv: kv[1][0], reverse=True
        ):
            lines.append(f"{wall:8.1f} {cpu:8.1f} {children:8.1f} {int(count):5d}  {name}")

    totals("file", "file")
    totals("worker", "worker")
    totals("group", "group")
    wall = sum(r["wall"] for r in rows)
    cpu = sum(r["total_cpu"] for r in rows)
    span = max(r["start"] + r["wall"] for r in rows) - min(r["start"] for r in rows)
    lines.append(
        f"--- {len(rows)} tests: {wall:.1f} worker-seconds of wall, {cpu:.1f} s of CPU "
        f"(own + children), first start to last end {span:.1f} s"
    )
    return lines


def pytest_sessionstart(session: pytest.Session) -> None:
    """The controller starts from an empty report (workers start after it)."""
    directory = _directory()
    if directory is None or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for path in directory.glob("*.jsonl"):
        path.unlink()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    directory = _directory()
    if directory is None or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for line in report(load(directory)):
        terminalreporter.write_line(line)
