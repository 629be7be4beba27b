"""Drill mode: a scenario's fault in a sandbox, the trainee works the runbook, a score.

```python
drill = Drill(find_scenario("crash-loop"), runbook, sandbox=open_sandbox(...))
drill.start()                      # sandbox up, traffic on, fault injected and visible
drill.acknowledge()                # explicit, timestamped, like an incident
plan = drill.plan(2)               # the named procedure's step 2, confirmed as for real
drill.run_step(2, confirmation=plan.confirm(by="trainee"))   # runs it in the sandbox
drill.mark(4, "skipped", reason="logs not needed")
drill.wait_for_mitigation(60)      # the endpoint and threshold checks decide
result = drill.finish()            # score saved; sandbox removed
```

A drill is an incident with `drill` set: the same timeline, deadlines and
report, all marked DRILL. Commands run through the executor (confirmation,
audit trail, lock) against the environment `DRILL-<id>`, whose settings point
every make target and deploy script at the sandbox. A command that names a
port or container outside the sandbox is refused before it runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from runbook.config import Config, ConfigError, EnvironmentConfig, ExecutionConfig
from runbook.drills.checks import CheckState, DrillChecks
from runbook.drills.load import LoadGenerator
from runbook.drills.scenarios import Scenario
from runbook.drills.score import Score, save_result, score
from runbook.execution.executor import Executor, StepReporter, StepResult
from runbook.execution.history import read_history
from runbook.execution.plan import Confirmation, Plan
from runbook.incident import actions
from runbook.incident.events import IncidentReporter, masker_for, readings_event, step_event
from runbook.incident.model import Incident, IncidentError, open_incident
from runbook.incident.store import IncidentStore
from runbook.incident.timeline import Event, iso, make_event, now_utc
from runbook.model import Procedure, Runbook
from runbook.sources.gauges import Hysteresis
from runbook.storage import paths
from runbook.storage.session import checklist_status

DRILL_ACTOR = "drill"
BANNER = "DRILL"
"""Shown on every line the drill prints and in the console's banner."""
_LOOPBACK_PORT = re.compile(r"(?:localhost|127\.0\.0\.1):(\d+)")
_UNPREFIXED_CONTAINER = re.compile(r"(?<![\w-])monkeytown-(?:web|proxy)(?:-\w+)?\b")
_COMPOSE = re.compile(r"\bdocker[- ]compose\b")
_ENV_LOCK = threading.Lock()


class DrillSandbox(Protocol):
    """What a drill needs of a sandbox (`runbook.drills.sandboxes` has Docker and local ones)."""

    drill_id: str
    environment: str
    prefix: str
    """Every container or process name of the sandbox starts with it."""
    directory: Path
    proxy_port: int
    blue_port: int
    green_port: int

    @property
    def kind(self) -> str: ...

    @property
    def base_url(self) -> str: ...

    @property
    def history_dir(self) -> Path: ...

    def env(self) -> dict[str, str]: ...

    def names(self) -> list[str]: ...

    def up(self) -> None: ...

    def inject(self, scenario: Scenario) -> None: ...

    def down(self) -> None: ...

    def restart_counts(self) -> dict[str, int]: ...


class DrillError(RuntimeError):
    """The drill could not start or a request does not fit it; one line."""


def new_drill_id() -> str:
    return secrets.token_hex(3)


def drills_dir(config: Config | None = None) -> Path:
    """Where drill results and sandboxes live: `<state dir>/drills/`."""
    return (config.state_dir if config else paths.state_dir()) / "drills"


def sandbox_refusal(codes: tuple[str, ...], sandbox: DrillSandbox) -> str | None:
    """Why a command would reach outside the sandbox, or None when it stays inside."""
    own_ports = {sandbox.proxy_port, sandbox.blue_port, sandbox.green_port}
    for code in codes:
        for port in _LOOPBACK_PORT.findall(code):
            if int(port) not in own_ports:
                return (
                    f"refused in a drill: {code!r} talks to port {port}, outside the sandbox "
                    f"(its ports: {', '.join(str(p) for p in sorted(own_ports))})"
                )
        if _UNPREFIXED_CONTAINER.search(code):
            return f"refused in a drill: {code!r} names a container outside the sandbox"
        if _COMPOSE.search(code):
            return f"refused in a drill: {code!r} runs a compose file outside the sandbox"
    return None


