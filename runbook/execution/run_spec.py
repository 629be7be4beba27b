"""What a supervisor is to run: the `spec.json` the executor writes in a run's directory.

The executor (in the console) writes a `RunSpec`; the detached supervisor reads it
back with `RunSpec.read`, which checks every field, so a damaged or hand-edited
file stops the supervisor with one line naming the field, never a KeyError halfway
through a run. The spec holds no secrets: values given as environment variables
reach the supervisor through its environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from runbook.model import RISK_ORDER, Risk
from runbook.storage.atomic_file import write_atomic

SPEC_FILE = "spec.json"

Identity = Mapping[str, str | int | None]
"""Who started the run (`audit.operator_identity`): user, uid, host, tty, ssh_client."""


class RunSpecError(ValueError):
    """A spec.json that cannot be read, is not JSON, or has a field missing or mistyped."""


@dataclass(frozen=True)
class VerifySpec:
    """One `rb-verify` command, run once the step's script has succeeded."""

    code: str
    risk: Risk
    """As the plan judged it; the supervisor judges the command again before running it."""


@dataclass(frozen=True)
class RunSpec:
    """Everything the supervisor needs to run, lock, audit and record one step."""

    run_id: str
    code: str
    """The step's commands as one bash script."""
    cwd: str
    timeout_s: float
    grace_s: float
    """After SIGTERM, how long before SIGKILL."""
    environment: str
    production: bool
    risk: Risk
    mutating: bool
    """Takes the environment lock and refuses to run without an audit trail."""
    lock_dir: str
    audit_file: str
    history_file: str
    runbook_path: str | None
    runbook_sha256: str
    procedure: str
    procedure_title: str
    step: int
    step_title: str
    identity: Identity
    secret_patterns: tuple[str, ...]
    secret_names: tuple[str, ...]
    verify: tuple[VerifySpec, ...]
    verify_timeout_s: float
    keep_runs: int
    keep_runs_days: float
    console_pid: int
    created: str
    """ISO 8601 (UTC) time the console wrote the spec."""
    host: str | None = None
    """For one host of a roll: the host's name (its engine is the step's `DOCKER_HOST`)."""
    engine: str | None = None
    """For one host of a roll: the engine as the config names it."""
    roll_id: str | None = None
    """For one host of a roll: the roll's id, as the audit's `roll` record names it."""
    lock_fd: int | None = None
    """For a mutating roll: the inherited descriptor of the environment lock the roll took
    once for all its hosts; the supervisor checks it holds that lock instead of taking it."""

    def to_json(self) -> str:
        data = asdict(self)
        data["identity"] = dict(self.identity)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        """The spec in `text`.

        Raises:
            RunSpecError: not a JSON object, a field missing or of the wrong type, or
                a field this version does not know.
        """
        try:
            data = json.loads(text)
        except ValueError as error:
            raise RunSpecError(f"not JSON: {error}") from None
        if not isinstance(data, dict):
            raise RunSpecError(f"not a JSON object but {_kind(data)}")
        unknown = sorted(set(data) - {item.name for item in fields(cls)})
        if unknown:
            raise RunSpecError(f"unknown field(s): {', '.join(unknown)}")
        return cls(
            run_id=_text(data, "run_id"),
            code=_text(data, "code"),
            cwd=_text(data, "cwd"),
            timeout_s=_number(data, "timeout_s"),
            grace_s=_number(data, "grace_s"),
            environment=_text(data, "environment"),
            production=_flag(data, "production"),
            risk=_risk(_required(data, "risk"), "risk"),
            mutating=_flag(data, "mutating"),
            lock_dir=_text(data, "lock_dir"),
            audit_file=_text(data, "audit_file"),
            history_file=_text(data, "history_file"),
            runbook_path=_optional_text(data, "runbook_path"),
            runbook_sha256=_text(data, "runbook_sha256"),
            procedure=_text(data, "procedure"),
            procedure_title=_text(data, "procedure_title"),
            step=_whole(data, "step"),
            step_title=_text(data, "step_title"),
            identity=_identity(data),
            secret_patterns=_texts(data, "secret_patterns"),
            secret_names=_texts(data, "secret_names"),
            verify=_verify(data),
            verify_timeout_s=_number(data, "verify_timeout_s"),
            keep_runs=_whole(data, "keep_runs"),
            keep_runs_days=_number(data, "keep_runs_days"),
            console_pid=_whole(data, "console_pid"),
            created=_text(data, "created"),
            host=_absent_or_text(data, "host"),
            engine=_absent_or_text(data, "engine"),
            roll_id=_absent_or_text(data, "roll_id"),
            lock_fd=_absent_or_whole(data, "lock_fd"),
        )

    def write(self, directory: Path) -> None:
        """Write `spec.json` in a run directory, atomically."""
        write_atomic(directory / SPEC_FILE, self.to_json().encode())

    @classmethod
    def read(cls, directory: Path) -> RunSpec:
        """The spec in a run directory.

        Raises:
            RunSpecError: as `from_json`, or the file cannot be read; the message names it.
        """
        path = directory / SPEC_FILE
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise RunSpecError(f"cannot read {path}: {error.strerror or error}") from None
        except UnicodeDecodeError:
            raise RunSpecError(f"{path}: not UTF-8 text") from None
        except RunSpecError as error:
            raise RunSpecError(f"{path}: {error}") from None


