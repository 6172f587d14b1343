"""The anthropic provider against a loopback server speaking the Messages API's SSE wire
format (tests/anthropic_server.py): the real API cannot be reached from here."""

from __future__ import annotations

import asyncio
import json

import pytest

from coda_tui import config
from coda_tui.config import Config, ConfigError, ProviderConfig
from coda_tui.providers import base
from coda_tui.providers import errors as E
from coda_tui.providers.anthropic import to_anthropic_messages
from coda_tui.providers.base import ChatMessage, ToolCall, Usage
from coda_tui.providers.breaker import CircuitOpen
from coda_tui.providers.registry import Providers
from tests.anthropic_server import AnthropicServer, Reply, error_body
from tests.conftest import run_coda, write_config
from tests.providers.helpers import HELLO, collect, collect_until_error, provider

KEY = "sk-ant-test-" + "k" * 24
READ_FILE = {"type": "function", "function": {
    "name": "read_file", "description": "Read a file of the project.",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}}
GREP = {"type": "function", "function": {"name": "grep", "description": "Search the project.",
                                         "parameters": {"type": "object", "properties": {"pattern": {"type": "string"}}}}}


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(base, "BACKOFF_BASE", 0.05)


def claude(url: str, **kw):
    kw.setdefault("api_key", KEY)
    return provider("anthropic", base_url=url, model="claude-haiku-5-5", **kw)


def status(code: int, kind: str, message: str, **headers) -> Reply:
    return Reply("status", status=code, body=error_body(kind, message), headers=headers)


def stream_all(prov, messages, **kw) -> list:
    async def go():
        try:
            return [item async for item in prov.stream(messages, **kw)]
        finally:
            await prov.aclose()

    return asyncio.run(go())


def test_streams_text_with_the_system_prompt_on_top_and_reports_usage():
    with AnthropicServer([Reply(chunks=["def ", "f():", " pass"], usage=(30, 3))]) as srv:
        srv.key = KEY
        chunks, usage, _ = collect(claude(srv.url, max_tokens=256, temperature=0.2),
                                   [ChatMessage("system", "Be brief."), ChatMessage("user", "Say hello")])
        req = srv.message_requests()[0]
    assert chunks == ["def ", "f():", " pass"]
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated) == (30, 3, False)
    body = req["body"]
    assert body["system"] == "Be brief." and body["max_tokens"] == 256 and body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Say hello"}]}]
    # The API version the SDK speaks refuses sampling parameters, whatever their value.
    assert "temperature" not in body and "tools" not in body
    assert req["headers"]["anthropic-version"]


def test_tool_use_over_two_requests_sends_tool_results_in_one_user_message():
    first = Reply(chunks=["Let me look."], tool_calls=[("toolu_1", "read_file", '{"path": "coda_tui/cli/ask.py"}'),
                                                       ("toolu_2", "grep", '{"pattern": "def ask"}')], usage=(50, 20))
    final = Reply(chunks=["ask() streams ", "the answer."], usage=(90, 6))
    tools = [READ_FILE, GREP]
    question = [ChatMessage("system", "You are coda."), ChatMessage("user", "What does ask do?")]
    with AnthropicServer([first, final]) as srv:
        items = stream_all(claude(srv.url), question, tools=tools)
        calls = [i for i in items if isinstance(i, ToolCall)]
        # Text first, then the complete calls, then the usage.
        assert items[0] == "Let me look." and isinstance(items[-1], Usage) and items[1:3] == calls
        assert calls == [ToolCall("toolu_1", "read_file", '{"path": "coda_tui/cli/ask.py"}'),
                         ToolCall("toolu_2", "grep", '{"pattern": "def ask"}')]
        assert json.loads(calls[0].arguments) == {"path": "coda_tui/cli/ask.py"}
        step2 = [*question, ChatMessage("assistant", "Let me look.", tool_calls=tuple(calls)),
                 ChatMessage("tool", "def ask(ctx): ...", tool_call_id="toolu_1", name="read_file"),
                 ChatMessage("tool", "coda_tui/cli/ask.py:57", tool_call_id="toolu_2", name="grep")]
        items = stream_all(claude(srv.url), step2, tools=tools)
        sent = [r["body"] for r in srv.message_requests()]
    assert "".join(i for i in items if isinstance(i, str)) == "ask() streams the answer."
    assert not any(isinstance(i, ToolCall) for i in items)
    assert sent[0]["tools"] == [
        {"name": "read_file", "description": "Read a file of the project.",
         "input_schema": READ_FILE["function"]["parameters"]},
        {"name": "grep", "description": "Search the project.", "input_schema": GREP["function"]["parameters"]},
    ]
    assert sent[1]["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "What does ask do?"}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "coda_tui/cli/ask.py"}},
            {"type": "tool_use", "id": "toolu_2", "name": "grep", "input": {"pattern": "def ask"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "def ask(ctx): ..."},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "coda_tui/cli/ask.py:57"}]},
    ]