@contextlib.contextmanager
def _history_env(directory: Path) -> Iterator[None]:
    """The executor records deploys in DEPLOY_HISTORY_DIR: the sandbox's, never the real one."""
    with _ENV_LOCK:
        previous = os.environ.get("DEPLOY_HISTORY_DIR")
        os.environ["DEPLOY_HISTORY_DIR"] = str(directory)
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("DEPLOY_HISTORY_DIR", None)
            else:
                os.environ["DEPLOY_HISTORY_DIR"] = previous


def drill_hysteresis(config: Config, environment: str) -> Hysteresis:
    """The gauges pane's hysteresis for the sandbox's environment (`[sources]`), so the drill
    calls a breach and its recovery when the operator's gauges would; the default when that
    table is broken (the console says so where it shows the gauges)."""
    try:
        return config.sources.for_environment(environment).hysteresis
    except ConfigError:
        return Hysteresis()


class Drill:
    """One drill run: start, let the trainee act, poll the checks, finish with a score."""

    def __init__(
        self,
        scenario: Scenario,
        runbook: Runbook,
        *,
        sandbox: DrillSandbox,
        config: Config | None = None,
        store: IncidentStore | None = None,
        clock: Callable[[], datetime] = now_utc,
        trainee: str | None = None,
        load_rate: float = 20.0,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self.scenario = scenario
        self.runbook = runbook
        self.sandbox = sandbox
        self.id = sandbox.drill_id
        self.clock = clock
        self.trainee = trainee
        self.on_event = on_event
        base = config or Config()
        environment = EnvironmentConfig(
            name=sandbox.environment,
            production=False,
            env=sandbox.env(),
            base_url=sandbox.base_url,
        )
        execution = (
            dataclasses.replace(base.execution, lock_dir=str(sandbox.directory / "locks"))
            if base.execution
            else ExecutionConfig(lock_dir=str(sandbox.directory / "locks"))
        )
        self.config = dataclasses.replace(
            base,
            environments={**base.environments, sandbox.environment: environment},
            execution=execution,
        )
        self.store = store or IncidentStore(self.config.state_dir / "incidents")
        self.executor = Executor(self.config)
        self.masker = masker_for(self.config)
        self.checks = DrillChecks(
            runbook, sandbox.base_url, hysteresis=drill_hysteresis(self.config, sandbox.environment)
        )
        self.load = LoadGenerator(sandbox.base_url + "/", rate=load_rate)
        self.incident: Incident | None = None
        self.started_at: datetime | None = None
        self.last_state: CheckState | None = None
        self._restarts: dict[str, int] = {}
        self._loaded = False
        self._down = False
        self._poll_lock = threading.Lock()
        self._deployments_seen = 0
        self._poller: threading.Thread | None = None
        self._stop_polling = threading.Event()

    # -- the procedure ----------------------------------------------------------------------

    @property
    def procedure(self) -> Procedure:
        found = self.runbook.procedure(self.scenario.procedure)
        if found is None:
            raise DrillError(
                f"the runbook has no procedure {self.scenario.procedure!r} for this drill"
            )
        return found

    @property
    def incident_id(self) -> str:
        if self.incident is None:
            raise DrillError("the drill has not started")
        return self.incident.id

    def _record(self, event: Event) -> None:
        if self.incident is None:
            return
        self.incident.record(event)
        self.store.append(self.incident.id, event)
        if self.on_event is not None:
            self.on_event(event)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, baseline_timeout_s: float = 60, fault_timeout_s: float = 90) -> Incident:
        """Bring the sandbox up, start traffic, inject the fault and wait until it shows."""
        procedure = self.procedure
        try:
            self.sandbox.up()
            self.load.start()
            self._loaded = True
            if not self._wait(lambda s: s.healthy, baseline_timeout_s, stable=2):
                raise DrillError(f"the sandbox did not become healthy: {self._faults()}")
            self.sandbox.inject(self.scenario)
            if not self._wait(lambda s: s.shows(self.scenario.symptom), fault_timeout_s):
                raise DrillError("the injected fault did not show in the checks")
        except BaseException:
            self.abort()
            raise
        opened = open_incident(
            self.runbook,
            self.scenario.severity,
            title=f"{BANNER}: {self.scenario.title}",
            by=DRILL_ACTOR,
            clock=self.clock,
            environment=self.sandbox.environment,
            drill=self.id,
            alert={"name": self.scenario.alert, "labels": {"scenario": self.scenario.name}},
        )
        opened.procedure = procedure.key
        self.store.save(opened)
        self.incident = opened
        self.started_at = self.clock()
        faults = "; ".join(self.last_state.faults) if self.last_state else ""
        self._record(
            make_event(
                "fault-injected",
                f"{BANNER} {self.scenario.name}: {self.scenario.briefing} Now: {faults}",
                actor=DRILL_ACTOR,
                scenario=self.scenario.name,
                sandbox=self.sandbox.kind,
                base_url=self.sandbox.base_url,
            )
        )
        if self.last_state is not None:
            # The gauges as the drill opens, after its briefing: what the trainee starts from.
            self._record(readings_event("open", self.last_state.readings))
            for event in DrillChecks.changes(None, self.last_state):
                self._record(event)
        self._check_deployments()
        return opened

    def _wait(
        self, condition: Callable[[CheckState], bool], timeout_s: float, stable: int = 1
    ) -> bool:
        deadline = time.monotonic() + timeout_s
        streak = 0
        while time.monotonic() < deadline:
            state, _ = self.checks.poll()
            self.last_state = state
            streak = streak + 1 if condition(state) else 0
            if streak >= stable:
                return True
            time.sleep(1.0)
        return False

    def _faults(self) -> str:
        return "; ".join(self.last_state.faults) if self.last_state else "no data"

    def poll(self) -> CheckState:
        """Check now; record what changed; record mitigation once the checks pass."""
        with self._poll_lock:
            return self._poll()

    def start_polling(self, interval_s: float = 1.0) -> None:
        """Poll from a background thread until `finish`, so mitigation is seen when it happens."""
        if self._poller is not None:
            return

        def loop() -> None:
            while not self._stop_polling.wait(interval_s):
                with contextlib.suppress(Exception):
                    self.poll()

        self._poller = threading.Thread(target=loop, name=f"drill-{self.id}-checks", daemon=True)
        self._poller.start()

    def _poll(self) -> CheckState:
        state, events = self.checks.poll()
        self.last_state = state
        for event in events:
            self._record(event)
        self._check_restarts()
        self._check_deployments()
        if (
            self.checks.mitigated
            and self.incident is not None
            and self.incident.mitigated_at is None
        ):
            event = make_event(
                "mitigated",
                f"{BANNER}: checks pass: every endpoint healthy, request gauges below warning",
                actor="console",
            )
            self.incident.mitigated_at = event.time
            recorded: list[Event] = []

            def apply(incident: Incident) -> None:
                incident.record(event)
                incident.mitigated_at = incident.mitigated_at or event.time
                recorded.append(incident.record_readings("mitigation", state.readings))

            self.incident = self.store.update(self.incident.id, apply)
            if self.on_event is not None:
                for news in (event, *recorded):
                    self.on_event(news)
        return state

    def _check_deployments(self) -> None:
        """Deploys and rollbacks the sandbox's history gained, as `deployment` events."""
        records = read_history(self.sandbox.history_dir / "deployments.jsonl")
        for record in records[self._deployments_seen :]:
            versions = f"{record.get('from_version') or '?'} -> {record.get('to_version') or '?'}"
            self._record(
                Event(
                    time=str(record.get("time") or iso(self.clock())),
                    kind="deployment",
                    actor=str(record.get("user") or "?"),
                    text=f"{record.get('action')} {versions} on {record.get('colour') or '?'}: "
                    f"{record.get('outcome') or '?'}",
                    data={k: v for k, v in record.items() if v is not None},
                )
            )
        self._deployments_seen = max(self._deployments_seen, len(records))

    def _check_restarts(self) -> None:
        for name, count in self.sandbox.restart_counts().items():
            before = self._restarts.get(name)
            self._restarts[name] = count
            if before is not None and count > before:
                self._record(
                    make_event(
                        "container-restart",
                        f"{name} restarted ({count} restarts)",
                        actor="console",
                        container=name,
                        restarts=count,
                    )
                )

    @property
    def mitigated(self) -> bool:
        return self.incident is not None and self.incident.mitigated_at is not None

    def wait_for_mitigation(self, timeout_s: float, interval_s: float = 1.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.poll()
            if self.mitigated:
                return True
            time.sleep(interval_s)
        return self.mitigated

    # -- trainee actions ----------------------------------------------------------------------

    def acknowledge(self) -> None:
        """Acknowledge; the procedure's acknowledge step is ticked with it (as in the TUI)."""
        self._act(lambda i: actions.acknowledge(i, self.procedure, by=self.trainee))

    def note(self, text: str) -> None:
        self._record(make_event("note", text, actor=self.trainee))

    def mark(
        self, index: int, status: str, reason: str | None = None, procedure: str | None = None
    ) -> None:
        """Tick a step done, skipped (with a reason) or failed without running it; ticking
        the acknowledge step done acknowledges."""
        found = self.runbook.procedure(procedure) if procedure else self.procedure
        if found is None:
            raise DrillError(f"no procedure {procedure!r}")
        if found.step_at(index) is None:
            raise DrillError(f"{found.title} has no step {index}")
        self._act(
            lambda i: actions.mark_step(i, found, index, status, reason=reason, by=self.trainee)
        )

    def _act(self, action: Callable[[Incident], list[Event]]) -> None:
        """Apply an incident action to the stored incident; show what it recorded."""
        if self.incident is None:
            raise DrillError("the drill has not started")
        recorded: list[Event] = []
        try:
            self.incident = self.store.update(
                self.incident.id, lambda incident: recorded.extend(action(incident))
            )
        except IncidentError as error:
            raise DrillError(str(error)) from None
        if self.on_event is not None:
            for event in recorded:
                self.on_event(event)

    def plan(self, index: int, procedure: str | None = None) -> Plan:
        found = self.runbook.procedure(procedure) if procedure else self.procedure
        if found is None:
            raise DrillError(f"no procedure {procedure!r}")
        return self.executor.plan(self.runbook, found, index, environment=self.sandbox.environment)

    def reporter(self, inner: StepReporter | None = None) -> IncidentReporter:
        """`inner`, also recording each command it reports in the drill's timeline (for a
        plan of the drill's environment run with `executor`, such as a container action)."""
        return IncidentReporter(self._record, inner, self.masker, self.trainee)

    def run_step(
        self,
        index: int,
        procedure: str | None = None,
        reporter: StepReporter | None = None,
        confirmation: Confirmation | None = None,
    ) -> StepResult:
        """Run a step's commands for real against the sandbox, once the trainee confirmed
        it as in a real incident (`confirmation`, of `plan(index)`): a step that needs a
        confirmation is refused without one."""
        step_plan = self.plan(index, procedure)
        checks = tuple(check.code for check in step_plan.verify)
        refusal = sandbox_refusal((*step_plan.resolved_commands, *checks), self.sandbox)
        recorder = self.reporter(reporter)
        if refusal is None and step_plan.needs_confirmation and confirmation is None:
            refusal = f"not confirmed: a {step_plan.risk} step runs once the trainee confirms it"
        if refusal is not None:
            result = StepResult(status="refused", reason=refusal)
            recorder.finished(step_plan, result)
            return result
        with _history_env(self.sandbox.history_dir):
            result = self.executor.run(step_plan, recorder, confirmation)
        status = checklist_status(result.status)
        reason = None if result.ok else (result.reason or f"exit {result.exit_code}")
        self._record(
            step_event(
                step_plan.procedure,
                index,
                step_plan.step_title,
                status,
                reason=reason,
                actor=self.trainee,
            )
        )
        return result

    # -- the end ------------------------------------------------------------------------------

    def finish(self, resolution: str | None = None) -> Score:
        """Score, close the drill's incident, save the result and remove the sandbox."""
        if self.incident is None or self.started_at is None:
            raise DrillError("the drill has not started")
        try:
            if not self.mitigated:
                self.poll()
            with self._poll_lock:
                self._check_deployments()
            ended = self.clock()
            closing = self.last_state.readings if self.last_state else ()
            text = resolution or (
                f"{BANNER} ended: mitigated" if self.mitigated else f"{BANNER} ended: not mitigated"
            )

            def close(incident: Incident) -> None:
                if incident.is_open:
                    incident.record_readings("close", closing, at=ended)
                    incident.close(text, by=DRILL_ACTOR, at=ended)

            self.incident = self.store.update(self.incident.id, close)
            result = score(
                scenario=self.scenario.name,
                drill_id=self.id,
                procedure=self.procedure,
                events=self.incident.events,
                started_at=self.started_at,
                ended_at=ended,
                sandbox=self.sandbox.kind,
                acknowledge_s=self.incident.acknowledge_s,
                incident=self.incident.id,
            )
            save_result(drills_dir(self.config), result)
            return result
        finally:
            self.abort()

    def abort(self) -> None:
        """Stop traffic and remove the sandbox (safe to call more than once)."""
        self._stop_polling.set()
        if self._poller is not None:
            self._poller.join(timeout=10)
        if self._loaded:
            self.load.stop()
            self._loaded = False
        if not self._down:
            self._down = True
            self.sandbox.down()
