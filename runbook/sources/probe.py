"""How the console's own requests are marked, so the service's logs can tell them apart.

Every health check, readiness wait and /metrics scrape the console makes sends
`User-Agent: runbook-console/<version> (probe)`; the reference service and its proxy
log the user agent of each request. A log line naming that agent is a console probe:
the logs pane hides such lines on request and the incident report leaves them out of
its excerpts, so probes never drown the requests users made.
"""

from __future__ import annotations

from collections.abc import Iterable

from runbook import __version__

PROBE_AGENT = "runbook-console/"
"""The product token every console probe's user agent starts with."""
PROBE_USER_AGENT = f"{PROBE_AGENT}{__version__} (probe)"
PROBE_HEADERS = {"User-Agent": PROBE_USER_AGENT}
"""Headers for every request the console makes to watch a service (not load it)."""


def is_probe_line(line: str) -> bool:
    """Whether a log line records one of the console's probes (its user agent is named)."""
    at = line.find(PROBE_AGENT)
    return at >= 0 and "(probe)" in line[at:]


def without_probes(lines: Iterable[str]) -> tuple[list[str], int]:
    """The lines that are not console probes, and how many probe lines were left out."""
    kept: list[str] = []
    left_out = 0
    for line in lines:
        if is_probe_line(line):
            left_out += 1
        else:
            kept.append(line)
    return kept, left_out
