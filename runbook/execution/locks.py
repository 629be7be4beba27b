"""One mutating step at a time per environment, across every console on the box.

The lock is an `fcntl.flock` on `<lock dir>/<environment>.lock`, taken by the
supervisor process that runs the step, so it lives exactly as long as the step
(the kernel drops it when that process ends, even on kill -9). The file's JSON
body says who holds it, so a second operator learns at once who, since when and
which step.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class LockHolder:
    user: str
    pid: int
    since: str
    """ISO 8601 time the lock was taken."""
    environment: str
    runbook: str | None = None
    procedure: str | None = None
    step: int | None = None
    run_id: str | None = None

    def describe(self) -> str:
        """`Production is locked by alice since 03:12:05 running 'Emergency Rollback' step 1`."""
        try:
            since = datetime.fromisoformat(self.since).astimezone().strftime("%H:%M:%S")
        except ValueError:
            since = self.since
        what = f" running '{self.procedure}'" if self.procedure else ""
        step = f" step {self.step}" if self.step is not None else ""
        return f"{self.environment} is locked by {self.user} since {since}{what}{step}"


class LockBusy(Exception):
    """Someone else holds the environment's lock."""

    def __init__(self, holder: LockHolder | None, environment: str) -> None:
        self.holder = holder
        message = holder.describe() if holder else f"{environment} is locked by another step"
        super().__init__(message)


class LockError(Exception):
    """The lock file cannot be created or opened."""


def lock_path(lock_dir: Path, environment: str) -> Path:
    safe = re.sub(r"[^a-z0-9_.-]", "_", environment.strip().casefold()) or "default"
    return lock_dir / f"{safe}.lock"


class EnvironmentLock:
    """A held lock; release it with `release()` or by ending the process."""

    def __init__(self, fd: int, path: Path, holder: LockHolder, owned: bool = True) -> None:
        self.fd = fd
        self.path = path
        self.holder = holder
        self.owned = owned
        """False for a lock handed over by the process that took it (a roll's): releasing
        it only closes this process's descriptor, and the lock holds while another does."""

    @classmethod
    def acquire(cls, lock_dir: Path, holder: LockHolder) -> EnvironmentLock:
        """Take the environment's lock at once or fail.

        Raises:
            LockBusy: another process holds it (the exception names the holder).
            LockError: the lock directory or file cannot be used.
        """
        path = lock_path(lock_dir, holder.environment)
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockBusy(read_holder(lock_dir, holder.environment), holder.environment) from None
        body = json.dumps(asdict(holder)).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, body, 0)
        os.fsync(fd)
        return cls(fd, path, holder)

    @classmethod
    def adopt(cls, fd: int, lock_dir: Path, holder: LockHolder) -> EnvironmentLock:
        """The lock another process took and handed over as the inherited descriptor `fd`
        (a roll takes its environment's lock once, for the runs of all its hosts).

        Raises:
            LockError: `fd` is not open on the environment's lock file, or does not hold it.
        """
        path = lock_path(lock_dir, holder.environment)
        try:
            mine, theirs = os.fstat(fd), os.stat(path)
        except OSError as error:
            raise LockError(f"the roll's lock was not handed over: {error.strerror}") from None
        if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
            raise LockError(f"the descriptor handed over is not the lock file {path}")
        try:
            # The same open file as the roll's: this succeeds only if the roll holds the lock.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(read_holder(lock_dir, holder.environment), holder.environment) from None
        return cls(fd, path, holder, owned=False)

    def release(self) -> None:
        if self.fd < 0:
            return
        if not self.owned:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)
        os.close(self.fd)  # closing the last descriptor drops the flock
        self.fd = -1


def read_holder(lock_dir: Path, environment: str) -> LockHolder | None:
    """Who holds the environment's lock now, or None when it is free."""
    path = lock_path(lock_dir, environment)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: read who holds it
        else:
            return None
        raw = os.pread(fd, 65536, 0)
    finally:
        os.close(fd)
    try:
        data = json.loads(raw)
        return LockHolder(**data)
    except (ValueError, TypeError):
        return LockHolder(user="unknown", pid=0, since="?", environment=environment)


def _open(path: Path) -> int:
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                # Shared like /tmp: every operator creates lock files, none removes another's.
                os.chmod(path.parent, 0o1777)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        raise LockError(f"cannot open lock file {path}: {error.strerror or error}") from None
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666)  # every operator's console must be able to take it
    return fd
