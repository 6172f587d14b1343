"""The embedded model (SmolLM2-135M) answering real questions through `coda ask`, one cold
process a question, with the figures read from each turn's trace.

  questions  20 ordinary questions, two checkouts of coda side by side (--before and
             --after), alternating which goes first; answer length, first token and turn
             time, medians. Issue 12 item 5: hits that earn their place and sane generation
             defaults must shorten both.
  reverse    "Write a Python function that reverses a string" in an empty folder and in
             --project, alternating, --rounds each, with --after's code. Target: the
             project's medians within 1.5× of the empty folder's.
  threads    bare llama_cpp on the same question with the thread counts coda now picks
             against llama.cpp's defaults and 2/2, alternating, --rounds each (issue 15).

Times leave out loading the model (a cold process loads it once; the trace shows it apart).
Run it on a real repository, e.g. a clone of pallets/click:
  python benchmarks/embedded_answers.py questions --before /work/main --project /work/repos/click
  python benchmarks/embedded_answers.py reverse --project /work/repos/click
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median, report

QUESTIONS = [
    "Write a Python function that reverses a string",
    "How do I read a file line by line in Python?",
    "What is the difference between a list and a tuple?",
    "Explain what a decorator is",
    "How do I sort a dictionary by value?",
    "Write a function that checks whether a number is prime",
    "What does the with statement do?",
    "How can I merge two dictionaries?",
    "echo me please",
    "What is a virtual environment?",
    "How do I parse command line arguments?",
    "Write a unit test for an add function",
    "How do I define a command with an option in click?",
    "What does the Context class do?",
    "How do I add a --verbose flag?",
    "Explain the Option class",
    "What does get_default return?",
    "How do I print to stderr?",
    "Write a function that counts words in a text",
    "What is a generator?",
]
REVERSE = QUESTIONS[0]


def ask(tree: Path, data: Path, project: Path, question: str, timeout: float) -> dict:
    """One cold `coda ask --json`; the figures of its trace (or a timeout)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "CODA_DATA_DIR": str(data), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CODA_CONFIG_PATH", None)
    t0 = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "coda_tui", "--project", str(project), "ask", "--json", question],
            cwd=project, env=env, capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        # The answer is stored while it streams: its length so far is a lower bound.
        return {"timeout": True, "total_ms": timeout * 1000, "wall_s": timeout, "tokens_at_least": partial_tokens(data)}
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1], "wall_s": wall}
    result = json.loads(out.stdout)
    trace = result["trace"]
    stages = {s["name"]: s for s in trace["stages"]}
    load_ms = stages["llm"]["detail"].get("load_ms") or 0.0
    return {
        "tokens": result["usage"]["completion_tokens"],
        "prompt_tokens": result["usage"]["prompt_tokens"],
        "ttft_ms": trace["ttft_ms"],
        "total_ms": trace["total_ms"] - load_ms,
        "context": stages["context"]["summary"],
        "wall_s": wall,
    }


def partial_tokens(data: Path) -> int:
    import sqlite3

    from coda_tui.tokens import estimate_tokens

    with sqlite3.connect(data / "coda.db") as db:
        row = db.execute("SELECT content FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1").fetchone()
    return estimate_tokens(row[0]) if row else 0


def index(tree: Path, data: Path, project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree), "CODA_DATA_DIR": str(data), "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "-m", "coda_tui", "index", str(project)], env=env, capture_output=True, check=False)


def questions(args) -> None:
    trees = {"before": Path(args.before).resolve(), "after": Path(args.after).resolve()}
    project = Path(args.project).resolve()
    work = Path(tempfile.mkdtemp(prefix="coda-bench-"))
    data = {name: work / name for name in trees}
    for name, tree in trees.items():
        index(tree, data[name], project)
    rows: dict[str, list[dict]] = {name: [] for name in trees}
    for i, q in enumerate(QUESTIONS[: args.count]):
        order = ["before", "after"] if i % 2 == 0 else ["after", "before"]
        for name in order:
            got = ask(trees[name], data[name], project, q, args.timeout)
            rows[name].append(got)
            shown = f"timeout, answer ≥ {got['tokens_at_least']} tok so far" if got.get("timeout") else got.get("error") or (
                f"{got['tokens']:>4} tok  prompt {got['prompt_tokens']:>5}  first {got['ttft_ms']:>7.0f} ms  "
                f"turn {got['total_ms']:>8.0f} ms")
            print(f"{i + 1:>2} {name:<6} {shown}  | {q[:44]}", flush=True)
    print(f"\nproject {project}, {args.count} questions, medians (a timeout counts as {args.timeout:.0f} s):")
    for name in trees:
        done = [r for r in rows[name] if "tokens" in r]
        timeouts = sum(1 for r in rows[name] if r.get("timeout"))
        lengths = [r.get("tokens", r.get("tokens_at_least")) for r in rows[name] if "tokens" in r or r.get("timeout")]
        if lengths:
            report(f"{name}: answer length", median(lengths), "tok", "shorter after",
                   f"{len(done)} answered, {timeouts} timed out (length so far)")
        if done:
            report(f"{name}: prompt", median([r["prompt_tokens"] for r in done]), "tok", "smaller after")
            report(f"{name}: first token", median([r["ttft_ms"] for r in done]), "ms", "faster after")
        report(f"{name}: turn (without model load)", median([r["total_ms"] for r in rows[name] if "total_ms" in r]),
               "ms", "faster after")


