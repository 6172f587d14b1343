"""Shared bits for the benchmarks: each prints its figures beside their targets, and, when
run by run_all.py, also hands them over as rows of the one table it prints.

A row may carry a baseline measured in the same run (Elia, a bare Textual app, bare
llama_cpp, the I/O floor...): the table then shows the ratio figure / baseline, and
whether the target is met. Targets on ratios are what count on this shared 2-core
machine: absolute times drift with its load, ratios of alternating runs much less.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Where benchmarks keep what they fetch or install once (Elia's virtualenv, real repositories).
CACHE = Path(os.environ.get("CODA_BENCH_CACHE") or Path.home() / ".cache" / "coda-tui" / "bench")


def _row(row: dict) -> None:
    path = os.environ.get("CODA_BENCH_ROWS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(row) + "\n")


def report(name: str, value: float, unit: str, target: str, note: str = "", *, baseline: float | None = None,
           baseline_name: str = "", met: bool | None = None) -> None:
    """One figure. `met` says whether `target` is met (None: no target, or not decidable);
    with `baseline`, the ratio value / baseline is printed beside it."""
    ratio = f"  = {value / baseline:.2f}x {baseline_name} ({baseline:.2f} {unit})" if baseline else ""
    print(f"{name:<48} {value:>10.2f} {unit:<4}{ratio}  target {target}{('  (' + note + ')') if note else ''}")
    _row({"name": name, "value": value, "unit": unit, "target": target, "note": note, "baseline": baseline,
          "baseline_name": baseline_name, "met": met})


def skip(name: str, reason: str) -> None:
    """A figure that could not be measured here, and why."""
    print(f"{name:<48} {'-':>10}       not measured: {reason}")
    _row({"name": name, "value": None, "reason": reason})


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
