"""Time coda adds to time-to-first-token: a full pipeline turn (context, memory, prompt,
storing the question in SQLite, the provider layer) against the same openai client called
directly, both streaming from the same loopback server. Target: ≤ 5 ms median."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

from common import median, report

from tests.servers import Action, OpenAIServer

ROUNDS = 200


async def measure(url: str, rounds: int) -> tuple[list[float], list[float], list[float]]:
    import httpx
    import openai

    from coda_tui.core.events import TokenChunk
    from coda_tui.core.runtime import Runtime

    client = openai.AsyncOpenAI(api_key="x", base_url=f"{url}/v1", max_retries=0, timeout=httpx.Timeout(120, connect=5))
    messages = [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Say hello"}]

    async def direct() -> float:
        t0 = time.perf_counter()
        stream = await client.chat.completions.create(
            model="fake-model", messages=messages, stream=True, max_tokens=1024, stream_options={"include_usage": True}
        )
        first = None
        async for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - t0
        return first * 1000

    rt = Runtime()
    first_token: list[float] = []
    rt.bus.subscribe(lambda e: first_token.append(time.perf_counter()) if isinstance(e, TokenChunk) and e.count == 1 else None)

    before_llm: list[float] = []

    async def through_coda() -> float:
        first_token.clear()
        t0 = time.perf_counter()
        result = await rt.turns.run("Say hello", provider="srv")
        llm = next(s for s in result.trace.stages if s.name == "llm")
        before_llm.append(llm.start_ms)
        return (first_token[0] - t0) * 1000

    for _ in range(5):  # warm both paths: connection pools, imports, SQLite pages
        await direct()
        await through_coda()
    raw, app = [], []
    for _ in range(rounds):
        raw.append(await direct())
        app.append(await through_coda())
    await client.close()
    await rt.aclose()
    rt.close()
    return raw, app, before_llm[-rounds:]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, OpenAIServer([Action(chunks=["Hello", " there", "!"])]) as srv:
        cfg = os.path.join(tmp, "config.toml")
        with open(cfg, "w") as f:
            f.write(f'[providers.srv]\ntype = "openai"\nbase_url = "{srv.url}/v1"\nmodel = "fake-model"\n')
        os.environ["CODA_CONFIG_PATH"] = cfg
        os.environ["CODA_DATA_DIR"] = os.path.join(tmp, "data")
        raw, app, before = asyncio.run(measure(srv.url, ROUNDS))
    report("ttft, openai client direct (median)", median(raw), "ms", "-", f"{ROUNDS} rounds")
    report("ttft, through coda's pipeline (median)", median(app), "ms", "-")
    added = median(app) - median(raw)
    report("time coda adds to ttft (difference of medians)", added, "ms", "<= 5 ms", met=added <= 5)
    report("  of which context+memory+prompt stages (median)", median(before), "ms", "-", "session, question stored")


if __name__ == "__main__":
    main()
