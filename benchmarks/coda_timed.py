"""`coda` as the console script runs it, after noting when its code is loaded.

Imports what `coda` (the TUI) imports, writes perf_counter() (CLOCK_MONOTONIC: the same clock
in every process on Linux) to the file named by CODA_BENCH_T0, then runs coda's own main()
with the arguments given. So a benchmark can tell the app's own work (config, database,
compose, mount, first paint) from the interpreter start and the imports before it.
"""

from __future__ import annotations

import os
import sys
import time

import coda_tui.cli
import coda_tui.ui.app  # noqa: F401 - imported by `coda` before the app starts anyway

t0 = time.perf_counter()
with open(os.environ["CODA_BENCH_T0"], "w") as f:
    f.write(repr(t0))
sys.argv[0] = "coda"
coda_tui.cli.main()
