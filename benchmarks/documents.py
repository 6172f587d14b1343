"""What a document attachment costs (context/documents.py): the first conversion in a
process (markitdown's import included: it happens on the first document, never at
start-up), a conversion once it is imported, and the same bytes again from the cache —
what the turn's convert stage spends on a document attached earlier and unchanged.
Targets: a cached document ≤ 5 ms median; start-up imports nothing of markitdown."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median, p95, report

ROUNDS = 50
LINES = [f"Line {i} of the quarterly flux capacitor report: widget count {i * 47}" for i in range(40)]


def cold_ms(folder: Path, run: int) -> float:
    """The first conversion in a fresh process (and a cache of its own), markitdown's import included."""
    code = ("import time, pathlib; from coda_tui.context.documents import convert; t=time.perf_counter(); "
            f"convert(pathlib.Path({str(folder / 'cold.pdf')!r}), cache=pathlib.Path({str(folder / f'cold-{run}')!r})); "
            "print((time.perf_counter()-t)*1000)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(out.stdout.strip())


def main() -> None:
    from coda_tui.context.documents import convert
    from tests.documents_made import write_pdf

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_pdf(folder / "cold.pdf", LINES)
        colds = [cold_ms(folder, run) for run in range(3)]
        report("document: first conversion in a process (median)", median(colds), "ms", "-",
               "a 40-line PDF, markitdown's import included")
        cache = folder / "cache"
        warm, cached = [], []
        for i in range(ROUNDS):
            pdf = write_pdf(folder / f"doc{i}.pdf", [*LINES, f"edition {i}"])
            t0 = time.perf_counter()
            convert(pdf, cache=cache)
            warm.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            assert convert(pdf, cache=cache).cached
            cached.append((time.perf_counter() - t0) * 1000)
        report("document: conversion, markitdown imported (median)", median(warm), "ms", "-", f"p95 {p95(warm):.1f} ms")
        report("document: same bytes from the cache (median)", median(cached), "ms", "≤ 5 ms",
               f"p95 {p95(cached):.2f} ms", met=median(cached) <= 5)
    probe = subprocess.run([sys.executable, "-X", "importtime", "-m", "coda_tui", "--help"], capture_output=True,
                           text=True, cwd=ROOT, check=True)
    imported = sum(1 for line in probe.stderr.splitlines() if "markitdown" in line)
    report("document: markitdown modules imported at start-up", imported, "", "0", "coda --help", met=imported == 0)


if __name__ == "__main__":
    main()
