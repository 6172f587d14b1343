"""Tool calls from real models: the embedded SmolLM2 through the grammar-constrained ChatML
protocol, and llama.cpp's own server with `--chat_format chatml-function-calling` through
the openai provider. A call must happen and arrive whole; what the model asks is not judged."""

from __future__ import annotations

import json

import pytest

from coda_tui.providers import errors as E
from coda_tui.providers.base import ChatMessage, ToolCall
from tests.conftest import LLAMA_SERVER_KEY, _start_llama_server
from tests.providers.helpers import provider, stream_all
from tests.providers.test_tool_calls import TOOLS

pytestmark = pytest.mark.slow
QUESTION = [ChatMessage("user", "which function parses the command line arguments? read it and tell me")]
NAMES = [t["function"]["name"] for t in TOOLS]


@pytest.fixture(scope="module")
def llama_tools_server():
    proc, url = _start_llama_server("--api_key", LLAMA_SERVER_KEY, "--chat_format", "chatml-function-calling")
    yield url
    proc.terminate()
    proc.wait(10)


def test_embedded_model_searches_first_without_configuration_with_the_question_as_query():
    prov = provider("llama_cpp", max_tokens=64)
    choice = prov.tool_choice_for(0, NAMES)
    assert choice == "search_code"
    texts, calls, usage, exc = stream_all(prov, QUESTION, tools=TOOLS, tool_choice=choice)
    assert exc is None and texts == []
    assert len(calls) == 1 and calls[0].name == "search_code" and calls[0].id
    assert json.loads(calls[0].arguments) == {"query": QUESTION[0].content}
    assert (usage.prompt_tokens, usage.completion_tokens) == (0, 0)  # the plan's call: no model run


def test_embedded_model_writes_a_named_calls_arguments_when_a_tool_choice_is_configured():
    prov = provider("llama_cpp", max_tokens=64, tool_choice="search_code")
    texts, calls, usage, exc = stream_all(prov, QUESTION, tools=TOOLS, tool_choice=prov.tool_choice_for(0, NAMES))
    assert exc is None and texts == []
    assert len(calls) == 1 and calls[0].name == "search_code" and calls[0].id
    # Grammar-constrained: the arguments are a JSON object, whatever they say.
    assert isinstance(json.loads(calls[0].arguments), dict)
    assert usage.prompt_tokens > 50 and usage.completion_tokens > 0


def test_embedded_model_may_be_made_to_call_some_tool_or_left_to_choose():
    _, calls, _, exc = stream_all(provider("llama_cpp", max_tokens=64), QUESTION, tools=TOOLS, tool_choice="required")
    assert exc is None and len(calls) == 1
    assert calls[0].name in NAMES and isinstance(json.loads(calls[0].arguments), dict)
    texts, calls, _, exc = stream_all(provider("llama_cpp", max_tokens=64), QUESTION, tools=TOOLS, tool_choice="auto")
    assert exc is None and (calls or "".join(texts).strip())
    assert all(c.name in NAMES for c in calls)


def test_embedded_model_answers_from_tool_results_on_the_next_round():
    prov = provider("llama_cpp", max_tokens=24)
    call = ToolCall("call_0", "search_code", '{"query": "command line arguments"}')
    history = [*QUESTION, ChatMessage("assistant", "", tool_calls=(call,)),
               ChatMessage("tool", "cli.py:41 def parse_args(argv=None):", tool_call_id="call_0", name="search_code")]
    choice = prov.tool_choice_for(1, NAMES)
    assert choice == "none"
    texts, calls, usage, exc = stream_all(prov, history, tools=TOOLS, tool_choice=choice)
    assert exc is None and calls == [] and "".join(texts).strip()
    assert usage.completion_tokens == len(texts)


def test_embedded_tool_choice_setting_replaces_the_plan():
    prov = provider("llama_cpp", tool_choice="auto")
    assert [prov.tool_choice_for(step, NAMES) for step in (0, 1)] == ["auto", "auto"]


def test_openai_provider_gets_a_whole_call_from_llama_cpp_server(llama_tools_server):
    # This server streams calls only for a named tool_choice ("auto" with stream=True is
    # refused by its handler), and repeats the id and name in every delta.
    prov = provider("openai", base_url=llama_tools_server, api_key=LLAMA_SERVER_KEY, model="smollm2", max_tokens=64)
    texts, calls, usage, exc = stream_all(prov, QUESTION, tools=TOOLS, tool_choice="search_code")
    assert exc is None and texts == [] and usage is not None
    assert len(calls) == 1 and calls[0].name == "search_code" and calls[0].id.startswith("call_")
    assert calls[0].arguments.strip().startswith("{")


def test_openai_provider_with_auto_tool_choice_at_llama_cpp_server_is_told_no_tools(llama_tools_server):
    prov = provider("openai", base_url=llama_tools_server, api_key=LLAMA_SERVER_KEY, model="smollm2", max_tokens=64,
                    max_retries=0)
    texts, calls, _, exc = stream_all(prov, QUESTION, tools=TOOLS, tool_choice="auto")
    # Its handler raises inside the stream when the model picks a tool: the body ends with
    # no event. That is "no tools here", so the loop goes on without them.
    assert texts == [] and calls == [] and isinstance(exc, E.ToolsUnsupported) and "named" in str(exc)
    prov = provider("openai", base_url=llama_tools_server, api_key=LLAMA_SERVER_KEY, model="smollm2", max_tokens=8)
    texts, calls, _, exc = stream_all(prov, QUESTION)
    assert exc is None and calls == [] and "".join(texts).strip()
