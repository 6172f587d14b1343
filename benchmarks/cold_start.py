"""`coda ask` cold start to first token with the embedded model: a new process, a new
database, the model loaded from disk. Measured to the first byte of the answer on stdout.

Baseline, in alternating runs: benchmarks/bare_llama.py, bare llama_cpp loading the same
GGUF in a new process and streaming the same question (its best thread setting here).
Target: coda <= 1.3x bare llama_cpp. One warm-up run of each first (the model file and
bytecode paged in, as on a used machine); medians of ROUNDS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median, report
from ptyterm import python_env

ROUNDS = 3
QUESTION = "Say hi"
HERE = Path(__file__).resolve().parent


def first_byte(args: list[str], env: dict[str, str], cwd: str | Path = ROOT) -> float:
    """ms from spawn to the first byte on stdout; the process is let finish."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    proc.stdout.read(1)
    first = time.perf_counter() - t0
    proc.stdout.read()
    proc.wait()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[1:3])} failed with status {proc.returncode}")
    return first * 1000


def once(tmp: str, i: int, project: str | Path = ROOT) -> float:
    """In `project`: this repository (a real project, indexed for context) or an empty folder."""
    env = python_env(dict(os.environ, CODA_DATA_DIR=os.path.join(tmp, f"data{i}"), HOME=tmp,
                          PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))))
    env.pop("CODA_CONFIG_PATH", None)
    return first_byte([sys.executable, "-m", "coda_tui", "ask", QUESTION], env, project)


def bare() -> float:
    return first_byte([sys.executable, str(HERE / "bare_llama.py"), QUESTION], python_env())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        once(tmp, -1)
        bare()
        times, in_empty, floor = [], [], []
        for i in range(ROUNDS):
            times.append(once(tmp, i))
            floor.append(bare())
            in_empty.append(once(tmp, 100 + i, empty))
    for where, figures in (("in this repository", times), ("in an empty folder", in_empty)):
        report(f"coda ask cold first token vs bare llama_cpp, {where.split()[-1]}", median(figures), "ms", "<= 1.3x bare",
               f"{ROUNDS} alternating runs, embedded SmolLM2-135M, {where}", baseline=median(floor),
               baseline_name="llama_cpp", met=median(figures) <= 1.3 * median(floor))


if __name__ == "__main__":
    main()