def test_a_call_with_no_text_and_empty_or_malformed_arguments():
    # A call alone (no text block), with no argument pieces: its input came whole, {}.
    with AnthropicServer([Reply(chunks=[], tool_calls=[("toolu_9", "list_files", "")])]) as srv:
        items = stream_all(claude(srv.url), HELLO, tools=[READ_FILE])
    assert items[0] == ToolCall("toolu_9", "list_files", "{}") and isinstance(items[1], Usage)
    # Arguments the model wrote badly are replayed as an empty input, never a crash.
    _, wire = to_anthropic_messages([ChatMessage("assistant", "", tool_calls=(ToolCall("t", "x", "{oops"),))])
    assert wire == [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "x", "input": {}}]}]


def test_tool_choice_in_anthropics_shape():
    script = [Reply(chunks=[], tool_calls=[("toolu_1", "grep", '{"pattern": "x"}')])]
    with AnthropicServer(script) as srv:
        for choice in ("auto", "required", "none", "grep"):
            stream_all(claude(srv.url), HELLO, tools=[GREP], tool_choice=choice)
        sent = [r["body"]["tool_choice"] for r in srv.message_requests()]
    assert sent == [{"type": "auto"}, {"type": "any"}, {"type": "none"}, {"type": "tool", "name": "grep"}]


def test_a_gateway_refusing_tools_says_so_and_a_cut_inside_a_call_is_interrupted():
    refusal = status(400, "invalid_request_error", "tools: this model does not support tools")
    with AnthropicServer([refusal]) as srv, pytest.raises(E.ToolsUnsupported, match="will not offer tools to claude-haiku"):
        stream_all(claude(srv.url), HELLO, tools=[READ_FILE])
    cut = Reply(chunks=[], tool_calls=[("toolu_1", "read_file", '{"path": "coda_tui/cli/ask.py"}')], cut_mid_call=True)
    with AnthropicServer([cut]) as srv:
        with pytest.raises(E.StreamInterrupted):
            stream_all(claude(srv.url), HELLO, tools=[READ_FILE])
        assert len(srv.message_requests()) == 1  # a call had begun: not retried


def test_401_is_never_retried_and_names_the_key_variable():
    with AnthropicServer([Reply()]) as srv:
        srv.key = KEY
        _, exc = collect_until_error(claude(srv.url, api_key=None, api_key_env="MY_ANTHROPIC_KEY"))
        assert len(srv.message_requests()) == 1
    assert isinstance(exc, E.AuthError) and "HTTP 401" in str(exc) and "MY_ANTHROPIC_KEY" in exc.hint


def test_404_for_an_unknown_model():
    with AnthropicServer([Reply()]) as srv:
        _, exc = collect_until_error(provider("anthropic", base_url=srv.url, model="claude-nope", api_key=KEY))
        assert len(srv.message_requests()) == 1
    assert isinstance(exc, E.ModelNotFound) and "claude-nope" in str(exc) and "coda models" in exc.hint


def test_429_honours_retry_after_then_succeeds():
    script = [status(429, "rate_limit_error", "Number of requests has exceeded your rate limit", **{"retry-after": "0.2"}),
              Reply()]
    with AnthropicServer(script) as srv:
        chunks, _, retries = collect(claude(srv.url))
        assert len(srv.message_requests()) == 2
    assert "".join(chunks) == "Hello, world!"
    assert isinstance(retries[0][2], E.RateLimited) and retries[0][2].retry_after == 0.2 and retries[0][1] == 0.2