def reverse(args) -> None:
    tree = Path(args.after).resolve()
    project = Path(args.project).resolve()
    work = Path(tempfile.mkdtemp(prefix="coda-bench-"))
    empty = work / "empty"
    empty.mkdir()
    index(tree, work / "data-project", project)
    places = {"empty folder": (empty, work / "data-empty"), "project": (project, work / "data-project")}
    got: dict[str, list[dict]] = {name: [] for name in places}
    for i in range(args.rounds):
        order = list(places) if i % 2 == 0 else list(reversed(places))
        for name in order:
            folder, data = places[name]
            r = ask(tree, data, folder, REVERSE, args.timeout)
            got[name].append(r)
            print(f"{i + 1} {name:<12} first {r.get('ttft_ms', 0):>6.0f} ms  turn {r['total_ms']:>7.0f} ms  "
                  f"{r.get('tokens', '?')} tok  | {r.get('context', r.get('error', ''))}", flush=True)
    ttft = {n: median([r["ttft_ms"] for r in rs if "ttft_ms" in r]) for n, rs in got.items()}
    total = {n: median([r["total_ms"] for r in rs]) for n, rs in got.items()}
    print(f"\n'{REVERSE}', medians of {args.rounds}, alternating:")
    for n in places:
        report(f"{n}: first token", ttft[n], "ms", "")
        report(f"{n}: turn (without model load)", total[n], "ms", "")
    report("project / empty folder: first token", ttft["project"] / ttft["empty folder"], "×", "≤ 1.5")
    report("project / empty folder: turn", total["project"] / total["empty folder"], "×", "≤ 1.5")


def threads(args) -> None:
    import llama_cpp
    import llama_cpp._logger as llama_logger

    from coda_tui.config import ProviderConfig
    from coda_tui.providers.llama_cpp import default_model_path, thread_counts

    llama_logger.logger.setLevel(100)
    chosen = thread_counts(ProviderConfig(name="local", type="llama_cpp"))
    settings = {f"coda's choice {chosen[0]}/{chosen[1]}": chosen, "llama.cpp default": (None, None), "2/2": (2, 2)}
    models = {name: llama_cpp.Llama(model_path=str(default_model_path()), n_ctx=4096, n_threads=t,
                                    n_threads_batch=b, verbose=False) for name, (t, b) in settings.items()}
    got: dict[str, list[tuple[float, float]]] = {name: [] for name in settings}
    for i in range(args.rounds):
        for name in list(settings) if i % 2 == 0 else list(reversed(settings)):
            llm = models[name]
            llm.reset()
            t0 = time.perf_counter()
            first, n = None, 0
            for chunk in llm.create_chat_completion(messages=[{"role": "user", "content": REVERSE}], stream=True,
                                                    max_tokens=64, temperature=0.0):
                if chunk["choices"][0]["delta"].get("content"):
                    n += 1
                    first = first or time.perf_counter() - t0
            rest = time.perf_counter() - t0 - first
            got[name].append((first * 1000, (n - 1) / rest if rest > 0 else 0.0))
    for name in settings:
        report(f"{name}: first token", median([f for f, _ in got[name]]), "ms", "lowest")
        report(f"{name}: generation", median([r for _, r in got[name]]), "tok/s", "highest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["questions", "reverse", "threads"])
    parser.add_argument("--before", default=str(ROOT), help="checkout of coda before the change")
    parser.add_argument("--after", default=str(ROOT), help="checkout of coda after the change (default: this one)")
    parser.add_argument("--project", default=".", help="the folder questions are asked in (indexed first)")
    parser.add_argument("--count", type=int, default=len(QUESTIONS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds a question may take")
    args = parser.parse_args()
    {"questions": questions, "reverse": reverse, "threads": threads}[args.mode](args)


if __name__ == "__main__":
    main()
