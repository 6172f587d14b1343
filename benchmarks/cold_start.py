"""`coda ask` cold start to first token with the embedded model: a new process, a new
database, the model loaded from disk. Measured to the first byte of the answer on stdout."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from common import ROOT, median, report

ROUNDS = 5


def once(tmp: str, i: int) -> float:
    env = dict(os.environ, CODA_DATA_DIR=os.path.join(tmp, f"data{i}"), HOME=tmp)
    env.pop("CODA_CONFIG_PATH", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "coda_tui", "ask", "Say hi"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    proc.stdout.read(1)
    first = time.perf_counter() - t0
    proc.stdout.read()
    proc.wait()
    if proc.returncode != 0:
        raise SystemExit(f"coda ask failed with status {proc.returncode}")
    return first * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        once(tmp, -1)  # page the model file and Python's bytecode in, as on a used machine
        times = [once(tmp, i) for i in range(ROUNDS)]
    report("coda ask cold start to first token (median)", median(times), "ms", "<= 1000 ms", f"{ROUNDS} runs, embedded SmolLM2-135M")


if __name__ == "__main__":
    main()
