"""The terminal app doing nothing: CPU and resident memory while idle, in a real pty.

`coda` (`python -m coda_tui`) runs on a 120x40 pty (benchmarks/ptyterm.py) with a fresh data
dir and an empty home (no config: the embedded model is the provider, not loaded). After its
first frame it is left alone for SETTLE seconds, then its CPU time (utime + stime of all its
threads, from /proc/PID/stat) is sampled over WINDOW seconds: CPU % = CPU seconds / wall
seconds * 100 (of one core). Resident memory is VmRSS from /proc/PID/status at the end.
The bytes the app wrote to the terminal in the window are reported too: an idle app that
still repaints (a blinking cursor, a timer) shows up there.

The same again with a session of 5,000 messages open (`coda --session long`, the database
of benchmarks/tui_long_session.py).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from common import report
from ptyterm import Term, coda_args, coda_env, cpu_seconds, panes_drawn, rss_kib
from tui_long_session import LAST, make_database

SETTLE = 3.0
WINDOW = 10.0


def idle(tmp: str, tag: str, args: list[str], ready, db: Path | None = None) -> tuple[float, float, float]:
    """(CPU %, RSS MiB, bytes/s written) of the app left idle."""
    run = Path(tmp, tag)
    (run / "data").mkdir(parents=True)
    (run / "home").mkdir()
    if db is not None:
        shutil.copy(db, run / "data" / "coda.db")
    with Term(args, coda_env(str(run / "data"), str(run / "home"))) as term:
        term.wait_for(ready, timeout=60)
        time.sleep(SETTLE)
        term.drain()
        c0, w0 = cpu_seconds(term.pid), time.perf_counter()
        time.sleep(WINDOW)
        c1, w1 = cpu_seconds(term.pid), time.perf_counter()
        rss = rss_kib(term.pid) / 1024
        written = sum(n for t, n in term.log if w0 <= t < w1)
        if term.proc.poll() is not None:
            raise RuntimeError(f"the app exited while idle (status {term.proc.returncode})")
    return (c1 - c0) / (w1 - w0) * 100, rss, written / (w1 - w0)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cpu, rss, out = idle(tmp, "new", coda_args(), panes_drawn)
        db = Path(tmp, "long.db")
        counts = make_database(db)
        marker = LAST["long"]
        cpu_l, rss_l, out_l = idle(tmp, "long", coda_args("--session", "long"), lambda s: marker in s and panes_drawn(s), db)
    report("tui CPU when idle", cpu, "%", "<= 1 %", f"{WINDOW:.0f} s after {SETTLE:.0f} s settling; of one core", met=cpu <= 1)
    report("tui resident memory when idle (VmRSS)", rss, "MiB", "-")
    report("  written to the terminal when idle", out, "B/s", "-")
    report(f"tui CPU when idle, {counts['long']:,}-message session open", cpu_l, "%", "<= 1 %", met=cpu_l <= 1)
    report("  resident memory, that session open", rss_l, "MiB", "-")
    report("  written to the terminal when idle, that session", out_l, "B/s", "-")


if __name__ == "__main__":
    main()