def test_529_overloaded_is_retried():
    with AnthropicServer([status(529, "overloaded_error", "Overloaded"), Reply()]) as srv:
        chunks, _, retries = collect(claude(srv.url))
    assert "".join(chunks) == "Hello, world!"
    err = retries[0][2]
    assert isinstance(err, E.ServerError) and err.status == 529 and "overloaded" in err.message


def test_5xx_retried_then_reported():
    with AnthropicServer([status(500, "api_error", "Internal server error")]) as srv:
        _, exc = collect_until_error(claude(srv.url, max_retries=2))
        assert len(srv.message_requests()) == 3
    assert isinstance(exc, E.ServerError) and exc.status == 500 and "api_error" in str(exc)


def test_an_error_event_before_any_text_is_retried_like_its_status():
    script = [Reply(chunks=["never"], error_event=("overloaded_error", "Overloaded"), error_after=0), Reply()]
    with AnthropicServer(script) as srv:
        chunks, _, retries = collect(claude(srv.url))
    assert "".join(chunks) == "Hello, world!" and retries[0][2].status == 529


def test_an_error_event_mid_answer_keeps_the_partial():
    script = [Reply(chunks=["Hello", ", ", "wor", "ld"], error_event=("overloaded_error", "Overloaded"), error_after=2)]
    with AnthropicServer(script) as srv:
        chunks, exc = collect_until_error(claude(srv.url))
        assert len(srv.message_requests()) == 1  # text was shown: no retry
    assert chunks == ["Hello", ", "]
    assert isinstance(exc, E.StreamInterrupted) and "overloaded_error" in str(exc) and "partial" in exc.hint


def test_a_cut_stream_keeps_its_partial():
    with AnthropicServer([Reply(chunks=["one ", "two ", "three"], cut_after=2)]) as srv:
        chunks, exc = collect_until_error(claude(srv.url))
        assert len(srv.message_requests()) == 1
    assert chunks == ["one ", "two "] and isinstance(exc, E.StreamInterrupted)


def test_a_server_ignoring_max_tokens_is_stopped_by_the_ceiling():
    with AnthropicServer([Reply(chunks=["w"] * 50)]) as srv:
        chunks, exc = collect_until_error(claude(srv.url, max_tokens=2))
    assert isinstance(exc, E.AnswerTooLong) and len(chunks) == 8  # 4 x max_tokens


def test_repeated_outages_open_the_circuit():
    cfg = Config(providers={"anthropic": ProviderConfig("anthropic", "anthropic", max_retries=0, api_key=KEY)})
    cfg.resilience.breaker_failures = 2
    with AnthropicServer([status(529, "overloaded_error", "Overloaded")]) as srv:
        cfg.providers["anthropic"].base_url = srv.url
        providers = Providers(cfg)

        async def go():
            errors = []
            for _ in range(3):
                try:
                    async for _item in providers.get("anthropic").stream(HELLO):
                        pass
                except E.ProviderError as exc:
                    errors.append(exc)
            await providers.aclose()
            return errors

        errors = asyncio.run(go())
        assert len(srv.message_requests()) == 2
    assert [type(e) for e in errors] == [E.ServerError, E.ServerError, CircuitOpen]


def test_lists_models_and_health_accepts_an_alias_of_a_dated_model():
    with AnthropicServer([Reply()]) as srv:
        prov = claude(srv.url)

        async def go():
            try:
                return await prov.list_models(), await prov.health()
            finally:
                await prov.aclose()

        models, health = asyncio.run(go())
    assert models == ["claude-haiku-5-5-20260301", "claude-sonnet-5-5-20260301"]
    assert health.ok, health.detail


