"""A step that rolls across hosts: which engines, in which batches, and the roll itself.

`roll_plan` turns a step's `Rollout` (runbook.document.rollout) and the environment's
engines (`docker_hosts` in the config) into a `RollPlan`: the canaries first, on their
own, then the other hosts in batches. `run_roll` runs it with a function that runs the
step on one host (the executor gives one that starts a supervised run with
`DOCKER_HOST` set to that engine): the hosts of a batch run at once, each on a thread
of its own; a batch that brings the failures past `max_failures` is the last one (its
running hosts finish), and a cancel stops every host not started. What each host is
doing goes to `on_host` as it changes, for a progress grid.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from runbook.config import DEFAULT_DOCKER_HOST, host_label
from runbook.document.rollout import GIVEN_PER_HOST
from runbook.model import Rollout

HostState = Literal["pending", "running", "ok", "failed", "skipped", "cancelled", "unknown"]
HOST_STATES: tuple[HostState, ...] = (
    "pending", "running", "ok", "failed", "skipped", "cancelled", "unknown",
)  # fmt: skip
"""`unknown`: only in a roll closed after its console stopped, for a host whose supervisor
died without a result (runbook.execution.rolls)."""
DOCKER_HOST, DOCKER_CONTEXT, ROLL_HOST = GIVEN_PER_HOST
"""Told to the step on each host: its engine, and its name as the plan and audit name it."""


class RollError(ValueError):
    """The rollout names a host the environment does not have, or there is none."""


@dataclass(frozen=True)
class RollHost:
    """One engine a rolled step runs on."""

    name: str
    """Its short name (the address without the scheme, or the context's name)."""
    engine: str
    """As the config names it: a URL or a Docker context name."""

    @property
    def env(self) -> tuple[tuple[str, str], ...]:
        """What the step is told: `DOCKER_HOST` (or `DOCKER_CONTEXT`) and its name."""
        variable = DOCKER_HOST if is_url(self.engine) else DOCKER_CONTEXT
        return ((variable, self.engine), (ROLL_HOST, self.name))


@dataclass(frozen=True)
class RollPlan:
    """The hosts of a rolled step, in the order they run, and when the roll stops."""

    batches: tuple[tuple[RollHost, ...], ...]
    """The canaries' batch first (when there are canaries), then the others'."""
    max_failures: int
    canary: int

    @property
    def hosts(self) -> tuple[RollHost, ...]:
        return tuple(host for batch in self.batches for host in batch)

    def describe(self) -> list[str]:
        """Lines a confirmation and a dry-run show: every host, by batch."""
        stops = (
            "stops at the first failure"
            if self.max_failures == 0
            else f"stops once more than {self.max_failures} host(s) failed"
        )
        lines = [f"{len(self.hosts)} host(s), {len(self.batches)} batch(es), {stops}"]
        for number, batch in enumerate(self.batches, 1):
            what = "canary" if number == 1 and self.canary else f"batch {number}"
            names = ", ".join(f"{host.name}" + _engine_note(host) for host in batch)
            lines.append(f"{what}: {names}")
        return lines

    def digest_parts(self) -> list[str]:
        parts = ["roll", str(self.max_failures)]
        for batch in self.batches:
            parts += ["batch", *(host.engine for host in batch)]
        return parts


def _engine_note(host: RollHost) -> str:
    return "" if host.name == host.engine else f" ({host.engine})"


def is_url(engine: str) -> bool:
    """Whether an engine is named by URL (else it is a Docker context's name)."""
    return "://" in engine or engine.startswith("/")


def environment_engines(configured: Sequence[str], environ: Mapping[str, str]) -> tuple[str, ...]:
    """The engines a roll may use: the config's, else the one `docker` talks to now."""
    if configured:
        return tuple(configured)
    return (environ.get(DOCKER_HOST) or DEFAULT_DOCKER_HOST,)


def roll_plan(rollout: Rollout, engines: Sequence[str]) -> RollPlan:
    """The hosts a rollout names, canaries first, then in batches.

    Args:
        rollout: the step's attributes.
        engines: the environment's engines, in the config's order.

    Raises:
        RollError: a name matches no engine, or there is no engine at all.
    """
    available = [RollHost(host_label(engine), engine) for engine in engines]
    if not available:
        raise RollError("the environment has no Docker engine to roll across")
    if rollout.hosts is None:
        chosen = available
    else:
        chosen = []
        for name in rollout.hosts:
            host = next((h for h in available if name in (h.name, h.engine)), None)
            if host is None:
                names = ", ".join(h.name for h in available)
                raise RollError(f"host {name!r} is not one of the environment's ({names})")
            if host not in chosen:
                chosen.append(host)
    canary = min(rollout.canary, len(chosen))
    batches: list[tuple[RollHost, ...]] = [tuple(chosen[:canary])] if canary else []
    rest = chosen[canary:]
    batches += [tuple(rest[i : i + rollout.batch]) for i in range(0, len(rest), rollout.batch)]
    return RollPlan(tuple(batches), rollout.max_failures, canary)


@dataclass(frozen=True)
class HostOutcome:
    """Where one host of a roll is: its state and, once it ran, how it ended."""

    host: RollHost
    state: HostState
    exit_code: int | None = None
    run_id: str | None = None
    reason: str | None = None

    @property
    def ran(self) -> bool:
        """Whether it started (a run of its own), however it ended or not yet."""
        return self.state not in ("pending", "skipped") and self.run_id is not None


@dataclass(frozen=True)
class RollOutcome:
    """How a roll ended: every host's outcome, in the plan's order."""

    hosts: tuple[HostOutcome, ...]
    cancelled_by: str | None = None
    interrupted: str | None = None
    """Why the roll was closed by someone other than its console (which stopped mid-roll):
    its hosts may then be still running, or unknown (runbook.execution.rolls)."""

    def named(self, state: HostState) -> list[str]:
        return [outcome.host.name for outcome in self.hosts if outcome.state == state]

    @property
    def status(self) -> Literal["succeeded", "failed", "cancelled", "interrupted"]:
        if self.interrupted is not None and any(o.state != "ok" for o in self.hosts):
            return "interrupted"
        if self.cancelled_by is not None or self.named("cancelled"):
            return "cancelled"
        return "succeeded" if all(o.state == "ok" for o in self.hosts) else "failed"

    def summary(self) -> str:
        """`2 of 3 hosts ok; failed: b; skipped: c`."""
        text = f"{len(self.named('ok'))} of {len(self.hosts)} hosts ok"
        for state in ("failed", "cancelled", "running", "unknown", "skipped"):
            names = self.named(state)
            if names:
                text += f"; {state}: {', '.join(names)}"
        return text

    def record(self) -> dict[str, object]:
        """The audit `roll` record's summary: which hosts ran, failed and were skipped."""
        return {
            "status": self.status,
            "ran": [o.host.name for o in self.hosts if o.ran],
            "ok": self.named("ok"),
            "failed": self.named("failed"),
            "cancelled": self.named("cancelled"),
            "skipped": self.named("skipped"),
            **(
                {
                    "interrupted": self.interrupted,
                    "running": self.named("running"),
                    "unknown": self.named("unknown"),
                }
                if self.interrupted is not None
                else {}
            ),
            "hosts": [
                {
                    "host": o.host.name,
                    "engine": o.host.engine,
                    "state": o.state,
                    "exit_code": o.exit_code,
                    "run_id": o.run_id,
                    **({"reason": o.reason} if o.reason else {}),
                }
                for o in self.hosts
            ],
            **({"cancelled_by": self.cancelled_by} if self.cancelled_by else {}),
        }


RunHost = Callable[[RollHost], HostOutcome]
"""Runs the step on one host to its end (blocking) and says how it ended."""
OnHost = Callable[[HostOutcome], None]


def run_roll(
    plan: RollPlan,
    run_host: RunHost,
    cancelled: Callable[[], str | None],
    on_host: OnHost | None = None,
) -> RollOutcome:
    """Run a roll: batch after batch, the hosts of a batch at once.

    Args:
        plan: the hosts and batches.
        run_host: runs the step on one host (blocks; called on a thread per host).
        cancelled: who cancelled the roll, or None; asked before each batch.
        on_host: told every change of a host's state (pending at first, from any thread).

    Returns:
        Every host's outcome: ok or failed once run, cancelled if stopped while running,
        skipped if never started (after too many failures, or a cancel).
    """
    report = on_host or (lambda outcome: None)
    outcomes = {host: HostOutcome(host, "pending") for host in plan.hosts}
    guard = threading.Lock()

    def note(outcome: HostOutcome) -> None:
        with guard:
            outcomes[outcome.host] = outcome
        report(outcome)

    for outcome in list(outcomes.values()):
        report(outcome)
    stop_reason: str | None = None
    by: str | None = None
    for batch in plan.batches:
        by = cancelled()
        if by is not None:
            stop_reason = f"cancelled by {by} before it started"
            break
        threads = [
            threading.Thread(
                target=_run_one, args=(host, run_host, note), name=f"roll-{host.name}", daemon=True
            )
            for host in batch
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with guard:
            failed = sum(1 for o in outcomes.values() if o.state == "failed")
            stopped = any(o.state == "cancelled" for o in outcomes.values())
        if stopped:
            by = cancelled() or by
            stop_reason = "the roll was cancelled"
            break
        if failed > plan.max_failures:
            stop_reason = f"the roll stopped after {failed} failed host(s)"
            break
    for host in plan.hosts:
        if outcomes[host].state == "pending":
            note(HostOutcome(host, "skipped", reason=stop_reason))
    return RollOutcome(tuple(outcomes[host] for host in plan.hosts), by)


def _run_one(host: RollHost, run_host: RunHost, note: OnHost) -> None:
    note(HostOutcome(host, "running"))
    try:
        outcome = run_host(host)
    except Exception as error:  # noqa: BLE001 - one host's crash is that host's failure
        outcome = HostOutcome(host, "failed", reason=f"could not run: {error}")
    note(replace(outcome, host=host))
