"""Run every benchmark to the end, then print one table of all their figures.

Each benchmark runs in a process of its own with a time limit: one that fails or hangs
gets a row saying why, and the run goes on to the next. Figures come back through the file
named by CODA_BENCH_ROWS (see common.report); a benchmark's own output is shown as it runs.

    python benchmarks/run_all.py [NAME ...]     # all, or only these
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> time limit in seconds: a few times what a run takes here on a quiet machine.
BENCHMARKS = {
    "ttft_overhead": 300,
    "cold_start": 600,
    "tui_startup": 900,
    "tui_stream": 900,
    "tui_stream_big": 300,
    "sse_parse": 300,
    "tui_long_session": 1500,
    "tui_idle": 300,
    "index_search": 900,
    "tui_big_scroll": 600,
    "tui_paste": 300,
    "voice_latency": 600,
    "pipeline_transformers": 300,
    "mcp_overhead": 300,
    "tool_round_trip": 300,
    "embedded_tool_call": 600,
    "warm_embedded": 600,
    "documents": 300,
}


def run(name: str, limit: float, rows_path: str) -> str | None:
    """Run one benchmark; None when it ended well, else why not."""
    env = dict(os.environ, CODA_BENCH_ROWS=rows_path, PYTHONUNBUFFERED="1")
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, str(HERE / f"{name}.py")], stderr=err, env=env, start_new_session=True)
        try:
            code = proc.wait(limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return f"stopped after its {limit:.0f} s limit"
        if code == 0:
            return None
        err.seek(0)
        lines = [line.strip() for line in err.read().splitlines() if line.strip()]
        sys.stderr.write("\n".join(lines[-15:]) + "\n")
        return f"failed (status {code}): {lines[-1][:150] if lines else 'no message'}"


def fmt(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}" if abs(value) < 100 else f"{value:,.0f} {unit}"


def table(rows: list[dict]) -> str:
    header = ("figure", "value", "baseline", "ratio", "target", "met?")
    lines = []
    for r in rows:
        if r.get("value") is None:
            lines.append((r["name"], "-", "-", "-", "-", "not run: " + r["reason"]))
            continue
        base = r.get("baseline")
        met = {True: "yes", False: "NO", None: "-"}[r.get("met")]
        lines.append((
            r["name"], fmt(r["value"], r["unit"]),
            f"{fmt(base, r['unit'])} {r.get('baseline_name', '')}".strip() if base else "-",
            f"{r['value'] / base:.2f}x" if base else "-",
            r["target"], met,
        ))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    widths[0] = min(widths[0], 58)
    out = []
    for i, line in enumerate([header, *lines]):
        out.append("  ".join(str(x)[:w].ljust(w) if j == 0 else str(x).rjust(w) if j in (1, 2, 3) else str(x).ljust(w)
                             for j, (x, w) in enumerate(zip(line, widths))).rstrip())
        if i == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def main() -> None:
    names = sys.argv[1:] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark: {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    rows: list[dict] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            print(f"== {name}", flush=True)
            path = os.path.join(tmp, f"{name}.jsonl")
            why = run(name, BENCHMARKS[name], path)
            got = []
            if os.path.exists(path):
                with open(path) as f:
                    got = [json.loads(line) for line in f if line.strip()]
            rows.append({"name": f"[{name}]", "value": None, "reason": why} if why else None)
            rows.extend(got)
    rows = [r for r in rows if r is not None]
    print(f"\n== all benchmarks, {time.perf_counter() - t0:.0f} s")
    print(table(rows))


if __name__ == "__main__":
    main()
