"""Tool-usage statistics from the stored traces: how often each tool ran, how often it
failed, and how long it took (median and 95th percentile). `coda tools stats` prints them;
the app can show the same figures."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class ToolStat:
    tool: str
    calls: int = 0
    failures: int = 0  # the tool ran and failed (status error)
    denied: int = 0  # refused by a rule or by the user: not run at all
    median_ms: float | None = None
    p95_ms: float | None = None


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted `values` (the value at or above q of them)."""
    return values[max(math.ceil(q * len(values)) - 1, 0)]


def tool_stats(calls: Iterable[tuple[str, str, float | None]]) -> list[ToolStat]:
    """Per tool, most called first, from (tool, status, duration ms) rows."""
    import statistics  # here: percentile() is on every turn's import path, statistics is not needed there

    stats: dict[str, ToolStat] = {}
    times: dict[str, list[float]] = {}
    for tool, status, duration in calls:
        stat = stats.setdefault(tool, ToolStat(tool))
        stat.calls += 1
        stat.failures += status == "error"
        stat.denied += status == "denied"
        # A denied call's time is nobody's: it would only pull the figures down.
        if duration is not None and status in ("ok", "error"):
            times.setdefault(tool, []).append(duration)
    for tool, values in times.items():
        values.sort()
        stats[tool].median_ms = statistics.median(values)
        stats[tool].p95_ms = percentile(values, 0.95)
    return sorted(stats.values(), key=lambda s: (-s.calls, s.tool))
