"""`coda` (the terminal app) from launch to its first interactive frame, in a real pty.

Each run starts `python -m coda_tui` (what the `coda` command runs; no subcommand opens the
TUI) on a 120x40 pseudo-terminal with TERM=xterm-256color, a fresh CODA_DATA_DIR and an
empty HOME: no config, so the default provider is the embedded model ("local"), which the
app must not load to draw. The project is the repository (the cwd).

Definitions, all measured from the moment the process is spawned, on the bytes the app
writes to the pty (kept as a screen by benchmarks/ptyterm.py, each output chunk stamped when
it was read):
- first frame: the screen holds the four pane titles (Context, Chat, Code, Pipeline) and
  the status bar ("session:").
- first interactive frame (the target): as soon as the first frame is seen a key ("§") is
  typed into the pty; the figure is the time the app has drawn that character in the chat
  input. So it includes whatever the app still does after the first paint before it reads
  and handles input.
One warm-up run first (the disk cache warm and the bytecode compiled, as on a used machine:
see ptyterm.python_env), then ROUNDS runs; medians are quoted. For comparison, Elia (another Textual chat app) takes about
0.85 s to its first frame on these machines.

Secondary figures: the first interactive frame when the default provider is an
OpenAI-compatible server (as in the README's example config) instead of the embedded
model, TIMED_ROUNDS runs. And where the time goes: the same two figures counted from the moment
coda's code is loaded (TIMED_ROUNDS runs started through benchmarks/coda_timed.py, which
imports what `coda` imports, notes the time, then runs coda's main()), so the rest is the
interpreter and the imports; a bare interpreter start; the time to import textual.app and
coda_tui.ui.app in a new process (timed inside it, median of IMPORT_ROUNDS); and the
heaviest top-level packages by self time under `python -X importtime` (one run; importtime's
own overhead inflates those a little, and a garbage collection lands on whichever module
is importing when it runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from common import ROOT, median, report
from ptyterm import Term, coda_args, coda_env, panes_drawn, python_env

HERE = Path(__file__).resolve().parent
ROUNDS = 9
TIMED_ROUNDS = 5
IMPORT_ROUNDS = 7
KEY = "§"
# A default provider of type openai, as in the README (nothing listens on port 9: the
# health check fails fast, which the first frame must not wait for anyway).
OPENAI_CONFIG = '[general]\nprovider = "lmstudio"\n[providers.lmstudio]\ntype = "openai"\n' \
    'base_url = "http://127.0.0.1:9/v1"\nmodel = "qwen2.5-coder-7b-instruct"\n'


def once(tmp: str, i: int, timed: bool = False, config: str | None = None) -> tuple[float, float]:
    """(first frame, first interactive frame) in ms from spawn, or with `timed` from the
    moment coda's code is loaded (benchmarks/coda_timed.py)."""
    home = os.path.join(tmp, f"home{i}")
    os.makedirs(home)
    env = coda_env(os.path.join(tmp, f"data{i}"), home)
    if config:
        env["CODA_CONFIG_PATH"] = config
    args = coda_args()
    if timed:
        env["CODA_BENCH_T0"] = os.path.join(tmp, f"t0-{i}")
        args = [sys.executable, str(HERE / "coda_timed.py")]
    with Term(args, env) as term:
        frame = term.wait_for(panes_drawn)
        term.send(KEY)
        echoed = term.wait_for(lambda s: KEY in s)
    start = term.t0
    if timed:
        with open(env["CODA_BENCH_T0"]) as f:
            start = float(f.read())
    return (frame - start) * 1000, (echoed - start) * 1000


def timed_import(module: str) -> float:
    """Milliseconds to import `module` in a new interpreter, timed inside it."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=python_env(), capture_output=True, text=True).stdout
    return float(out) * 1000


def bare_start() -> float:
    """Milliseconds for `python -c pass`, spawn to exit."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, cwd=ROOT, env=python_env())
    return (time.perf_counter() - t) * 1000


def importtime_top(module: str, n: int = 6) -> list[tuple[str, float]]:
    """Self import time summed by top-level package, heaviest first."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=ROOT, env=python_env(), capture_output=True, text=True).stderr
    by_pkg: dict[str, float] = defaultdict(float)
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line.split(":", 1)[1].split("|")
        by_pkg[name.strip().split(".")[0]] += int(self_us) / 1000
    return sorted(by_pkg.items(), key=lambda kv: -kv[1])[:n]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        once(tmp, -1)
        runs = [once(tmp, i) for i in range(ROUNDS)]
        timed = [once(tmp, 100 + i, timed=True) for i in range(TIMED_ROUNDS)]
        config = os.path.join(tmp, "openai.toml")
        with open(config, "w") as f:
            f.write(OPENAI_CONFIG)
        os.chmod(config, 0o600)
        with_openai = [once(tmp, 200 + i, config=config) for i in range(TIMED_ROUNDS)]
    frames = [r[0] for r in runs]
    interactive = [r[1] for r in runs]
    report("tui first interactive frame (median)", median(interactive), "ms", "<= 400 ms",
           f"{ROUNDS} runs, spawn to a typed key drawn; max {max(interactive):.0f} ms")
    report("  first frame, four panes drawn (median)", median(frames), "ms", "-", f"max {max(frames):.0f} ms")
    report("  code loaded to first interactive frame (median)", median([r[1] for r in timed]), "ms", "-",
           f"{TIMED_ROUNDS} runs via coda_timed.py: config, db, compose, mount, paint, key")
    report("  code loaded to first frame (median)", median([r[0] for r in timed]), "ms", "-")
    report("  first interactive frame, an openai provider set", median([r[1] for r in with_openai]), "ms", "-",
           f"{TIMED_ROUNDS} runs; config as README's LM Studio example")

    bare = median([bare_start() for _ in range(IMPORT_ROUNDS)])
    textual_app = median([timed_import("textual.app") for _ in range(IMPORT_ROUNDS)])
    ui_app = median([timed_import("coda_tui.ui.app") for _ in range(IMPORT_ROUNDS)])
    report("  python interpreter start, `python -c pass`", bare, "ms", "-", f"median of {IMPORT_ROUNDS}")
    report("  import textual.app (new process)", textual_app, "ms", "-", f"median of {IMPORT_ROUNDS}")
    report("  import coda_tui.ui.app (new process)", ui_app, "ms", "-", "includes textual.app")
    for pkg, ms in importtime_top("coda_tui.ui.app"):
        report(f"    importtime self, {pkg}", ms, "ms", "-")


if __name__ == "__main__":
    main()
