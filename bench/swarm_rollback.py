"""Time from swarm starting a rollback to the services pane showing it.

    .venv/bin/python bench/swarm_rollback.py     (needs root and dockerd: a private swarm)

A one-node swarm on a private dockerd (tests/integration/swarm_engine.py; the shared engine
is only read from, to save the test image). A host-network service with a health check is
rolled back two ways, each BENCH_RUNS times (default 3):
  - auto: an update to a spec whose health check fails; `failure_action: rollback` makes
    swarm roll back by itself (what a never-ready `make deploy` under DEPLOY_RUNTIME=swarm
    meets);
  - manual: after a good update, `docker service rollback --detach` (what `make rollback`
    runs under DEPLOY_RUNTIME=swarm, deploy/swarm.sh).
The start is the time the daemon gives the service event that says rollback_started (swarm's
store changing state; `UpdateStatus.StartedAt` keeps the update's start, not the rollback's),
measured to
  - the service event reaching this process (`/events`, type service,
    updatestate.new=rollback_started),
  - a 100 ms poll of `GET /services/ID` first showing rollback_started (a pane that only
    polled would see it on average half a polling interval after the change), and
  - the console's services pane (console/panes/services.py, in a headless Textual app in
    this process, on the same swarm) first listing the service as ROLLING BACK, and then
    as rolled back (that one measured from the daemon's rollback_completed event).
Both clocks are this host's. Figures are printed, not asserted (issue 15).
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "integration"))

from live_app import LiveHarness, seed_runbook  # noqa: E402
from live_helpers import live_image, require_engine  # noqa: E402
from swarm_engine import SwarmEngine, start_swarm  # noqa: E402

from console.panes.messages import DockerEventArrived  # noqa: E402
from console.panes.services import ServicesPane  # noqa: E402
from runbook.sources.services import ServicesListed  # noqa: E402
from runbook.sources.settings import SourceSettings  # noqa: E402
from tests.waiting import wait_until  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
POLL_S = 0.1
SERVICE = "rbc-bench-rollback"
STATES = ("rollback_started", "rollback_completed")


def main() -> int:
    image = live_image(require_engine())
    swarm = start_swarm([image], name="bench-swarm")
    try:
        swarm.docker(
            "service", "create", "--detach", "--name", SERVICE, "--network", "host",
            "--update-order", "start-first", "--update-failure-action", "rollback",
            "--update-monitor", "3s", "--rollback-order", "start-first",
            "--health-cmd", 'test "$FAIL" != 1', "--health-interval", "1s",
            "--health-retries", "1", "--health-start-period", "0s",
            image, "sh", "-c", 'trap "exit 0" TERM; sleep 3600 & wait',
        )  # fmt: skip
        wait_until(lambda: replicas(swarm) == "1/1", 90, f"{SERVICE} runs 1/1")
        asyncio.run(measure(swarm))
    finally:
        swarm.stop()
    return 0


class PaneSeen:
    """When the services pane was first handed a listing with the service in each state."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.armed = False

    def hook(self, message: object) -> None:
        if not self.armed or not isinstance(message, DockerEventArrived):
            return
        event = message.event
        if isinstance(event, ServicesListed):
            for service in event.services:
                state = service.update_state
                if service.name == SERVICE and state in STATES and state not in self.seen:
                    self.seen[state] = time.time()

    def arm(self) -> None:
        self.seen.clear()
        self.armed = True


async def measure(swarm: SwarmEngine) -> None:
    client = swarm.engine.client()
    settings = SourceSettings(
        docker_host=swarm.url, orchestrator="swarm", base_url="http://127.0.0.1:9"
    )
    pane_seen = PaneSeen()
    app = LiveHarness(seed_runbook(), settings)
    figures: dict[str, list[tuple[float, float, float, float]]] = {"auto": [], "manual": []}
    async with app.run_test(size=(120, 40), message_hook=pane_seen.hook) as pilot:
        pane = app.query_one(ServicesPane)
        while not any(s.name == SERVICE for s in pane.services.values()):
            await pilot.pause(0.05)
        for kind, roll_back in (("auto", auto_rollback), ("manual", manual_rollback)):
            for run in range(1, RUNS + 1):
                watch = Watch(client)
                watch.start()
                pane_seen.arm()
                await asyncio.to_thread(roll_back, swarm)
                await wait_pane(pilot, pane_seen)
                watch.stop()
                row = watch.figures(pane_seen.seen)
                figures[kind].append(row)
                event_ms, poll_ms, pane_ms, done_ms = row
                print(
                    f"{kind:<6} run {run}: ROLLING BACK seen {event_ms:6.1f} ms by event,"
                    f" {poll_ms:6.1f} ms by {POLL_S * 1000:.0f} ms poll, {pane_ms:6.1f} ms"
                    f" in the services pane; rolled back in the pane {done_ms:6.1f} ms after"
                    " swarm said so",
                    flush=True,
                )
    for kind, rows in figures.items():
        medians = [statistics.median(column) for column in zip(*rows, strict=True)]
        print(
            f"median {kind} over {RUNS}: event {medians[0]:.1f} ms, poll {medians[1]:.1f} ms,"
            f" services pane {medians[2]:.1f} ms (ROLLING BACK), {medians[3]:.1f} ms"
            " (rolled back)"
        )


