"""Shared bits for the benchmarks: each prints its figure beside its target (no pass/fail)."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def report(name: str, value: float, unit: str, target: str, note: str = "") -> None:
    print(f"{name:<48} {value:>10.2f} {unit:<4}  target {target}{('  (' + note + ')') if note else ''}")


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
