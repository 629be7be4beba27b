"""`runbook-console run` on a step that rolls across hosts: the dry-run lists the hosts by
batch, the run prints a line per host, a failing host stops the roll (exit 1); `check`
reports bad roll attributes as errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import cli, runbook_in_repo

RUNBOOK = """# Test runbook

## Diagnose

```sh {"hosts": "all", "batch": 2, "canary": 1}
# Each engine
echo "on $RUNBOOK_ROLL_HOST"; test "$RUNBOOK_ROLL_HOST" != /tmp/b.sock
```
"""

CONFIG = """[environments.Development]
docker_hosts = ["unix:///tmp/a.sock", "unix:///tmp/b.sock", "unix:///tmp/c.sock", "unix:///tmp/d.sock"]
"""


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    runbook = runbook_in_repo(tmp_path, monkeypatch, RUNBOOK)
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    return runbook, config


def test_dry_run_lists_hosts_by_batch(paths: tuple[Path, Path]) -> None:
    runbook, config = paths
    done = cli("run", str(runbook), "-p", "Diagnose", "--dry-run", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "hosts:       4 host(s), 3 batch(es), stops at the first failure" in done.stdout
    assert "canary: /tmp/a.sock (unix:///tmp/a.sock)" in done.stdout
    assert "batch 2: /tmp/b.sock (unix:///tmp/b.sock), /tmp/c.sock (unix:///tmp/c.sock)" in (
        done.stdout
    )


def test_run_prints_a_line_per_host_and_stops_at_the_failing_batch(
    paths: tuple[Path, Path],
) -> None:
    runbook, config = paths
    done = cli("run", str(runbook), "-p", "Diagnose", "--config", str(config))
    assert done.returncode == 1
    assert "[/tmp/a.sock] on /tmp/a.sock" in done.stdout
    assert "  host /tmp/a.sock: ok (exit 0)" in done.stdout
    assert "  host /tmp/c.sock: ok (exit 0)" in done.stdout  # beside b in its batch
    assert "  host /tmp/b.sock: failed (exit 1)" in done.stderr
    assert "host /tmp/d.sock: skipped: the roll stopped after 1 failed host(s)" in done.stdout
    assert "failed: 2 of 4 hosts ok; failed: /tmp/b.sock; skipped: /tmp/d.sock" in done.stderr


def test_check_reports_bad_roll_attributes(tmp_path: Path) -> None:
    path = tmp_path / "runbook.md"
    path.write_text(RUNBOOK.replace('"batch": 2', '"batch": 0'))
    done = cli("check", str(path))
    assert done.returncode == 1
    assert "error: step 1: batch='0': expected a whole number of at least 1" in done.stdout
