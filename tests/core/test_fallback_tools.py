"""FallbackCall with tools: they reach the provider, calls come through, a request with
tools never touches the response cache, and a target refusing tools is not skipped for
another model (the loop asks it again without them)."""

from __future__ import annotations

import asyncio

from coda_tui.config import load
from coda_tui.core.cache import ResponseCache
from coda_tui.core.fallback import FallbackCall
from coda_tui.providers import errors as E
from coda_tui.providers.base import ChatMessage, ToolCall
from coda_tui.providers.registry import Providers
from tests.conftest import write_config
from tests.core.test_roles_fallback import provider_table
from tests.servers import Action
from tests.tool_servers import OPENAI_NO_TOOLS, Call, OpenAIToolServer, Reply

TOOLS = [{"type": "function", "function": {"name": "search_code", "description": "Search the code.",
                                           "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}]
ASK = [ChatMessage("user", "where is main?")]


def call_for(tmp_path, a_url: str, b_url: str) -> FallbackCall:
    config = load(write_config(tmp_path, provider_table("a", a_url) + provider_table("b", b_url)))
    providers = Providers(config)
    cache = ResponseCache(tmp_path / "cache.db")
    return FallbackCall(providers, providers.get("a"), [("a", None), ("b", None)], cache=cache)


def drain(call: FallbackCall, **kw) -> tuple[list, Exception | None]:
    items = []

    async def go():
        try:
            async for item in call.stream(ASK, **kw):
                items.append(item)
        finally:
            for name in ("a", "b"):
                await call.providers.get(name).aclose()

    try:
        asyncio.run(go())
    except E.ProviderError as exc:
        return items, exc
    return items, None


def test_tools_reach_the_provider_and_calls_come_back_uncached(tmp_path):
    reply = Reply(calls=[Call("search_code", ['{"query":', ' "main"}'], id="call_7")])
    with OpenAIToolServer([reply]) as a, OpenAIToolServer([]) as b:
        for _ in range(2):
            items, exc = drain(call_for(tmp_path, a.url, b.url), tools=TOOLS, tool_choice="required")
            assert exc is None and ToolCall("call_7", "search_code", '{"query": "main"}') in items
        # Asked twice: the second was not answered from the cache.
        assert len(a.chat_requests()) == 2 and b.chat_requests() == []
        body = a.chat_requests()[0]["body"]
    assert body["tools"] == TOOLS and body["tool_choice"] == "required"
    assert ResponseCache(tmp_path / "cache.db").conn.execute("select count(*) from responses").fetchone()[0] == 0


def test_a_target_refusing_tools_is_not_swapped_for_the_next(tmp_path):
    with OpenAIToolServer([Action("status", status=400, body=OPENAI_NO_TOOLS)]) as a, OpenAIToolServer([]) as b:
        call = call_for(tmp_path, a.url, b.url)
        items, exc = drain(call, tools=TOOLS)
        assert b.chat_requests() == []
    assert items == [] and isinstance(exc, E.ToolsUnsupported)
    assert [(x.provider, x.kind) for x in call.attempts] == [("a", "tools_unsupported")]


def test_each_target_picks_its_tool_choice_for_the_round(tmp_path):
    with OpenAIToolServer([Reply(chunks=["ok"])]) as a, OpenAIToolServer([]) as b:
        config = load(write_config(tmp_path, provider_table("a", a.url, tool_choice='"search_code"')
                                   + provider_table("b", b.url)))
        asked = []
        for step in (0, 1):
            providers = Providers(config)  # drain closes them
            call = FallbackCall(providers, providers.get("a"), [("a", None), ("b", None)])
            items, exc = drain(call, tools=TOOLS, step=step)
            assert exc is None and items[0] == "ok"
            asked.append((call.tool_choice, call.detail()["tool_choice"]))
        sent = [r["body"]["tool_choice"] for r in a.chat_requests()]
    assert asked == [("search_code", "search_code"), ("auto", "auto")]
    assert sent == [{"type": "function", "function": {"name": "search_code"}}, "auto"]
