from __future__ import annotations

import asyncio

from coda_tui.config import ProviderConfig
from coda_tui.providers.base import ChatMessage, Usage
from coda_tui.providers.registry import make_provider

HELLO = [ChatMessage("user", "Say hello")]


def provider(type_: str, **kw):
    kw.setdefault("max_retries", 3)
    return make_provider(ProviderConfig(name=kw.pop("name", "test"), type=type_, **kw))


def collect(prov, messages=HELLO, **kw) -> tuple[list[str], Usage | None, list]:
    """Run one stream to the end: (chunks, usage, retries)."""
    retries = []

    async def go():
        chunks, usage = [], None
        try:
            async for item in prov.stream(messages, on_retry=lambda *a: retries.append(a), **kw):
                if isinstance(item, str):
                    chunks.append(item)
                else:
                    usage = item
        finally:
            await prov.aclose()
        return chunks, usage

    chunks, usage = asyncio.run(go())
    return chunks, usage, retries


def collect_until_error(prov, messages=HELLO):
    """(chunks received, exception raised)."""
    chunks = []

    async def go():
        try:
            async for item in prov.stream(messages):
                if isinstance(item, str):
                    chunks.append(item)
        finally:
            await prov.aclose()

    try:
        asyncio.run(go())
    except Exception as exc:  # noqa: BLE001
        return chunks, exc
    return chunks, None


def stream_all(prov, messages=HELLO, **kw) -> tuple[list[str], list, Usage | None, Exception | None]:
    """Run one stream (tools and all) to its end or its error: (texts, tool calls, usage, error)."""
    from coda_tui.providers.base import ToolCall

    texts, calls, usage = [], [], None

    async def go():
        nonlocal usage
        try:
            async for item in prov.stream(messages, **kw):
                if isinstance(item, str):
                    texts.append(item)
                elif isinstance(item, ToolCall):
                    calls.append(item)
                else:
                    usage = item
        finally:
            await prov.aclose()

    try:
        asyncio.run(go())
    except Exception as exc:  # noqa: BLE001
        return texts, calls, usage, exc
    return texts, calls, usage, None
