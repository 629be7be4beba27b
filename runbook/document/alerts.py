"""Alert context: from an alert's name and labels to the procedure and its variable values.

```python
alert = Alert.from_args("KubePodCrashLooping", ["namespace=shop", "pod=web-1"])
# or: alerts_from_payload(json.load(open("webhook.json")))   (Alertmanager webhook)
path = runbook_for_alert(Path("corpus/"), alert.name)      # a directory: the file named after it
target = match(load(path), alert)
target.procedure.key, target.values                        # "Diagnosis", {"NAMESPACE": "shop", ...}
```

Matching, most specific first: the runbook itself is about the alert (its file
name, title or front matter title is the alert name, as in the
prometheus-operator runbooks; the first procedure is then the entry point); a
procedure whose title spells the alert name; the procedure whose title shares
the most words with the alert name split at capitals (`HealthCheckFailing` ->
"Health Check Failing"); the severity procedure for the alert's `severity`
label (critical -> P1, ...).

Labels become variables by upper-casing (`namespace` -> `$NAMESPACE`, `pod` ->
`$POD`); a few labels also fill the names runbooks commonly use for them
(`node` -> `$NODE_NAME`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.model import Procedure, Runbook

LABEL_ALIASES: dict[str, tuple[str, ...]] = {
    "node": ("NODE_NAME",),
    "instance": ("INSTANCE_NAME",),
    "persistentvolumeclaim": ("PVC",),
    "persistentvolume": ("PV",),
    "job_name": ("JOB",),
    "colour": ("COLOR",),
    "color": ("COLOUR",),
}
"""Extra variable names a label also fills (the upper-cased label name always works)."""
SEVERITY_LABELS: dict[str, tuple[str, ...]] = {
    "critical": ("P1",),
    "page": ("P1",),
    "high": ("P2",),
    "error": ("P2",),
    "major": ("P2",),
    "warning": ("P3", "P2"),
    "minor": ("P3",),
    "info": ("P3",),
}
_STOP_WORDS = {"the", "a", "an", "of", "to", "is", "and", "or", "for", "in", "on", "high", "low"}


class AlertError(ValueError):
    """A label or payload that cannot be understood; the message is one line."""


@dataclass(frozen=True)
class Alert:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    status: str = "firing"

    @classmethod
    def from_args(cls, name: str, labels: Iterable[str] = ()) -> Alert:
        """`--alert NAME --label key=value ...` as given on the command line."""
        parsed: dict[str, str] = {}
        for item in labels:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise AlertError(f"label {item!r} is not key=value")
            parsed[key.strip()] = value
        return cls(name=name, labels=parsed)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "labels": self.labels, "status": self.status}


def alerts_from_payload(payload: Any) -> list[Alert]:
    """The alerts of an Alertmanager webhook payload (version 4), firing ones first.

    Group-wide `commonLabels` fill labels an alert lacks; a bare alert object or a
    list of them is accepted too (as `amtool` and the API print them).
    """
    if isinstance(payload, list):
        raw_alerts, common = payload, {}
    elif isinstance(payload, dict) and isinstance(payload.get("alerts"), list):
        raw_alerts, common = payload["alerts"], dict(payload.get("commonLabels") or {})
    elif isinstance(payload, dict) and "labels" in payload:
        raw_alerts, common = [payload], {}
    else:
        raise AlertError("not an Alertmanager payload: no 'alerts' list")
    alerts: list[Alert] = []
    for raw in raw_alerts:
        if not isinstance(raw, dict):
            continue
        labels = {str(k): str(v) for k, v in {**common, **(raw.get("labels") or {})}.items()}
        name = labels.get("alertname")
        if not name:
            continue
        annotations = {str(k): str(v) for k, v in (raw.get("annotations") or {}).items()}
        alerts.append(Alert(name, labels, annotations, str(raw.get("status") or "firing")))
    if not alerts:
        raise AlertError("the payload holds no alert with an alertname label")
    return sorted(alerts, key=lambda a: a.status != "firing")


def load_payload(path: Path) -> list[Alert]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AlertError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise AlertError(f"{path} is not JSON: {error}") from None
    return alerts_from_payload(payload)


def pick_alert(alerts: list[Alert], name: str | None, labels: Iterable[str] = ()) -> Alert:
    """The alert of a payload named `name` (else the first), `key=value` labels added to its own.

    Raises:
        AlertError: the payload has no alert of that name, or a label is not key=value.
    """
    if name:
        chosen = [alert for alert in alerts if alert.name == name]
        if not chosen:
            names = ", ".join(sorted({alert.name for alert in alerts}))
            raise AlertError(f"no alert {name} in the payload (it has: {names})")
        alert = chosen[0]
    else:
        alert = alerts[0]
    extra = Alert.from_args(alert.name, labels).labels
    return Alert(alert.name, {**alert.labels, **extra}, alert.annotations, alert.status)


def variables_from_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Variable values from labels: `namespace` -> NAMESPACE, `pod` -> POD, aliases too."""
    values: dict[str, str] = {}
    for key, value in labels.items():
        if key == "alertname":
            continue
        name = re.sub(r"[^A-Za-z0-9_]", "_", key).upper()
        values[name] = value
        for alias in LABEL_ALIASES.get(key.casefold(), ()):
            values.setdefault(alias, value)
    return values


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def words(text: str) -> set[str]:
    """Words of a title or an alert name split at capitals, without stop words."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    found = {w for w in re.split(r"[^a-z0-9]+", spaced.casefold().replace("'", "")) if w}
    return {_stem(w) for w in found - _STOP_WORDS}


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def runbook_for_alert(path: Path, alert_name: str) -> Path | None:
    """A directory of runbooks: the file named after the alert (case-insensitive), else None.

    A file is returned as it is.
    """
    if path.is_file():
        return path
    wanted = normalise(alert_name)
    for candidate in sorted(path.rglob("*.md")):
        if normalise(candidate.stem) == wanted:
            return candidate
    return None


@dataclass(frozen=True)
class AlertTarget:
    """Where an alert opens the runbook, and the values its labels give."""

    procedure: Procedure | None
    reason: str
    """How the procedure was chosen, shown to the operator."""
    values: dict[str, str]
    """Values for the variables the procedure's commands use (and every label's)."""
    severity: str | None = None
    """The runbook severity the alert's `severity` label maps to, if it has one."""

    @property
    def used(self) -> dict[str, str]:
        """The values the procedure's commands actually use."""
        if self.procedure is None:
            return {}
        names = {
            v.name.strip("<>")
            for step in self.procedure.steps
            for command in step.commands
            for v in command.variables
        }
        return {k: v for k, v in self.values.items() if k in names}

    @property
    def missing(self) -> list[str]:
        """Variables of the procedure that no label fills."""
        if self.procedure is None:
            return []
        names: list[str] = []
        for step in self.procedure.steps:
            for command in step.commands:
                for variable in command.variables:
                    name = variable.name.strip("<>")
                    if variable.kind == "export":
                        continue  # the runbook's own line gives it its value
                    if name not in self.values and variable.default is None and name not in names:
                        names.append(name)
        return names


