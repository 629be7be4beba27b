"""The detached process that runs one command and records it, whatever happens to the console.

Started by `runbook.execution.executor` in its own session with SIGHUP ignored, it:
reads the run's `RunSpec` (`spec.json`, refusing to start on a bad one), takes the
environment lock (mutating steps), writes the audit start record
(refusing a mutating step if it cannot), runs `bash -e -c CODE` in a new
session, writes masked, timestamped output lines to `output.jsonl`, enforces
the timeout and cancel (SIGTERM to the group and every descendant, SIGKILL
after the grace period), runs the step's read-only `rb-verify` checks if the
script exited 0, then writes the audit end record, the deployment history
record if the scripts wrote none, releases the lock and, last, the final
`state.json`. A console that died meanwhile finds all of it on disk. Before
exiting it prunes old runs (`runs.prune_runs`).

Cancel: write `cancel.json` ({"by": user}) in the run directory, then SIGTERM
this process.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from runbook.execution import history, process_tree, runs
from runbook.execution.audit import AuditError, AuditTrail
from runbook.execution.locks import EnvironmentLock, LockBusy, LockError, LockHolder
from runbook.execution.masking import Masker, StreamMasker
from runbook.execution.risk import classify, riskiest
from runbook.execution.run_spec import RunSpec, RunSpecError
from runbook.execution.runs import OutputLine, Stream, now_iso
from runbook.storage.atomic_file import read_json, write_json_atomic

LINGER_S = 0.3
"""How long background processes may outlive the step's shell before they are ended."""
KILL_WAIT_S = 0.6
"""After SIGKILL, how long to wait for pipes to close before giving up on them."""
MAX_LINE = 65536
TAIL_LINES = 20
DEFAULT_VERIFY_TIMEOUT_S = 60.0
BRIEF_CHARS = 80
"""How much of a verify command a reason quotes."""


MAX_ARGUMENT_BYTES = 128 * 1024 - 1
"""Linux refuses a longer single argument (MAX_ARG_STRLEN, its NUL included) with E2BIG:
a 100,000-line step given to `bash -c` never started."""


@dataclass(frozen=True)
class _ChildEnd:
    """How one `bash -c` ended."""

    status: int | None
    """The raw wait status; None if the shell never exited."""
    outcome: str | None
    """"cancelled" or "timed-out" when we stopped it."""
    by: str | None
    error: str | None = None
    """Why it could not be started."""


@dataclass(frozen=True)
class _Verification:
    status: str
    reason: str | None
    by: str | None
    records: list[dict[str, Any]] = field(default_factory=list)


class _Output:
    """One of the child's pipes: decode, mask, split into lines."""

    def __init__(self, name: Stream, pipe: IO[bytes], masker: StreamMasker) -> None:
        self.name: Stream = name
        self.pipe = pipe
        self.masker = masker
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.buffer = ""

    def feed(self, data: bytes) -> list[str]:
        self.buffer += self.masker.feed(self.decoder.decode(data))
        return self._split()

    def finish(self) -> list[str]:
        self.buffer += self.masker.feed(self.decoder.decode(b"", final=True)) + self.masker.flush()
        lines = self._split()
        if self.buffer:
            lines.append(self.buffer.rstrip("\r"))
            self.buffer = ""
        return lines

    def _split(self) -> list[str]:
        *lines, self.buffer = self.buffer.split("\n")
        while len(self.buffer) > MAX_LINE:
            lines.append(self.buffer[:MAX_LINE])
            self.buffer = self.buffer[MAX_LINE:]
        return [line.rstrip("\r") for line in lines]


