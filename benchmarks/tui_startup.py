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
  typed into the pty (again every 0.1 s until it shows); the figure is the time the app has
  drawn that character in the chat input. So it includes whatever the app still does after the first paint before it reads
  and handles input.
Baselines, in the same run, alternating with coda's runs (coda, Elia, bare Textual, coda, ...)
so that the machine's load falls on all alike; medians and their ratios are quoted:
- Elia (a Textual chat app with a SQLite history; benchmarks/peers.py installs it into its
  own virtualenv under the cache) with an empty home: its input box and history list
  drawn, then the same key typed and echoed. Target: coda <= 0.5x Elia.
- the floor: benchmarks/bare_textual.py, a bare Textual app of coda's shape (four titled
  panes, a focused TextArea, a status line), same two events.
One warm-up run of each first (the disk cache warm and the bytecode compiled, as on a used
machine: see ptyterm.python_env), then ROUNDS runs of each.

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

from common import ROOT, median, report, skip
from peers import elia, elia_drawn, elia_env
from ptyterm import Term, coda_args, coda_env, panes_drawn, python_env

HERE = Path(__file__).resolve().parent
ROUNDS = 5
TIMED_ROUNDS = 3
IMPORT_ROUNDS = 5
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
        echoed = type_until_echoed(term)
    start = term.t0
    if timed:
        with open(env["CODA_BENCH_T0"]) as f:
            start = float(f.read())
    return (frame - start) * 1000, (echoed - start) * 1000


def peer_once(args: list[str], env: dict[str, str], drawn) -> tuple[float, float]:
    """(first frame, first interactive frame) in ms from spawn, for a baseline app."""
    with Term(args, env) as term:
        frame = term.wait_for(drawn)
        echoed = type_until_echoed(term)
    return (frame - term.t0) * 1000, (echoed - term.t0) * 1000


def type_until_echoed(term: Term, every: float = 0.1) -> float:
    """Type KEY until the app shows it: an app whose first frame comes before its input
    has the focus drops the first key (Elia does), and a user would type again."""
    for _ in range(int(30 / every)):
        term.send(KEY)
        try:
            return term.wait_for(lambda s: KEY in s, timeout=every)
        except TimeoutError:
            continue
    raise TimeoutError("a key typed every 0.1 s for 30 s was never shown")


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
    elia_exe, why_not = elia()
    bare_args = [sys.executable, str(HERE / "bare_textual.py")]
    with tempfile.TemporaryDirectory() as tmp:

        def elia_run(i: int) -> tuple[float, float]:
            home = os.path.join(tmp, f"elia{i}")
            os.makedirs(home)
            return peer_once([str(elia_exe)], elia_env(home), elia_drawn)

        once(tmp, -1)
        peer_once(bare_args, python_env(), panes_drawn)
        if elia_exe:
            elia_run(-1)
        runs, bare, elia_runs = [], [], []
        for i in range(ROUNDS):
            runs.append(once(tmp, i))
            bare.append(peer_once(bare_args, python_env(), panes_drawn))
            if elia_exe:
                elia_runs.append(elia_run(i))
        timed = [once(tmp, 100 + i, timed=True) for i in range(TIMED_ROUNDS)]
        config = os.path.join(tmp, "openai.toml")
        with open(config, "w") as f:
            f.write(OPENAI_CONFIG)
        os.chmod(config, 0o600)
        with_openai = [once(tmp, 200 + i, config=config) for i in range(TIMED_ROUNDS)]
    frames = [r[0] for r in runs]
    interactive = [r[1] for r in runs]
    note = f"{ROUNDS} alternating runs each, spawn to a typed key drawn; coda max {max(interactive):.0f} ms"
    if elia_runs:
        peer = median([r[1] for r in elia_runs])
        report("tui first interactive frame vs Elia (median)", median(interactive), "ms", "<= 0.5x Elia", note,
               baseline=peer, baseline_name="Elia", met=median(interactive) <= 0.5 * peer)
    else:
        skip("tui first interactive frame vs Elia", why_not)
    floor = median([r[1] for r in bare])
    report("tui first interactive frame vs bare Textual", median(interactive), "ms", "-", "the floor: 4 panes, a TextArea",
           baseline=floor, baseline_name="bare Textual")
    report("  first frame, four panes drawn (median)", median(frames), "ms", "-", f"max {max(frames):.0f} ms")
    report("  code loaded to first interactive frame (median)", median([r[1] for r in timed]), "ms", "-",
           f"{TIMED_ROUNDS} runs via coda_timed.py: config, db, compose, mount, paint, key")
    report("  code loaded to first frame (median)", median([r[0] for r in timed]), "ms", "-")
    report("  first interactive frame, an openai provider set", median([r[1] for r in with_openai]), "ms", "-",
           f"{TIMED_ROUNDS} runs; config as README's LM Studio example")

    interpreter = median([bare_start() for _ in range(IMPORT_ROUNDS)])
    textual_app = median([timed_import("textual.app") for _ in range(IMPORT_ROUNDS)])
    ui_app = median([timed_import("coda_tui.ui.app") for _ in range(IMPORT_ROUNDS)])
    report("  python interpreter start, `python -c pass`", interpreter, "ms", "-", f"median of {IMPORT_ROUNDS}")
    report("  import textual.app (new process)", textual_app, "ms", "-", f"median of {IMPORT_ROUNDS}")
    report("  import coda_tui.ui.app (new process)", ui_app, "ms", "-", "includes textual.app")
    for pkg, ms in importtime_top("coda_tui.ui.app"):
        print(f"    importtime self, {pkg:<36} {ms:>10.2f} ms")


if __name__ == "__main__":
    main()
