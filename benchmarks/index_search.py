"""The code index on a real repository: cold index rate beside its floors, search quality,
re-index of one changed file, search latency; and the first frame of a 20,000-line file in
the code pane.

The repository is fetched once into the benchmark cache (see peers.real_repo: sqlalchemy,
else django, cpython or click under ~/.cache/coda-tui/bench/repos) and copied to a
temporary folder, which is indexed and edited; without one, those rows say so.

- cold index, files/s (target >= 2,000), in ROUNDS runs alternating with its floors:
  the read-only I/O floor (the same walk of the project, reading every file and doing
  nothing else) and the FTS5-insert floor (the chunks coda made, inserted into a bare
  FTS5 table with the same tokenizer in one transaction: the cost of the inserts alone,
  as files/s). Ratios coda / floor. Beside them, where the time goes: the CPU time of each
  Python part (read, secret scan, chunking), whose sum bounds the rate (they run in series
  under the interpreter lock), and a cold update's CPU time against its wall time.
- search quality: QUALITY identifiers defined exactly once in the repository's Python
  files (classes and functions, names of 8+ characters, picked with a fixed seed); a hit
  is a chunk of the defining file whose lines hold the definition. hits@1: ranked first;
  hits@3: in the top 3.
- unchanged re-index, files/s (target >= 20,000): update() again with nothing changed.
- re-index one changed file (target <= 50 ms), search p95 (target <= 30 ms) over the
  identifiers and some phrases.
"""

from __future__ import annotations

import ast
import asyncio
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import median, p95, report, skip
from peers import real_repo

from coda_tui.context.index import CodeIndex
from coda_tui.context.project import Project

ROUNDS = 3
QUALITY = 30
PHRASES = ["how is the connection pool recycled", "compile a select statement", "parse the url", "type coercion",
           "where are events dispatched", "render the help text", "session flush order"]


