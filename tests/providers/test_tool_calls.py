"""Tool calls through the openai and ollama providers, against loopback servers speaking
each wire format (tests/tool_servers.py): assembly of streamed pieces, parallel calls,
malformed arguments passed on as written, a stream cut mid-call, servers refusing tools."""

from __future__ import annotations

import json

import pytest

from coda_tui.providers import base
from coda_tui.providers import errors as E
from coda_tui.providers.base import ChatMessage, ToolCall
from tests.providers.helpers import provider, stream_all
from tests.servers import Action
from tests.tool_servers import (
    OLLAMA_NO_TOOLS,
    OPENAI_NO_TOOLS,
    Call,
    OllamaToolServer,
    OpenAIToolServer,
    Reply,
)

TOOLS = [
    {"type": "function", "function": {"name": "read_file", "description": "Read a file.",
                                      "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                                                     "required": ["path"]}}},
    {"type": "function", "function": {"name": "search_code", "description": "Search the code.",
                                      "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}},
]
ASK = [ChatMessage("user", "which function parses the arguments?")]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(base, "BACKOFF_BASE", 0.05)


def openai(url: str, **kw):
    return provider("openai", base_url=f"{url}/v1", model="fake-model", **kw)


def ollama(url: str, **kw):
    return provider("ollama", host=url, model="llama3.2", **kw)


def test_openai_call_split_over_many_deltas_is_assembled_once_whole():
    args = '{"path": "coda_tui/cli.py"}'
    pieces = [args[i:i + 3] for i in range(0, len(args), 3)]
    with OpenAIToolServer([Reply(chunks=["Let me look."], calls=[Call("read_file", pieces, id="call_Xy1")],
                                 usage=(40, 12))]) as srv:
        texts, calls, usage, exc = stream_all(openai(srv.url), ASK, tools=TOOLS)
        body = srv.chat_requests()[0]["body"]
    assert exc is None and len(pieces) > 5
    assert texts == ["Let me look."]
    assert calls == [ToolCall("call_Xy1", "read_file", args)]
    assert (usage.prompt_tokens, usage.completion_tokens) == (40, 12)
    assert body["tools"] == TOOLS and "tool_choice" not in body


def test_openai_two_parallel_calls_interleaved_come_out_in_order():
    calls_sent = [Call("search_code", ['{"query":', ' "argv"}'], id="call_a"),
                  Call("read_file", ['{"path":', ' "setup.py"}'], id="call_b")]
    with OpenAIToolServer([Reply(calls=calls_sent, interleave=True)]) as srv:
        texts, calls, usage, exc = stream_all(openai(srv.url), ASK, tools=TOOLS)
    assert exc is None and texts == [] and usage is not None
    assert calls == [ToolCall("call_a", "search_code", '{"query": "argv"}'),
                     ToolCall("call_b", "read_file", '{"path": "setup.py"}')]


def test_openai_bad_json_arguments_are_passed_on_as_written():
    bad = '{"path": "a.py",,'
    with OpenAIToolServer([Reply(calls=[Call("read_file", [bad[:6], bad[6:]])])]) as srv:
        _, calls, _, exc = stream_all(openai(srv.url), ASK, tools=TOOLS)
    assert exc is None and [(c.name, c.arguments) for c in calls] == [("read_file", bad)]


def test_openai_stream_cut_mid_call_is_interrupted_and_yields_no_half_call():
    # Events: role, first delta of the call, then two of its four argument pieces.
    reply = Reply(calls=[Call("read_file", ['{"pa', 'th": ', '"a.py', '"}'])], cut_after=4)
    with OpenAIToolServer([reply]) as srv:
        _, calls, _, exc = stream_all(openai(srv.url), ASK, tools=TOOLS)
        # Never retried: the answer had started.
        assert len(srv.chat_requests()) == 1
    assert calls == [] and isinstance(exc, E.StreamInterrupted)


def test_openai_body_ending_mid_call_without_finish_is_interrupted():
    # The server closes the body cleanly, but neither finish_reason nor [DONE] came.
    reply = Reply(calls=[Call("read_file", ['{"path": "a.py"}'])])
    with OpenAIToolServer([reply]) as srv:
        srv.events = lambda body, r: OpenAIToolServer.events(srv, body, r)[:3]
        _, calls, _, exc = stream_all(openai(srv.url), ASK, tools=TOOLS)
    assert calls == [] and isinstance(exc, E.StreamInterrupted) and "tool call" in str(exc)


def test_openai_server_rejecting_tools_raises_tools_unsupported_without_retrying():
    with OpenAIToolServer([Action("status", status=400, body=OPENAI_NO_TOOLS)]) as srv:
        texts, calls, _, exc = stream_all(openai(srv.url), ASK, tools=TOOLS)
        assert len(srv.chat_requests()) == 1
    assert texts == [] and calls == [] and isinstance(exc, E.ToolsUnsupported)
    assert "enable-auto-tool-choice" in str(exc)


def test_openai_400_about_something_else_is_not_about_tools():
    body = json.dumps({"error": {"message": "max_tokens is too large"}})
    with OpenAIToolServer([Action("status", status=400, body=body)]) as srv:
        _, _, _, exc = stream_all(openai(srv.url), ASK, tools=TOOLS)
    assert isinstance(exc, E.BadResponse) and not isinstance(exc, E.ToolsUnsupported)


def test_openai_sends_calls_and_results_in_its_own_shape_and_named_tool_choice():
    call = ToolCall("call_1", "read_file", '{"path": "a.py"}')
    history = [*ASK, ChatMessage("assistant", "", tool_calls=(call,)),
               ChatMessage("tool", "def main(): ...", tool_call_id="call_1", name="read_file")]
    with OpenAIToolServer([Reply(chunks=["It is main."])]) as srv:
        texts, calls, _, exc = stream_all(openai(srv.url), history, tools=TOOLS, tool_choice="search_code")
        body = srv.chat_requests()[0]["body"]
    assert exc is None and texts == ["It is main."] and calls == []
    assert body["messages"][1:] == [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "def main(): ..."},
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "search_code"}}


def test_openai_without_tools_sends_none():
    with OpenAIToolServer([Reply(chunks=["hi"])]) as srv:
        texts, _, _, exc = stream_all(openai(srv.url), ASK)
        body = srv.chat_requests()[0]["body"]
    assert exc is None and texts == ["hi"] and "tools" not in body


def test_ollama_calls_get_numbered_ids_and_json_text_arguments():
    calls_sent = [Call("search_code", ['{"query": "argv"}']), Call("read_file", ['{"path": "cli.py"}'])]
    with OllamaToolServer([Reply(chunks=["Looking."], calls=calls_sent, usage=(50, 7))]) as srv:
        texts, calls, usage, exc = stream_all(ollama(srv.url), ASK, tools=TOOLS)
        body = srv.chat_requests()[0]["body"]
    assert exc is None and texts == ["Looking."]
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("call_0", "search_code", {"query": "argv"}), ("call_1", "read_file", {"path": "cli.py"})]
    assert (usage.prompt_tokens, usage.completion_tokens) == (50, 7)
    assert body["tools"] == TOOLS


def test_ollama_sends_calls_and_results_in_its_own_shape():
    call = ToolCall("call_0", "read_file", '{"path": "a.py"}')
    history = [*ASK, ChatMessage("assistant", "", tool_calls=(call,)),
               ChatMessage("tool", "def main(): ...", tool_call_id="call_0", name="read_file")]
    with OllamaToolServer([Reply(chunks=["main"])]) as srv:
        texts, _, _, exc = stream_all(ollama(srv.url), history, tools=TOOLS)
        body = srv.chat_requests()[0]["body"]
    assert exc is None and texts == ["main"]
    assert body["messages"][1]["tool_calls"] == [{"function": {"name": "read_file", "arguments": {"path": "a.py"}}}]
    assert body["messages"][2] == {"role": "tool", "content": "def main(): ...", "tool_name": "read_file"}
    assert body["tools"] == TOOLS


def test_ollama_tool_choice_none_offers_no_tools():
    with OllamaToolServer([Reply(chunks=["main"])]) as srv:
        texts, _, _, exc = stream_all(ollama(srv.url), ASK, tools=TOOLS, tool_choice="none")
        body = srv.chat_requests()[0]["body"]
    assert exc is None and texts == ["main"] and not body.get("tools")


def test_ollama_model_without_tool_support_raises_tools_unsupported():
    with OllamaToolServer([Action("status", status=400, body=json.dumps({"error": OLLAMA_NO_TOOLS}))]) as srv:
        texts, calls, _, exc = stream_all(ollama(srv.url), ASK, tools=TOOLS)
        assert len(srv.chat_requests()) == 1
    assert texts == [] and calls == [] and isinstance(exc, E.ToolsUnsupported)
    assert "does not support tools" in str(exc)


def test_a_provider_type_without_tools_refuses_them_before_asking(monkeypatch):
    from coda_tui.providers.ollama import OllamaProvider

    monkeypatch.setattr(OllamaProvider, "takes_tools", False)
    with OllamaToolServer([Reply(chunks=["x"])]) as srv:
        _, _, _, exc = stream_all(ollama(srv.url), ASK, tools=TOOLS)
        assert srv.chat_requests() == []
    assert isinstance(exc, E.ToolsUnsupported)


def test_openai_empty_stream_in_reply_to_tools_means_no_tools():
    # What llama.cpp's server sends when it cannot stream the call its model chose.
    with OpenAIToolServer([Reply()]) as srv:
        srv.events = lambda body, r: [b"data: [DONE]\n\n"]
        _, _, _, exc = stream_all(openai(srv.url), ASK, tools=TOOLS, tool_choice="auto")
        _, _, _, plain = stream_all(openai(srv.url), ASK)
    assert isinstance(exc, E.ToolsUnsupported) and 'tool_choice "auto"' in str(exc)
    assert isinstance(plain, E.BadResponse) and not isinstance(plain, E.ToolsUnsupported)
