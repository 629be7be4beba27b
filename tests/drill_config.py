"""Drills in tests decide breach and recovery with a shorter gauge hysteresis.

The product's defaults (a breach shows after 4 s, a recovery after 15 s) are the gauges
pane's; a drill takes whatever `[sources]` configures (tests/unit/test_drill_score.py
checks that). The end-to-end drills set it shorter so they spend less time waiting,
through the same config a team would write.
"""

from __future__ import annotations

from pathlib import Path

from runbook.config import SourcesConfig, SourceSettings

BREACH_FOR_S = 1.0
CLEAR_FOR_S = 4.0
QUICK_GAUGES = SourcesConfig(
    other=SourceSettings(breach_for_s=BREACH_FOR_S, clear_for_s=CLEAR_FOR_S)
)


def write_quick_gauges(config_file: Path) -> Path:
    """Write `[sources]` with the short hysteresis to a console's config file."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(
        f"[sources]\nbreach_for_s = {BREACH_FOR_S}\nclear_for_s = {CLEAR_FOR_S}\n",
        encoding="utf-8",
    )
    return config_file
