"""The swarm services monitor against a fake engine: listings, events, reconciles, outages."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from docker.errors import APIError

from runbook.sources.docker.engine import EngineState
from runbook.sources.docker.services import ServiceMonitor, busy, services_from_api
from runbook.sources.services import (
    ServicesListed,
    ServicesUnavailable,
    image_tag,
    strip_digest,
)
from tests.waiting import wait_until

NODE = {
    "ID": "node1",
    "Description": {"Hostname": "box-a"},
    "Status": {"State": "ready"},
    "Spec": {"Availability": "active"},
    "ManagerStatus": {"Leader": True},
}


def service(
    image: str = "web:v1", replicas: int = 1, update: str = "", sid: str = "s1"
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ID": sid,
        "Spec": {
            "Name": "web" if sid == "s1" else f"svc-{sid}",
            "Mode": {"Replicated": {"Replicas": replicas}},
            "TaskTemplate": {"ContainerSpec": {"Image": f"{image}@sha256:{'a' * 64}"}},
        },
    }
    if update:
        data["UpdateStatus"] = {"State": update, "Message": f"update {update}"}
    return data


def task(
    tid: str,
    image: str = "web:v1",
    state: str = "running",
    desired: str = "running",
    err: str = "",
    stamp: str = "2026-12-04T11:32:22.5Z",
    sid: str = "s1",
    slot: int = 1,
) -> dict[str, Any]:
    return {
        "ID": tid,
        "ServiceID": sid,
        "Slot": slot,
        "NodeID": "node1",
        "DesiredState": desired,
        "Spec": {"ContainerSpec": {"Image": image}},
        "Status": {
            "State": state,
            "Err": err,
            "Timestamp": stamp,
            "ContainerStatus": {"ContainerID": f"c-{tid}"},
        },
    }


def test_images_tags_and_digests() -> None:
    assert image_tag("registry:5000/team/web:v2@sha256:abc") == "v2"
    assert image_tag("registry:5000/web") == "latest"
    assert image_tag("web@sha256:0123456789abcdef0123") == "@sha256:0123456789ab"
    assert strip_digest("web:v2@sha256:abc") == "web:v2"


def test_a_rollback_in_progress_lists_replicas_tasks_per_node_and_errors() -> None:
    rows, nodes = services_from_api(
        [service(image="web:v1", update="rollback_started")],
        [
            task("t-old", stamp="2026-12-04T11:32:20Z"),
            task(
                "t-bad",
                image="web:v2",
                state="failed",
                desired="shutdown",
                err="task: non-zero exit (137): dockerexec: unhealthy container",
                stamp="2026-12-04T11:32:40Z",
            ),
        ],
        [NODE],
    )
    assert [node.hostname for node in nodes] == ["box-a"] and nodes[0].manager
    (web,) = rows
    assert (web.name, web.image, web.tag, web.replicas) == ("web", "web:v1", "v1", "1/1")
    assert web.update_state == "rollback_started"
    assert [t.id for t in web.tasks] == ["t-bad", "t-old"]  # newest first within the slot
    bad = web.tasks[0]
    assert (bad.name, bad.node, bad.tag, bad.current) == ("web.1", "box-a", "v2", False)
    assert web.failing_tasks == (bad,) and "unhealthy" in bad.error
    assert web.tasks[1].container_id == "c-t-old"
    assert busy(rows)  # a rollback is moving


def test_global_services_count_their_current_tasks_and_filters_keep_names() -> None:
    glob = service(sid="g1")
    glob["Spec"]["Mode"] = {"Global": {}}
    rows, _ = services_from_api(
        [glob, service()],
        [task("a", sid="g1", slot=0), task("b", sid="g1", state="starting", slot=0)],
        [NODE],
        name_filter="svc",
    )
    (only,) = rows
    assert (only.name, only.mode, only.replicas) == ("svc-g1", "global", "1/2")
    assert only.tasks[0].name == "svc-g1.box-a"
    assert busy(rows)


class FakeStream:
    """An event stream the test feeds; `close()` ends it as a dropped connection does."""

    def __init__(self) -> None:
        self.events: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            event = self.events.get()
            if event is None:
                return
            yield event

    def close(self) -> None:
        self.events.put(None)


class FakeAPI:
    def __init__(self) -> None:
        self.services_list: list[dict[str, Any]] = [service()]
        self.tasks_list: list[dict[str, Any]] = [task("t1")]
        self.not_manager = False
        self.streams: list[FakeStream] = []
        self.listings = 0

    def events(self, **kwargs: Any) -> FakeStream:
        assert set(kwargs["filters"]["type"]) == {"service", "node", "container"}
        self.streams.append(FakeStream())
        return self.streams[-1]

    def services(self, status: bool = False) -> list[dict[str, Any]]:
        self.listings += 1
        if self.not_manager:
            raise APIError(
                "503 Server Error",
                response=type("R", (), {"status_code": 503, "reason": "x"})(),  # type: ignore[arg-type]
                explanation="This node is not a swarm manager.",
            )
        return list(self.services_list)

    def tasks(self) -> list[dict[str, Any]]:
        return list(self.tasks_list)

    def nodes(self) -> list[dict[str, Any]]:
        return [NODE]

    def info(self) -> dict[str, Any]:
        return {"Swarm": {"NodeID": "node1"}}

    def close(self) -> None:
        pass


class FakeEngine:
    def __init__(self, api: FakeAPI, host: str = "unix:///fake/manager.sock") -> None:
        self.api = api
        self.docker_host = host
        self.state = EngineState(True, 0.0)
        self._stopped = threading.Event()
        self._on_stop: list[Any] = []
        self.failures: list[str] = []

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        self._stopped.set()
        for stream in self.api.streams:
            stream.close()
        for callback in list(self._on_stop):
            callback()

    def on_stop(self, callback: Any) -> Any:
        self._on_stop.append(callback)
        if self.stopped:
            callback()
        return lambda: self._on_stop.remove(callback) if callback in self._on_stop else None

    def wait_reachable(self, timeout_s: float | None = None) -> bool:
        return not self.stopped

    def client(self, timeout_s: float | None = None, pool: int = 4) -> FakeAPI:
        return self.api

    def register(self, stream: Any) -> None:
        pass

    def unregister(self, stream: Any) -> None:
        stream.close()

    def report_failure(self, detail: str) -> None:
        self.failures.append(detail)

    def sleep(self, seconds: float) -> bool:
        return not self._stopped.wait(seconds)


class Running:
    """A monitor on a thread, its emitted events collected."""

    def __init__(self, monitor: ServiceMonitor, engine: FakeEngine) -> None:
        self.monitor, self.engine = monitor, engine
        self.seen: list[object] = []
        self.thread = threading.Thread(target=monitor.run, args=(self.seen.append,), daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.stop()
        self.thread.join(5)
        assert not self.thread.is_alive()

    def listings(self) -> list[ServicesListed]:
        return [event for event in self.seen if isinstance(event, ServicesListed)]


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


def test_first_listing_then_an_event_relists_and_an_unchanged_reconcile_is_silent(
    api: FakeAPI,
) -> None:
    engine = FakeEngine(api)
    monitor = ServiceMonitor(engine, interval_s=0.05, busy_interval_s=0.05)  # type: ignore[arg-type]
    with Running(monitor, engine) as run:
        wait_until(lambda: len(run.listings()) == 1, 5)
        first = run.listings()[0]
        assert [s.replicas for s in first.services] == ["1/1"]
        assert first.reachable_nodes == {"node1": engine.docker_host}
        calls = api.listings
        wait_until(lambda: api.listings >= calls + 3, 5)  # periodic reconciles...
        assert len(run.listings()) == 1  # ...that found nothing new emit nothing

        api.services_list = [service(image="web:v2", update="updating")]
        api.tasks_list = [
            task("t2", image="web:v2", state="starting", stamp="2026-12-04T11:33:00Z"),
            task("t1"),
        ]
        api.streams[-1].events.put({"Type": "service", "Action": "update", "Actor": {}})
        wait_until(lambda: len(run.listings()) == 2, 5)
        web = run.listings()[-1].services[0]
        assert (web.update_state, web.tag, web.replicas) == ("updating", "v2", "1/1")
        assert [t.tag for t in web.tasks] == ["v2", "v1"]
        assert monitor.services["s1"] == web


def test_containers_without_swarm_labels_start_no_reconcile(api: FakeAPI) -> None:
    engine = FakeEngine(api)
    monitor = ServiceMonitor(engine, interval_s=30, busy_interval_s=30)  # type: ignore[arg-type]
    with Running(monitor, engine) as run:
        wait_until(lambda: len(run.listings()) == 1, 5)
        stream = api.streams[-1]
        stream.events.put({"Type": "container", "Action": "start", "Actor": {"Attributes": {}}})
        api.tasks_list = [task("t1", state="failed", err="boom")]
        label = {"com.docker.swarm.task.id": "t1"}
        stream.events.put({"Type": "container", "Action": "die", "Actor": {"Attributes": label}})
        wait_until(lambda: len(run.listings()) == 2, 5)
        assert api.listings == 2  # the unlabelled container's event started none
        assert run.listings()[-1].services[0].failing_tasks[0].error == "boom"


def test_an_engine_that_is_no_manager_is_reported_once_then_listed_when_it_becomes_one(
    api: FakeAPI,
) -> None:
    api.not_manager = True
    engine = FakeEngine(api)
    monitor = ServiceMonitor(engine, interval_s=0.05)  # type: ignore[arg-type]
    with Running(monitor, engine) as run:
        wait_until(lambda: api.listings >= 3, 5)
        unavailable = [e for e in run.seen if isinstance(e, ServicesUnavailable)]
        assert len(unavailable) == 1
        assert "not a swarm manager" in unavailable[0].reason
        assert 'orchestrator = "docker"' in unavailable[0].reason
        api.not_manager = False
        wait_until(lambda: len(run.listings()) == 1, 5)


def test_a_dropped_event_stream_reconnects_and_lists_again(api: FakeAPI) -> None:
    engine = FakeEngine(api)
    monitor = ServiceMonitor(engine, interval_s=30)  # type: ignore[arg-type]
    with Running(monitor, engine) as run:
        wait_until(lambda: len(run.listings()) == 1, 5)
        api.streams[-1].close()  # the engine restarted: the same services, listed anew
        wait_until(lambda: len(run.listings()) == 2, 5)
        assert engine.failures == ["event stream ended"]
        assert len(api.streams) == 2
        assert run.listings()[0] == run.listings()[1]


def test_only_engines_that_answer_and_are_nodes_read_stats(api: FakeAPI) -> None:
    manager = FakeEngine(api)
    other_api = FakeAPI()
    other = FakeEngine(other_api, "tcp://127.0.0.1:2376")
    other_api.info = lambda: {"Swarm": {"NodeID": "node-elsewhere"}}  # type: ignore[method-assign]
    down = FakeEngine(FakeAPI(), "tcp://127.0.0.1:2377")
    down.state = EngineState(False, 0.0)
    monitor = ServiceMonitor(
        manager,  # type: ignore[arg-type]
        node_engines=(manager, other, down),  # type: ignore[arg-type]
        interval_s=30,
    )
    with Running(monitor, manager) as run:
        wait_until(lambda: len(run.listings()) == 1, 5)
        assert run.listings()[0].reachable_nodes == {"node1": manager.docker_host}


def test_service_log_lines_name_their_task() -> None:
    from runbook.sources.docker.service_logs import ServiceLogFollower, split_details

    attributes, text = split_details(
        "com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,"
        "com.docker.swarm.task.id=t1 GET /health 200 a=b"
    )
    assert attributes["com.docker.swarm.task.id"] == "t1" and text == "GET /health 200 a=b"
    assert split_details("plain text=1 line") == ({}, "plain text=1 line")
    follower = ServiceLogFollower(
        FakeEngine(FakeAPI()),  # type: ignore[arg-type]
        ["web"],
        task_name={"t1": "web.1"}.get,  # type: ignore[arg-type]
    )
    line = follower._line(
        "web", b"2026-12-04T11:32:43.625853077Z com.docker.swarm.task.id=t1 tick 22"
    )
    assert (line.container, line.task, line.text) == ("web", "web.1", "tick 22")
    assert line.timestamp == "2026-12-04T11:32:43.625853077Z"
