"""The provider's cost a streamed chunk: the openai SDK's own stream (a pydantic object a
chunk) against coda's SSE reader (coda_tui/providers/sse.py, a dict a chunk), both over
the same openai client and HTTP connection, reading the same ~1.1 MB answer in ~14,000
events from the loopback server (benchmarks/stream_server.py, a process of its own) as
fast as it sends. CPU time of this process (time.process_time) per event; alternating
runs, medians. coda's provider reads with sse.py because it is the cheaper one.
"""

from __future__ import annotations

import asyncio
import time

from common import median, report
from ptyterm import python_env
from stream_server import StreamServer

N_TOKENS = 260_000
GROUP = 18
ROUNDS = 3


async def measure(url: str) -> tuple[list[float], list[float], int]:
    import httpx
    import openai

    from coda_tui.providers import sse

    client = openai.AsyncOpenAI(api_key="x", base_url=f"{url}/v1", max_retries=0, timeout=httpx.Timeout(120, connect=5))

    async def start():
        return await client.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "hi"}], stream=True, max_tokens=10**6)

    async def with_sdk() -> tuple[float, int, int]:
        stream = await start()
        t0, n, size = time.process_time(), 0, 0
        async for chunk in stream:
            n += 1
            for choice in chunk.choices:
                size += len(choice.delta.content or "")
        return time.process_time() - t0, n, size

    async def with_sse() -> tuple[float, int, int]:
        stream = await start()
        t0, n, size = time.process_time(), 0, 0
        async for chunk in sse.chat_chunks(stream.response.aiter_bytes(), provider="bench", endpoint=url):
            n += 1
            for choice in chunk.get("choices") or ():
                size += len((choice.get("delta") or {}).get("content") or "")
        await stream.close()
        return time.process_time() - t0, n, size

    sdk, ours = [], []
    await with_sdk()
    for _ in range(ROUNDS):
        cpu, n, size_a = await with_sdk()
        sdk.append(cpu / n * 1e6)
        cpu, n, size_b = await with_sse()
        ours.append(cpu / n * 1e6)
        if size_a != size_b:
            raise SystemExit(f"the two readers disagree: {size_a} and {size_b} characters")
    await client.close()
    return sdk, ours, n


def main() -> None:
    with StreamServer(N_TOKENS, 0.0, "qzxEND", python_env(), group=GROUP) as srv:
        sdk, ours, n = asyncio.run(measure(srv.url))
    report("provider CPU a chunk: coda's SSE reader vs openai SDK", median(ours), "us", "< 1x SDK",
           f"{n:,} chunks of a 1.1 MB answer, {ROUNDS} alternating runs", baseline=median(sdk), baseline_name="SDK",
           met=median(ours) < median(sdk))


if __name__ == "__main__":
    main()