def definitions(root: Path) -> list[tuple[str, str, int]]:
    """(name, file, line) of QUALITY classes/functions each defined once in the repository."""
    found: list[tuple[str, str, int]] = []
    for path in sorted(root.rglob("*.py")):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        rel = path.relative_to(root).as_posix()
        found += [(n.name, rel, n.lineno) for n in ast.walk(tree)
                  if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    counts = Counter(name for name, _, _ in found)
    unique = sorted(d for d in found if counts[d[0]] == 1 and len(d[0]) >= 8 and not d[0].startswith("test"))
    return random.Random(5).sample(unique, min(QUALITY, len(unique)))


def io_floor(project: Project) -> float:
    """files/s for the walk and a read of every file, nothing else."""
    t0 = time.perf_counter()
    n = 0
    for entry in project.walk():
        entry.path.read_bytes()
        n += 1
    return n / (time.perf_counter() - t0)


def fts_floor(db: Path, files: int, tmp: Path) -> float:
    """files/s for inserting the chunks coda made into a bare FTS5 table, one transaction."""
    with sqlite3.connect(db) as src:
        rows = src.execute("SELECT name, path, text FROM chunks").fetchall()
    conn = sqlite3.connect(tmp / f"fts{time.perf_counter_ns()}.db")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(name, path, text, tokenize=\"unicode61 tokenchars '_'\")")
    t0 = time.perf_counter()
    with conn:
        conn.executemany("INSERT INTO f (name, path, text) VALUES (?, ?, ?)", rows)
    seconds = time.perf_counter() - t0
    conn.close()
    return files / seconds


def python_split(project: Project) -> dict[str, float]:
    """CPU seconds of each Python part of a cold index, file by file as the index's reading
    thread does them: they share one interpreter lock, so their sum bounds the rate."""
    from coda_tui.context.chunker import chunk, language_for

    split = dict.fromkeys(("read", "secret scan", "chunking"), 0.0)
    for entry in project.walk():
        t0 = time.process_time()
        text = entry.path.read_bytes().decode("utf-8", errors="replace")
        t1 = time.process_time()
        text = project.scrub(text, entry.rel)
        t2 = time.process_time()
        chunk(text, language_for(entry.path.name))
        t3 = time.process_time()
        split["read"] += t1 - t0
        split["secret scan"] += t2 - t1
        split["chunking"] += t3 - t2
    return split


def real_repo_figures(tmp: Path) -> None:
    source, why = real_repo()
    if source is None:
        for name in ("cold index, real repository", "search quality hits@1", "search quality hits@3",
                     "re-index one changed file", "search p95"):
            skip(name, why)
        return
    root = tmp / source.name
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(".git"))
    project = Project(root)
    io_floor(project)  # the page cache warm for all alike
    rates, io, fts, cpu, splits = [], [], [], [], []
    for run in range(ROUNDS):
        index = CodeIndex(tmp / f"cold{run}.db", project)
        c0 = time.process_time()
        stats = index.update()
        cpu.append(time.process_time() - c0)
        index.close()
        rates.append(stats.files_per_s)
        io.append(io_floor(project))
        fts.append(fts_floor(tmp / f"cold{run}.db", stats.files_seen, tmp))
        splits.append(python_split(project))
    size = sum(e.size for e in project.walk()) / 1e6
    note = f"{source.name}: {stats.files_seen} files, {size:.1f} MB, {stats.chunks} chunks; {ROUNDS} alternating runs"
    report(f"cold index, {source.name} vs read-only I/O floor", median(rates), "f/s", ">= 2000 files/s", note,
           baseline=median(io), baseline_name="I/O floor", met=median(rates) >= 2000)
    report(f"cold index, {source.name} vs FTS5-insert floor", median(rates), "f/s", "-",
           "the same chunks into a bare FTS5 table", baseline=median(fts), baseline_name="FTS5 floor")
    # Why the target is missed: the Python parts run in series under one lock (the SQLite
    # writes overlap them in another thread), so files / their CPU time is the ceiling; and
    # the wall time beside the CPU time shows what the machine's load and the index
    # thread's lowered priority add.
    split = {part: median([s[part] for s in splits]) for part in splits[0]}
    python = sum(split.values())
    parts = ", ".join(f"{part} {seconds:.2f} s" for part, seconds in split.items())
    report(f"cold index, {source.name}: ceiling of its Python parts", stats.files_seen / python, "f/s", ">= 2000 files/s",
           f"CPU: {parts}; FTS5 inserts {stats.files_seen / median(fts):.2f} s beside them; a cold update took "
           f"{median(cpu):.2f} s of CPU for {stats.files_seen / median(rates):.2f} s of wall time",
           met=stats.files_seen / python >= 2000)
    # Nothing changed: a walk and a stat per file, each compared with the index's row.
    again = []
    for run in range(ROUNDS):
        index = CodeIndex(tmp / f"cold{run}.db", project)
        stats = index.update()
        index.close()
        again.append(stats.files_per_s)
    report(f"unchanged re-index, {source.name}", median(again), "f/s", ">= 20000 files/s",
           f"{ROUNDS} runs; {stats.indexed} files read again", baseline=median(io), baseline_name="I/O floor", met=median(again) >= 20000)

    index = CodeIndex(tmp / "cold0.db", project)
    wanted = definitions(root)
    at1 = at3 = 0
    lat = []
    for name, rel, line in wanted:
        t0 = time.perf_counter()
        hits = index.search(name, limit=3)
        lat.append((time.perf_counter() - t0) * 1000)
        ranks = [i for i, h in enumerate(hits) if h.path == rel and h.start_line <= line <= h.end_line]
        at1 += bool(ranks and ranks[0] == 0)
        at3 += bool(ranks)
    report(f"search quality hits@1, {len(wanted)} identifiers of {source.name}", at1, "of " + str(len(wanted)), "-",
           "the defining chunk ranked first")
    report(f"search quality hits@3, {len(wanted)} identifiers of {source.name}", at3, "of " + str(len(wanted)), "-",
           "the defining chunk in the top 3")

    files = sorted(root.rglob("*.py"))
    rnd = random.Random(3)
    one = []
    for i in range(30):
        target = rnd.choice(files)
        target.write_text(target.read_text() + f"\n\ndef edited_{i}():\n    return {i}\n")
        t0 = time.perf_counter()
        index.update_paths([target])
        one.append((time.perf_counter() - t0) * 1000)
    report(f"re-index one changed file, {source.name} (median of 30)", median(one), "ms", "<= 50 ms",
           f"p95 {p95(one):.1f} ms", met=median(one) <= 50)
    for _ in range(10):
        for q in PHRASES + [name for name, _, _ in wanted]:
            t0 = time.perf_counter()
            index.search(q, limit=10)
            lat.append((time.perf_counter() - t0) * 1000)
    report(f"search p95, {source.name}", p95(lat), "ms", "<= 30 ms", f"{len(lat)} queries; median {median(lat):.1f} ms",
           met=p95(lat) <= 30)
    index.close()


def code_pane_first_frame(tmp: Path) -> None:
    big = tmp / "big.py"
    big.write_text("".join(f"def function_{i}(x):\n    return x * {i}  # line {i}\n" for i in range(10_000)))
    os.environ["CODA_DATA_DIR"] = str(tmp / "data")
    os.environ["HOME"] = str(tmp)
    os.environ.pop("CODA_CONFIG_PATH", None)

    async def go() -> list[float]:
        from coda_tui.core.runtime import Runtime
        from coda_tui.ui.app import CodaApp
        from coda_tui.ui.widgets.code import CodePane

        times = []
        app = CodaApp(Runtime(project=tmp), project=tmp)
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause(0.5)
            for _ in range(7):
                code = app.query_one(CodePane)
                drawn = asyncio.Event()
                t0 = time.perf_counter()
                code.open_file(big)
                app.call_after_refresh(drawn.set)
                await drawn.wait()
                times.append((time.perf_counter() - t0) * 1000)
                await pilot.pause(2.5)  # let the background highlighting land (about 1 s here)
        return times

    times = asyncio.run(go())
    report("code pane first frame, 20,000-line file (median of 7)", median(times), "ms", "<= 150 ms",
           "plain text first, Pygments colours after", met=median(times) <= 150)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        real_repo_figures(tmp)
        code_pane_first_frame(tmp)


if __name__ == "__main__":
    main()
