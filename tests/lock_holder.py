"""Hold a file's flock from another process, as `runbook-console incident note` does.

```python
with LockHolder(store.lock_path(incident_id)):
    ...  # the lock is held by a child process until the block ends
```
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import TracebackType

HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()  # hold until told (or until the parent closes the pipe)
"""


class LockHolder:
    """A child process that takes an exclusive flock on `path` and holds it until released."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> LockHolder:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()  # blocks until the flock is held
        assert ready == "locked", f"the lock holder did not start: {ready!r}"
        return self

    def release(self) -> None:
        """Tell the child to let go, and wait until it has."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        assert process.stdin is not None
        process.stdin.write("release\n")
        process.stdin.close()
        process.wait(timeout=30)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