async def wait_pane(pilot: Any, seen: PaneSeen, timeout_s: float = 60) -> None:
    """Until the pane has seen the rollback complete (or the time is up: figures are NaN)."""
    deadline = time.monotonic() + timeout_s
    while "rollback_completed" not in seen.seen and time.monotonic() < deadline:
        await pilot.pause(0.05)


def auto_rollback(swarm: SwarmEngine) -> None:
    """An update whose health check fails: swarm rolls it back by itself."""
    before = update_state(swarm, "StartedAt")
    swarm.docker("service", "update", "--detach", "--env-add", "FAIL=1", SERVICE)
    wait_until(functools.partial(rolled_back, swarm, before), 180, "swarm rolled back")


def manual_rollback(swarm: SwarmEngine) -> None:
    """A good update, then `docker service rollback` (make rollback's, under swarm)."""
    swarm.docker("service", "update", "--detach", "--env-add", f"GOOD={time.time()}", SERVICE)
    wait_until(lambda: update_state(swarm) == "completed", 180, "the good update completed")
    before = update_state(swarm, "StartedAt")
    swarm.docker("service", "rollback", "--detach", SERVICE)
    wait_until(functools.partial(rolled_back, swarm, before), 180, "the rollback completed")


class Watch:
    """Follows the service's events and polls its inspect, noting when each first shows the
    rollback; `seen["swarm"]` is the event's own time (the daemon's, when swarm began it),
    `seen["swarm-done"]` the daemon's time of rollback_completed."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._events = client.events(decode=True, filters={"type": "service"})

    def start(self) -> None:
        for target in (self._follow, self._poll):
            threading.Thread(target=target, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._events.close()

    def _follow(self) -> None:
        for event in self._events:
            attributes = event.get("Actor", {}).get("Attributes", {})
            new = attributes.get("updatestate.new")
            if new == "rollback_started" and "event" not in self.seen:
                self.seen["event"] = time.time()
                self.seen["swarm"] = event["timeNano"] / 1e9
            if new == "rollback_completed" and "swarm-done" not in self.seen:
                self.seen["swarm-done"] = event["timeNano"] / 1e9
            if self._stop.is_set():
                return

    def figures(self, pane: dict[str, float]) -> tuple[float, float, float, float]:
        """Milliseconds from swarm's rollback_started to the event, the poll and the pane;
        and from swarm's rollback_completed to the pane's rolled back (NaN: not seen)."""
        started = self.seen.get("swarm", math.nan)
        done = self.seen.get("swarm-done", math.nan)

        def ms(at: float | None, since: float) -> float:
            return (at - since) * 1000 if at is not None else math.nan

        return (
            ms(self.seen.get("event"), started),
            ms(self.seen.get("poll"), started),
            ms(pane.get("rollback_started"), started),
            ms(pane.get("rollback_completed"), done),
        )

    def _poll(self) -> None:
        while not self._stop.is_set():
            status = self.client.api.inspect_service(SERVICE).get("UpdateStatus") or {}
            if status.get("State") == "rollback_started" and "poll" not in self.seen:
                self.seen["poll"] = time.time()
            time.sleep(POLL_S)


def rolled_back(swarm: SwarmEngine, started_before: str) -> bool:
    return (
        update_state(swarm, "StartedAt") != started_before
        and update_state(swarm) == "rollback_completed"
    )


def replicas(swarm: SwarmEngine) -> str:
    listed = swarm.docker(
        "service", "ls", "--filter", f"name={SERVICE}", "--format", "{{.Replicas}}"
    )
    return listed.stdout.strip()


def update_state(swarm: SwarmEngine, field: str = "State") -> str:
    template = f"{{{{if .UpdateStatus}}}}{{{{.UpdateStatus.{field}}}}}{{{{end}}}}"
    return swarm.docker("service", "inspect", "-f", template, SERVICE).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
