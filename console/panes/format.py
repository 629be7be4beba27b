"""Short, stable figures for table cells: they change only when the shown value does."""

from __future__ import annotations


def human_bytes(value: float | None) -> str:
    """Binary units, compact: 512B, 6.5M, 128M, 23.5G (K/M/G/T are KiB/MiB/GiB/TiB)."""
    if value is None:
        return "-"
    for unit in ("B", "K", "M", "G", "T"):
        if abs(value) < 1024 or unit == "T":
            if unit == "B" or value >= 100:
                return f"{value:.0f}{unit}"
            return f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.0f}T"


def uptime(seconds: float | None) -> str:
    """Coarse on purpose: "<1m", "12m", "3h", "5d" change rarely, so cells stay quiet."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def sparkline(values: tuple[float, ...] | list[float], width: int = 16) -> str:
    """Unicode block sparkline of the last `width` values."""
    bars = "▁▂▃▄▅▆▇█"
    recent = list(values)[-width:]
    if not recent:
        return ""
    low, high = min(recent), max(recent)
    span = high - low or 1.0
    return "".join(bars[min(7, int((value - low) / span * 7.999))] for value in recent)