class Supervisor:
    def __init__(self, directory: Path, spec: RunSpec) -> None:
        self.directory = directory
        self.spec = spec
        self.cancel_requested = False
        self.started = now_iso()
        self.started_at = time.monotonic()
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.log = (directory / "output.jsonl").open("ab")
        self.masker = Masker.from_env(os.environ, spec.secret_patterns, spec.secret_names)
        self.lock: EnvironmentLock | None = None
        self.audit: AuditTrail | None = None

    # -- records -------------------------------------------------------------

    def state(self, status: str, **extra: Any) -> None:
        write_json_atomic(
            self.directory / "state.json",
            {"status": status, "supervisor_pid": os.getpid(), "started": self.started, **extra},
        )

    def line(self, stream: Stream, text: str) -> None:
        self.log.write(OutputLine(now_iso(), stream, text).to_json().encode())
        self.log.flush()
        if stream != "system":
            self.tail.append(text if stream == "stdout" else f"[stderr] {text}")

    def audit_record(self, event: str, **extra: Any) -> dict[str, Any]:
        spec = self.spec
        return {
            "time": now_iso(),
            "event": event,
            "run_id": spec.run_id,
            **spec.identity,
            "environment": spec.environment,
            "production": spec.production,
            "runbook": spec.runbook_path,
            "runbook_sha256": spec.runbook_sha256,
            "procedure": spec.procedure,
            "step": spec.step,
            "step_title": spec.step_title,
            "risk": spec.risk,
            "command": self.masker.mask(spec.code),
            "cwd": spec.cwd,
            **({"host": spec.host, "engine": spec.engine} if spec.host is not None else {}),
            **({"roll_id": spec.roll_id} if spec.roll_id is not None else {}),
            **extra,
        }

    # -- the run -------------------------------------------------------------

    def run(self) -> int:
        self.state("starting")
        spec = self.spec
        if spec.mutating:
            holder = LockHolder(
                user=str(spec.identity.get("user", "?")),
                pid=os.getpid(),
                since=now_iso(),
                environment=spec.environment,
                runbook=spec.runbook_path,
                procedure=spec.procedure_title or spec.procedure,
                step=spec.step,
                run_id=spec.run_id,
            )
            try:
                if spec.lock_fd is not None:
                    self.lock = EnvironmentLock.adopt(spec.lock_fd, Path(spec.lock_dir), holder)
                else:
                    self.lock = EnvironmentLock.acquire(Path(spec.lock_dir), holder)
            except (LockBusy, LockError) as error:
                return self.refuse(str(error))
        trail = AuditTrail(Path(spec.audit_file))
        try:
            trail.append(self.audit_record("start"))
            self.audit = trail
        except AuditError as error:
            if spec.mutating:
                return self.refuse(
                    f"{error}; mutating steps do not run without an audit trail", audit=False
                )
            self.line("system", f"warning: {error}; running this read-only step anyway")
        if self.cancel_asked():
            return self.end("cancelled", None, None, self.cancelled_by())
        return self.execute()

    def refuse(self, reason: str, audit: bool = True) -> int:
        self.line("system", f"refused: {reason}")
        if audit:
            with contextlib.suppress(AuditError):
                AuditTrail(Path(self.spec.audit_file)).append(
                    self.audit_record("refused", status="refused", reason=reason)
                )
        self.close_log()
        if self.lock:
            self.lock.release()
        self.state("refused", reason=reason, ended=now_iso(), duration_s=0.0)
        return 0

    def cancel_asked(self) -> bool:
        """SIGTERM arrived, or a console wrote cancel.json (it may not know our pid yet)."""
        return self.cancel_requested or (self.directory / "cancel.json").exists()

    def cancelled_by(self) -> str:
        data = read_json(self.directory / "cancel.json")
        return str(data.get("by", "unknown")) if isinstance(data, dict) else "signal"

    def execute(self) -> int:
        spec = self.spec
        main = self.run_child(spec.code, spec.timeout_s, self.started_at)
        if main.error is not None:
            self.line("system", f"cannot start bash in {spec.cwd}: {main.error}")
            return self.end("failed", None, None, None, reason=main.error)
        if main.status is None:
            return self.end(
                main.outcome or "failed",
                None,
                None,
                main.by,
                reason="the step's shell never exited",
            )
        code = process_tree.exit_code(main.status)
        status = main.outcome or ("succeeded" if code == 0 else "failed")
        signal_name = process_tree.signal_name(main.status)
        if status != "succeeded" or not spec.verify:
            return self.end(status, code, signal_name, main.by)
        checked = self.verify()
        return self.end(
            checked.status, code, signal_name, checked.by, checked.reason, checked.records
        )

    def verify(self) -> _Verification:
        """Run the step's `rb-verify` checks in order; the first that does not pass decides."""
        spec = self.spec
        timeout_s = spec.verify_timeout_s or DEFAULT_VERIFY_TIMEOUT_S
        records: list[dict[str, Any]] = []
        for item in spec.verify:
            code = item.code
            shown = self.masker.mask(code)
            if self.cancel_asked():
                return _Verification("cancelled", None, self.cancelled_by(), records)
            # Judged again here: the spec is only as trustworthy as the console that wrote it.
            risk = riskiest((classify(code), item.risk))
            if risk != "read-only":
                reason = (
                    f"verify refused: {_brief(shown)} is {risk} by the risk rules; "
                    "a verify command must be read-only"
                )
                self.line("system", reason)
                records.append({"command": shown, "status": "refused", "risk": risk})
                return _Verification("failed", reason, None, records)
            self.line("system", f"verify: {shown}")
            started_at = time.monotonic()
            ended = self.run_child(code, timeout_s, started_at, what="verify")
            record: dict[str, Any] = {
                "command": shown,
                "duration_s": round(time.monotonic() - started_at, 3),
            }
            exit_code = None if ended.status is None else process_tree.exit_code(ended.status)
            record["exit_code"] = exit_code
            if ended.outcome == "cancelled":
                records.append({**record, "status": "cancelled"})
                return _Verification("cancelled", None, ended.by, records)
            if ended.error is not None:
                reason = f"verify could not start: {ended.error}"
            elif ended.outcome == "timed-out":
                reason = f"verify timed out after {timeout_s:g}s: {_brief(shown)}"
            elif exit_code is None:
                reason = f"verify failed: {_brief(shown)} never exited"
            elif exit_code != 0:
                reason = f"verify failed: {_brief(shown)} exited {exit_code}"
            else:
                self.line("system", f"verify passed: {_brief(shown)}")
                records.append({**record, "status": "passed"})
                continue
            self.line("system", reason)
            status = "timed-out" if ended.outcome == "timed-out" else "failed"
            records.append({**record, "status": status})
            return _Verification("failed", reason, None, records)
        return _Verification("succeeded", None, None, records)

    def bash_argv(self, code: str, what: str = "") -> list[str]:
        """`bash -e -c code`; for code longer than one argument may be (`MAX_ARGUMENT_BYTES`),
        `bash -e FILE`, the code written to a file of the run's directory (bash reads a
        script file as it runs it, as it does `-c`).

        Raises:
            OSError: the file cannot be written (the step then does not start).
        """
        if len(code) * 4 < MAX_ARGUMENT_BYTES or len(code.encode()) < MAX_ARGUMENT_BYTES:
            return ["bash", "-e", "-c", code]
        script = self.directory / f"{what or 'step'}.sh"
        script.write_text(code, encoding="utf-8")
        return ["bash", "-e", str(script)]

    def run_child(
        self, code: str, timeout_s: float, started_at: float, what: str = ""
    ) -> _ChildEnd:
        """Run `bash -e -c code` to its end, cancel or timeout, streaming its output.

        Args:
            code: the script.
            timeout_s: seconds from `started_at` before SIGTERM.
            started_at: `time.monotonic()` when the clock started.
            what: how system lines name it ("verify"); the step itself when empty.
        """
        spec = self.spec
        prefix = f"{what} " if what else ""
        env = {**os.environ, "RUNBOOK_RUN_ID": spec.run_id}
        try:
            child = subprocess.Popen(
                self.bash_argv(code, what),
                cwd=spec.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as error:
            return _ChildEnd(status=None, outcome=None, by=None, error=str(error))
        assert child.stdout is not None and child.stderr is not None
        self.state("running", child_pid=child.pid, **({"phase": what} if what else {}))
        selector = selectors.DefaultSelector()
        for name, pipe in (("stdout", child.stdout), ("stderr", child.stderr)):
            os.set_blocking(pipe.fileno(), False)
            selector.register(pipe, selectors.EVENT_READ, _Output(name, pipe, self.masker.stream()))  # type: ignore[arg-type]

        me = os.getpid()
        grace = spec.grace_s
        deadline = started_at + timeout_s
        outcome: str | None = None
        by: str | None = None
        stop_at: float | None = None
        killed = False
        main_status: int | None = None
        main_exit_at = 0.0
        while True:
            now = time.monotonic()
            if outcome is None and main_status is None:
                if self.cancel_asked():
                    outcome, by = "cancelled", self.cancelled_by()
                    self.line(
                        "system",
                        f"{prefix}cancelled by {by}: SIGTERM to the {what or 'step'}'s processes",
                    )
                elif now >= deadline:
                    outcome = "timed-out"
                    self.line("system", f"{prefix}timed out after {timeout_s}s: SIGTERM")
                if outcome:
                    stop_at = now
                    process_tree.signal_tree(me, signal.SIGTERM, group=child.pid)
            statuses = process_tree.reap_children()
            if child.pid in statuses:
                main_status = statuses[child.pid]
                child.returncode = process_tree.exit_code(main_status)
                main_exit_at = now
            if main_status is not None and stop_at is None:
                pipes_open = bool(selector.get_map())
                if not pipes_open or now - main_exit_at >= LINGER_S:
                    leftovers = process_tree.descendants(me)
                    if leftovers:
                        self.line("system", f"ending {len(leftovers)} process(es) left behind")
                        process_tree.signal_tree(me, signal.SIGTERM, group=child.pid)
                        stop_at = now
                    elif not pipes_open:
                        break
            if stop_at is not None and not killed and now >= stop_at + grace:
                self.line("system", f"still running after {grace}s grace: SIGKILL")
                killed = True
            if killed:
                process_tree.signal_tree(me, signal.SIGKILL, group=child.pid)
            if (
                stop_at is not None
                and main_status is not None
                and not selector.get_map()
                and not process_tree.descendants(me)
            ):
                break
            if stop_at is not None and killed and now >= stop_at + grace + KILL_WAIT_S:
                break
            for key, _ in selector.select(timeout=0.05):
                output: _Output = key.data
                try:
                    data = os.read(output.pipe.fileno(), 65536)
                except BlockingIOError:
                    continue
                if data:
                    for text in output.feed(data):
                        self.line(output.name, text)
                else:
                    self._close(selector, output)
        for key in list(selector.get_map().values()):
            self._close(selector, key.data)
        process_tree.reap_children()
        return _ChildEnd(status=main_status, outcome=outcome, by=by)

    def _close(self, selector: selectors.BaseSelector, output: _Output) -> None:
        try:
            while data := os.read(output.pipe.fileno(), 65536):
                for text in output.feed(data):
                    self.line(output.name, text)
        except (BlockingIOError, OSError):
            pass
        for text in output.finish():
            self.line(output.name, text)
        selector.unregister(output.pipe)
        output.pipe.close()

    def close_log(self) -> None:
        if not self.log.closed:
            self.log.flush()
            os.fsync(self.log.fileno())
            self.log.close()

    def end(
        self,
        status: str,
        exit_code: int | None,
        signal_name: str | None,
        by: str | None,
        reason: str | None = None,
        verify: list[dict[str, Any]] | None = None,
    ) -> int:
        duration = round(time.monotonic() - self.started_at, 3)
        ended = now_iso()
        result: dict[str, Any] = {
            "exit_code": exit_code,
            "signal": signal_name,
            "cancelled_by": by,
            "reason": reason,
            "ended": ended,
            "duration_s": duration,
        }
        if verify is not None:
            result["verify"] = verify
        self.line("system", _summary(status, exit_code, by, duration, reason))
        self.close_log()
        if self.audit is not None:
            try:
                self.audit.append(
                    self.audit_record("end", status=status, **result, output_tail=list(self.tail))
                )
            except AuditError as error:
                result["audit_error"] = str(error)
        history_error = self.record_history(status)
        if history_error:
            result["history_error"] = history_error
        if self.lock:
            self.lock.release()
        self.state(status, child_exit=exit_code, **result)
        return 0

    def prune(self) -> str | None:
        """Remove old finished runs, after this one's result is on disk (see runs.prune_runs).

        Done here, in the detached process, so no console waits on it; a failure
        costs a line in supervisor.log, never the run's result.

        Returns:
            A line for supervisor.log, or None when there was nothing to prune.
        """
        spec = self.spec
        protect = [Path(path) for path in (spec.audit_file, spec.history_file) if path]
        try:
            removed = runs.prune_runs(
                self.directory.parent,
                spec.keep_runs,
                spec.keep_runs_days,
                exclude={spec.run_id},
                protect=protect,
            )
        except Exception as error:  # noqa: BLE001 - pruning is housekeeping
            return f"pruning old runs failed: {error!r}"
        return f"pruned {len(removed)} old run(s)" if removed else None

    def record_history(self, status: str) -> str | None:
        """Add a deployment-history record for a deploy/rollback step; the error, if any."""
        spec = self.spec
        found = history.classify(spec.code)
        if found is None or not spec.history_file or status == "refused":
            return None
        action, to_version = found
        identity = spec.identity
        try:
            history.record_if_missing(
                Path(spec.history_file),
                spec.run_id,
                {
                    "action": action,
                    "environment": spec.environment,
                    "from_version": None,
                    "to_version": to_version,
                    "colour": None,
                    "user": identity.get("user"),
                    "host": identity.get("host"),
                    "outcome": status,
                },
            )
        except OSError as error:
            return f"deployment history not written: {error}"
        return None


def _summary(
    status: str, exit_code: int | None, by: str | None, duration: float, reason: str | None = None
) -> str:
    if status == "cancelled":
        return f"cancelled by {by} after {duration:.1f}s"
    if reason:
        return f"{status} after {duration:.1f}s: {reason}"
    if exit_code is None:
        return f"{status} after {duration:.1f}s"
    return f"{status} (exit {exit_code}) after {duration:.1f}s"


def _brief(command: str) -> str:
    """A command's first line, cut short, for a one-line reason."""
    lines = command.strip().splitlines() or [""]
    text = lines[0]
    if len(text) > BRIEF_CHARS or len(lines) > 1:
        text = text[: BRIEF_CHARS - 1] + "…"
    return text


def main(argv: list[str] | None = None) -> int:
    """Entry point: `python -m runbook.execution.supervisor RUN_DIR`.

    The executor points this process's stderr at RUN_DIR/supervisor.log, so what
    it writes there is the run's own log, read when the supervisor dies.
    """
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0])
    # The console's hangup must not end the step; SIGTERM means "cancel", handled below.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cancelled: list[bool] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: cancelled.append(True))
    process_tree.become_subreaper()
    try:
        spec = RunSpec.read(directory)
    except RunSpecError as error:
        sys.stderr.write(f"supervisor not started: {error}\n")
        return 2
    supervisor = Supervisor(directory, spec)

    def on_term(signum: int, frame: object) -> None:
        supervisor.cancel_requested = True

    supervisor.cancel_requested = bool(cancelled)
    signal.signal(signal.SIGTERM, on_term)
    try:
        code = supervisor.run()
    except BaseException as error:
        # Whatever broke (a full disk, a bug), the step must not run on unsupervised.
        process_tree.signal_tree(os.getpid(), signal.SIGKILL)
        process_tree.reap_children()
        with contextlib.suppress(Exception):
            supervisor.state("failed", reason=f"supervisor error: {error!r}", ended=now_iso())
        raise
    pruned = supervisor.prune()
    if pruned:
        sys.stderr.write(pruned + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
