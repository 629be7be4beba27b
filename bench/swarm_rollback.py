"""Time from swarm starting a rollback by itself to seeing it through the engine API.

    .venv/bin/python bench/swarm_rollback.py     (needs root and dockerd: a private swarm)

A one-node swarm on a private dockerd (tests/integration/swarm_engine.py; the shared engine
is only read from, to save the test image). A host-network service with a health check is
updated to a spec whose health check fails; `failure_action: rollback` makes swarm roll back.
The start is the time the daemon gives the service event that says rollback_started (swarm's
store changing state; `UpdateStatus.StartedAt` keeps the update's start, not the rollback's),
measured to
  - the service event (`/events`, type service, updatestate.new=rollback_started), and
  - a 100 ms poll of `GET /services/ID` first showing rollback_started (what a pane that
    polls the services would see: on average half a polling interval after the change).
Both clocks are this host's. Figures are printed, not asserted (issue 15).
"""

from __future__ import annotations

import functools
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

from live_helpers import live_image, require_engine  # noqa: E402
from swarm_engine import SwarmEngine, start_swarm  # noqa: E402

from tests.waiting import wait_until  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
POLL_S = 0.1
SERVICE = "rbc-bench-rollback"


def main() -> int:
    image = live_image(require_engine())
    swarm = start_swarm([image], name="bench-swarm")
    try:
        client = swarm.engine.client()
        swarm.docker(
            "service", "create", "--detach", "--name", SERVICE, "--network", "host",
            "--update-order", "start-first", "--update-failure-action", "rollback",
            "--update-monitor", "3s", "--rollback-order", "start-first",
            "--health-cmd", 'test "$FAIL" != 1', "--health-interval", "1s",
            "--health-retries", "1", "--health-start-period", "0s",
            image, "sh", "-c", 'trap "exit 0" TERM; sleep 3600 & wait',
        )  # fmt: skip
        running = f"{SERVICE} runs 1/1"
        wait_until(lambda: replicas(swarm) == "1/1", 90, running)
        by_event, by_poll = [], []
        for run in range(1, RUNS + 1):
            watch = Watch(client)
            watch.start()
            before = update_state(swarm, "StartedAt")
            swarm.docker("service", "update", "--detach", "--env-add", "FAIL=1", SERVICE)
            wait_until(functools.partial(rolled_back, swarm, before), 180, "swarm rolled back")
            watch.stop()
            started = watch.seen.get("swarm", float("nan"))
            event_ms = (watch.seen.get("event", float("nan")) - started) * 1000
            poll_ms = (watch.seen.get("poll", float("nan")) - started) * 1000
            by_event.append(event_ms)
            by_poll.append(poll_ms)
            print(
                f"run {run}: rollback seen {event_ms:7.1f} ms by event, {poll_ms:7.1f} ms by poll"
            )
        print(
            f"median over {RUNS}: {statistics.median(by_event):.1f} ms by event, "
            f"{statistics.median(by_poll):.1f} ms by {POLL_S * 1000:.0f} ms poll"
        )
    finally:
        swarm.stop()
    return 0


class Watch:
    """Follows the service's events and polls its inspect, noting when each first shows the
    rollback; `seen["swarm"]` is the event's own time (the daemon's, when swarm began it)."""

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
            if attributes.get("updatestate.new") == "rollback_started" and "event" not in self.seen:
                self.seen["event"] = time.time()
                self.seen["swarm"] = event["timeNano"] / 1e9
            if self._stop.is_set():
                return

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