_JSON_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}


def _kind(value: object) -> str:
    """How JSON would name a value's type, for an error."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _required(data: dict[str, Any], name: str) -> object:
    if name not in data:
        raise RunSpecError(f"field {name!r} is missing")
    return data[name]


def _wrong(name: str, wanted: str, value: object) -> RunSpecError:
    return RunSpecError(f"field {name!r} must be {wanted}, not {_kind(value)}")


def _text(data: dict[str, Any], name: str) -> str:
    value = _required(data, name)
    if not isinstance(value, str):
        raise _wrong(name, "a string", value)
    return value


def _optional_text(data: dict[str, Any], name: str) -> str | None:
    value = _required(data, name)
    if value is not None and not isinstance(value, str):
        raise _wrong(name, "a string or null", value)
    return value


def _absent_or_text(data: dict[str, Any], name: str) -> str | None:
    """An optional field (a run of a roll): absent in the specs of other runs."""
    return _optional_text(data, name) if name in data else None


def _absent_or_whole(data: dict[str, Any], name: str) -> int | None:
    if data.get(name) is None:
        return None
    return _whole(data, name)


def _number(data: dict[str, Any], name: str) -> float:
    value = _required(data, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(name, "a number", value)
    return float(value)


def _whole(data: dict[str, Any], name: str) -> int:
    value = _required(data, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(name, "a whole number", value)
    return value


def _flag(data: dict[str, Any], name: str) -> bool:
    value = _required(data, name)
    if not isinstance(value, bool):
        raise _wrong(name, "true or false", value)
    return value


def _risk(value: object, name: str) -> Risk:
    if value not in RISK_ORDER:
        raise RunSpecError(f"field {name!r} must be one of {', '.join(RISK_ORDER)}, not {value!r}")
    return value


def _texts(data: dict[str, Any], name: str) -> tuple[str, ...]:
    value = _required(data, name)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _wrong(name, "a list of strings", value)
    return tuple(value)


def _identity(data: dict[str, Any]) -> Identity:
    value = _required(data, "identity")
    if not isinstance(value, dict) or not all(
        isinstance(item, str | int | None) and not isinstance(item, bool) for item in value.values()
    ):
        raise _wrong("identity", "an object of strings, numbers or nulls", value)
    return dict(value)


def _verify(data: dict[str, Any]) -> tuple[VerifySpec, ...]:
    value = _required(data, "verify")
    if not isinstance(value, list):
        raise _wrong("verify", "a list", value)
    checks = []
    for index, item in enumerate(value):
        name = f"verify[{index}]"
        if not isinstance(item, dict):
            raise _wrong(name, "an object", item)
        if set(item) != {"code", "risk"}:
            raise RunSpecError(f"field {name!r} must have the fields code and risk only")
        code = item["code"]
        if not isinstance(code, str):
            raise _wrong(f"{name}.code", "a string", code)
        checks.append(VerifySpec(code=code, risk=_risk(item["risk"], f"{name}.risk")))
    return tuple(checks)