def severity_for(runbook: Runbook, alert: Alert) -> str | None:
    label = alert.labels.get("severity", "").strip()
    if not label:
        return None
    levels = {s.level.casefold(): s.level for s in runbook.severities}
    if label.casefold() in levels:
        return levels[label.casefold()]
    for candidate in SEVERITY_LABELS.get(label.casefold(), ()):
        if candidate.casefold() in levels:
            return levels[candidate.casefold()]
    return None


def match(runbook: Runbook, alert: Alert) -> AlertTarget:
    """The procedure of `runbook` for `alert`, and variable values from its labels."""
    values = variables_from_labels(alert.labels)
    severity = severity_for(runbook, alert)
    wanted = normalise(alert.name)
    procedures = [p for p in runbook.procedures if p.steps]

    names = [runbook.title, str(runbook.metadata.get("title") or "")]
    if runbook.path:
        names.append(Path(runbook.path).stem)
    if wanted and any(normalise(n) == wanted for n in names if n) and procedures:
        return AlertTarget(procedures[0], f"the runbook is about {alert.name}", values, severity)
    for procedure in procedures:
        if wanted and wanted in normalise(procedure.title):
            return AlertTarget(procedure, f"procedure title names {alert.name}", values, severity)

    alert_words = words(alert.name)
    scored = sorted(
        (
            (len(alert_words & words(p.title)), -index, p)
            for index, p in enumerate(procedures)
            if alert_words & words(p.title)
        ),
        key=lambda item: (item[0], item[1]),
        reverse=True,
    )
    if scored:
        best = scored[0][2]
        shared = ", ".join(sorted(alert_words & words(best.title)))
        return AlertTarget(best, f"procedure title shares: {shared}", values, severity)

    reason = f"severity label {alert.labels.get('severity')!r} -> {severity}"
    if severity is None:
        # An alert about a threshold row (latency, errors, memory) is degraded service.
        threshold = next((t for t in runbook.thresholds if alert_words & words(t.metric)), None)
        degraded = next((s for s in runbook.severities if "degraded" in s.title.casefold()), None)
        if threshold is not None and degraded is not None:
            severity = degraded.level
            reason = f"alert is about the threshold {threshold.metric!r} -> {severity}"
    for known in runbook.severities:
        if severity is not None and known.level == severity:
            found = runbook.procedure(known.procedure)
            if found is not None:
                return AlertTarget(found, reason, values, severity)
    return AlertTarget(None, f"no procedure of {runbook.title!r} matches {alert.name}", values)
