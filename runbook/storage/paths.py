"""Where the console keeps its files, following XDG conventions.

Every location can be moved: by environment variable (tests use these), then by
the config file, then the platform default from platformdirs.

- config file: `--config`, else RUNBOOK_CONFIG_FILE, else
  `$XDG_CONFIG_HOME/runbook-console/config.toml`.
- state dir: RUNBOOK_STATE_DIR, else `[execution] state_dir`, else
  `$XDG_STATE_HOME/runbook-console`.
- audit trail: RUNBOOK_AUDIT_FILE, else `[execution] audit_file`, else `<state dir>/audit.jsonl`.
- lock dir: RUNBOOK_LOCK_DIR, else `[execution] lock_dir`, else `/run/lock/runbook-console`
  when /run/lock is writable (shared by every user on the box), else `<state dir>/locks`.
- deployment history: DEPLOY_HISTORY_DIR, else `<repo>/.monkeytown/devops/deployment-history`.

Runs (one directory per executed step, with its output log and result) live in
`<state dir>/runs/`, checklist sessions in `<state dir>/sessions/`.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "runbook-console"
SHARED_LOCK_ROOT = Path("/run/lock")
"""Shared by every user on the box, so one lock covers every console."""


def config_file(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config file: an explicit `--config`, else RUNBOOK_CONFIG_FILE, else the XDG default."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get("RUNBOOK_CONFIG_FILE")
    if from_env:
        return Path(from_env).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def state_dir(configured: str | None = None) -> Path:
    """The state directory: RUNBOOK_STATE_DIR, else the configured one, else XDG_STATE_HOME."""
    from_env = os.environ.get("RUNBOOK_STATE_DIR")
    if from_env:
        return Path(from_env).expanduser()
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_state_path(APP_NAME)


def lock_dir(configured: str | None, state: Path) -> Path:
    """Where environment locks live: env, config, /run/lock when writable, else the state dir."""
    from_env = os.environ.get("RUNBOOK_LOCK_DIR")
    if from_env:
        return Path(from_env).expanduser()
    if configured:
        return Path(configured).expanduser()
    if SHARED_LOCK_ROOT.is_dir() and os.access(SHARED_LOCK_ROOT, os.W_OK):
        return SHARED_LOCK_ROOT / APP_NAME
    return state / "locks"


def audit_file(configured: str | None, state: Path) -> Path:
    """The audit trail: RUNBOOK_AUDIT_FILE, else the configured path, else in the state dir."""
    from_env = os.environ.get("RUNBOOK_AUDIT_FILE")
    if from_env:
        return Path(from_env).expanduser()
    if configured:
        return Path(configured).expanduser()
    return state / "audit.jsonl"


def repository_root(runbook_path: str | os.PathLike[str] | None) -> Path:
    """The nearest ancestor of the runbook holding `.git`, else the runbook's own directory.

    Without a path (a runbook parsed from a string) the current directory is used.
    """
    if runbook_path is None:
        return Path.cwd()
    start = Path(runbook_path).expanduser().resolve().parent
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def history_dir(repo_root: Path) -> Path:
    """The deployment-history directory: DEPLOY_HISTORY_DIR or where the seed runbook keeps it."""
    from_env = os.environ.get("DEPLOY_HISTORY_DIR")
    if from_env:
        return Path(from_env).expanduser()
    return repo_root / ".monkeytown" / "devops" / "deployment-history"