def test_a_gateway_without_a_key_is_reached_and_the_api_key_is_not_lent_to_it(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with AnthropicServer([Reply()]) as srv:
        path_cfg = config.Config(providers={"gw": ProviderConfig("gw", "anthropic", base_url=srv.url)})
        pc = path_cfg.provider("gw")  # no key needed away from api.anthropic.com
        chunks, _, _ = collect(provider("anthropic", base_url=pc.base_url, model="claude-haiku-5-5"))
        sent = srv.message_requests()[0]["headers"]
    assert "".join(chunks) == "Hello, world!"
    assert KEY not in json.dumps(sent)


def test_the_builtin_entry_exists_only_with_a_key(tmp_path, monkeypatch):
    assert "anthropic" not in config.load().providers
    with pytest.raises(ConfigError, match="provider 'anthropic' needs an API key") as info:
        config.load().provider("anthropic")
    assert "ANTHROPIC_API_KEY" in info.value.hint
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    pc = config.load().provider("anthropic")
    assert pc.builtin and pc.model == "claude-haiku-5-5" and pc.resolved_api_key() == KEY
    assert pc.api_key_env == "ANTHROPIC_API_KEY" and pc.endpoint == "https://api.anthropic.com"
    # As OPENAI_BASE_URL does for the built-in openai entry.
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://gateway.example/anthropic")
    assert config.load().provider("anthropic").endpoint == "https://gateway.example/anthropic"
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    # A table of that name in the file is an anthropic provider without saying `type`.
    path = write_config(tmp_path, "[providers.anthropic]\nmodel = \"claude-sonnet-5-5\"\n")
    with pytest.raises(ConfigError, match="talks to https://api.anthropic.com but has no API key"):
        config.load(path, env={}).provider("anthropic")


def test_coda_ask_without_a_key_is_one_clear_line(tmp_path):
    out = run_coda("ask", "--provider", "anthropic", "hello")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "anthropic" in lines[0] and "ANTHROPIC_API_KEY" in lines[0]


def test_coda_ask_through_the_provider_streams_the_answer(tmp_path):
    with AnthropicServer([Reply(chunks=["Hi ", "there."], usage=(21, 3))]) as srv:
        srv.key = KEY
        path = write_config(tmp_path, f'[providers.claude]\ntype = "anthropic"\nbase_url = "{srv.url}"\n'
                                      f'api_key_env = "CLAUDE_KEY"\nmodel = "claude-haiku-5-5"\n')
        out = run_coda("--config", str(path), "ask", "--provider", "claude", "--json", "hello", env={"CLAUDE_KEY": KEY})
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["response"] == "Hi there." and data["usage"]["prompt_tokens"] == 21


def test_coda_ask_runs_the_tool_loop_through_the_anthropic_type(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "cli.py").write_text("import argparse\n\n\ndef parse_args(argv):\n    return argparse.ArgumentParser()\n")
    script = [Reply(chunks=["Reading. "], tool_calls=[("toolu_1", "read_file", '{"path": "cli.py"}')], usage=(900, 30)),
              Reply(chunks=["parse_args ", "parses them."], usage=(1200, 8))]
    with AnthropicServer(script) as srv:
        path = write_config(tmp_path, f'[general]\nprovider = "claude"\n[providers.claude]\ntype = "anthropic"\n'
                                      f'base_url = "{srv.url}"\napi_key_env = "CLAUDE_KEY"\nmodel = "claude-haiku-5-5"\n')
        out = run_coda("--config", str(path), "--project", str(project), "ask", "--json",
                       "which function parses the arguments?", env={"CLAUDE_KEY": KEY})
        sent = [r["body"] for r in srv.message_requests()]
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["response"] == "parse_args parses them." and data["status"] == "complete"
    (call,) = data["tool_calls"]
    assert (call["id"], call["name"], call["status"]) == ("toolu_1", "read_file", "ok") and "def parse_args" in call["result"]
    assert len(sent) == 2 and "read_file" in [t["name"] for t in sent[0]["tools"]]
    assistant, results = sent[1]["messages"][-2:]
    assert assistant == {"role": "assistant", "content": [
        {"type": "text", "text": "Reading. "},
        {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "cli.py"}}]}
    (result,) = results["content"]
    assert results["role"] == "user" and result["type"] == "tool_result" and result["tool_use_id"] == "toolu_1"
    assert "def parse_args" in result["content"]
    # Each model round is priced on its own; the turn's cost is their sum.
    rounds = [s["detail"]["cost"] for s in data["trace"]["stages"] if s["name"] == "llm"]
    assert [(c["basis"], c["input_tokens"], c["output_tokens"]) for c in rounds] == [("priced", 900, 30), ("priced", 1200, 8)]
    assert data["cost"]["usd"] == pytest.approx(sum(c["usd"] for c in rounds)) and data["cost"]["usd"] > 0
