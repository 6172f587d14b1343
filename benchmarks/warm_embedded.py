"""First token of a question to the warm embedded model, through coda's whole turn in this
repository (context, the tool gate, memory, prompt, storing, the provider) against the same
model file loaded by llama_cpp and called directly, alternating, in one process.

Each coda turn is a new session with a new short question (greetings: no tools, the gate
says so), as in the app; the bare model (a second Llama of the same file and thread counts,
so neither evicts the other's cache) is asked the same questions. Both find their own system
prompt still in llama.cpp's cache from the question before, as a warm app does, and read the
rest. Target: <= 1.1x bare. Then, without a target, a question about this project's code (the
search-first plan: a grammar-constrained call, the search, a second round).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

import llama_cpp
from common import ROOT, median, report

from coda_tui.providers.llama_cpp import thread_counts

ROUNDS = 5
GREETINGS = ["Say hi", "Say hello", "Greet me", "Say good morning", "Say good night", "Wave at me"]
ABOUT_CODE = "where is tool_choice_for defined?"


async def measure(rounds: int) -> tuple[list[float], list[float], list[float]]:
    from coda_tui.core.events import TokenChunk
    from coda_tui.core.runtime import Runtime

    rt = Runtime(project=ROOT)
    first: list[float] = []
    rt.bus.subscribe(lambda e: first.append(time.perf_counter()) if isinstance(e, TokenChunk) and not first else None)

    async def through_coda(question: str) -> float:
        first.clear()
        t0 = time.perf_counter()
        await rt.turns.run(question)
        return (first[0] - t0) * 1000

    prov = rt.providers.get("local")
    await prov.load()
    threads, batch_threads = thread_counts(prov.config)
    llm = llama_cpp.Llama(model_path=str(prov.model_path()), n_ctx=prov.context_window, n_threads=threads,
                          n_threads_batch=batch_threads, verbose=False)

    def bare(question: str) -> float:
        t0 = time.perf_counter()
        for chunk in llm.create_chat_completion(messages=[{"role": "user", "content": question}], stream=True,
                                                max_tokens=64, temperature=0.2):
            if chunk["choices"][0]["delta"].get("content"):
                return (time.perf_counter() - t0) * 1000
        raise SystemExit("bare llama_cpp wrote nothing")

    await through_coda(GREETINGS[-1])  # warm: imports, SQLite pages, the prompt's prefix
    bare(GREETINGS[-1])
    coda, floor = [], []
    for question in GREETINGS[:rounds]:
        coda.append(await through_coda(question))
        floor.append(bare(question))
    # Last: its tools prompt would leave the greetings' prefix out of the cache.
    code = [await through_coda(ABOUT_CODE) for _ in range(2)]
    await rt.aclose()
    rt.close()
    return coda, floor, code


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.pop("CODA_CONFIG_PATH", None)
        os.environ["CODA_DATA_DIR"] = os.path.join(tmp, "data")
        os.environ["HOME"] = tmp
        coda, floor, code = asyncio.run(measure(ROUNDS))
    report("warm first token vs bare llama_cpp, greetings", median(coda), "ms", "<= 1.1x bare",
           f"{ROUNDS} alternating runs, embedded SmolLM2-135M, in this repository", baseline=median(floor),
           baseline_name="llama_cpp", met=median(coda) <= 1.1 * median(floor))
    report("warm first token, a question about the code", median(code), "ms", "-",
           f"{ABOUT_CODE!r}: search first, then the answer; 2 runs", baseline=median(floor), baseline_name="llama_cpp")


if __name__ == "__main__":
    main()
