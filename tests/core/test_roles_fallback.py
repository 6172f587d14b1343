"""Roles and the fallback chain, against loopback servers in OpenAI's wire format (and the
embedded model as a real router)."""

from __future__ import annotations

import asyncio

import pytest

from coda_tui.config import ConfigError, load
from coda_tui.core.events import FallingBack, StageFinished
from coda_tui.core.runtime import Runtime
from coda_tui.providers import base
from tests.conftest import write_config
from tests.core.test_turn import run
from tests.servers import Action, OpenAIServer, free_port

ROUTED_STAGES = ["route", "context", "memory", "prompt", "llm", "store"]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(base, "BACKOFF_BASE", 0.05)


def provider_table(name: str, url: str, model: str = "fake-model", **opts) -> str:
    extra = "".join(f"{k} = {v}\n" for k, v in opts.items())
    return f'[providers.{name}]\ntype = "openai"\nbase_url = "{url}/v1"\nmodel = "{model}"\nmax_retries = 1\n{extra}\n'


def runtime(tmp_path, text: str) -> Runtime:
    return Runtime(write_config(tmp_path, text), project=tmp_path)


def chain_config(a_url: str, b_url: str, **a_opts) -> str:
    return (
        '[general]\nprovider = "a"\n[context]\nsearch_hits = 0\n'
        + provider_table("a", a_url, **a_opts)
        + provider_table("b", b_url)
        + '[roles]\nenabled = true\ndefault = "coder"\n[roles.coder]\nchain = ["a", "b:other-model"]\n'
    )


def llm_stage(result):
    return next(s for s in result.trace.stages if s.name == "llm")


def test_refused_connection_falls_back_to_the_next_provider(tmp_path):
    with OpenAIServer([Action(chunks=["from ", "b"])]) as b:
        rt = runtime(tmp_path, chain_config(f"http://127.0.0.1:{free_port()}", b.url))
        events = []
        rt.bus.subscribe(events.append)
        result = run(rt, "hello")
        assert b.chat_requests()[0]["body"]["model"] == "other-model"
    assert result.status == "complete" and result.text == "from b"
    assert (result.trace.provider, result.trace.model) == ("b", "other-model")
    assert [s.name for s in result.trace.stages] == ROUTED_STAGES
    route = result.trace.stages[0]
    assert route.detail["role"] == "coder" and route.detail["how"] == "only role"
    llm = llm_stage(result)
    assert [(a["provider"], a["outcome"], a["kind"]) for a in llm.detail["attempts"]] == [
        ("a", "error", "connection_refused"), ("b", "answered", None)]
    assert "fell back after a/fake-model connection_refused" in llm.summary
    fell = [e for e in events if isinstance(e, FallingBack)]
    assert [(e.provider, e.next_provider, e.next_model) for e in fell] == [("a", "b", "other-model")]
    assert "connection refused" in fell[0].reason
    # The answer is stored as b's.
    answer = rt.store.sessions.message(result.message_id)
    assert (answer.provider, answer.model, answer.content) == ("b", "other-model", "from b")


def test_500_is_retried_then_falls_back(tmp_path):
    with OpenAIServer([Action("status", status=500, body='{"error": {"message": "boom"}}')]) as a, OpenAIServer([Action()]) as b:
        rt = runtime(tmp_path, chain_config(a.url, b.url))
        result = run(rt, "hello")
        assert len(a.chat_requests()) == 2  # max_retries = 1 at a, then b
        assert len(b.chat_requests()) == 1
    assert result.status == "complete" and result.text == "Hello, world!"
    assert [a["kind"] for a in llm_stage(result).detail["attempts"]] == ["server_error", None]


def test_401_is_not_retried_but_another_provider_is_asked(tmp_path):
    with OpenAIServer([Action("status", status=401, body='{"error": {"message": "bad key"}}')]) as a, OpenAIServer([Action()]) as b:
        rt = runtime(tmp_path, chain_config(a.url, b.url))
        result = run(rt, "hello")
        assert len(a.chat_requests()) == 1
        assert len(b.chat_requests()) == 1
    assert result.status == "complete" and result.trace.provider == "b"
    assert llm_stage(result).detail["attempts"][0]["kind"] == "auth"


def test_429_waits_for_retry_after_at_the_same_provider(tmp_path):
    script = [Action("status", status=429, headers={"Retry-After": "1"}, body="{}"), Action(chunks=["a again"])]
    with OpenAIServer(script) as a, OpenAIServer([Action()]) as b:
        rt = runtime(tmp_path, chain_config(a.url, b.url))
        result = run(rt, "hello")
        times = [r["time"] for r in a.chat_requests()]
        assert not b.chat_requests()
    assert result.text == "a again" and result.trace.provider == "a"
    assert len(times) == 2 and times[1] - times[0] >= 0.95
    assert "rate_limited" in llm_stage(result).summary  # the retry is in the trace


def test_empty_answer_falls_back(tmp_path):
    with OpenAIServer([Action(chunks=[])]) as a, OpenAIServer([Action(chunks=["b answers"])]) as b:
        rt = runtime(tmp_path, chain_config(a.url, b.url))
        result = run(rt, "hello")
    assert result.text == "b answers"
    assert [a["outcome"] for a in llm_stage(result).detail["attempts"]] == ["empty", "answered"]
    assert "a/fake-model empty answer" in llm_stage(result).summary


def test_no_fallback_after_text_was_streamed(tmp_path):
    with OpenAIServer([Action(chunks=["one ", "two ", "three"], cut_after=2)]) as a, OpenAIServer([Action()]) as b:
        rt = runtime(tmp_path, chain_config(a.url, b.url))
        result = run(rt, "count")
        assert not b.chat_requests()
    assert result.status == "partial" and result.text == "one two "
    llm = llm_stage(result)
    assert llm.detail["attempts"][0]["outcome"] == "partial"
    assert "no fallback" in llm.detail["note"] and "no fallback" in llm.summary


def test_every_target_failing_reports_the_last_error_and_all_attempts(tmp_path):
    rt = runtime(tmp_path, chain_config(f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"))
    result = run(rt, "anyone?")
    assert result.status == "error" and result.error.provider == "b"
    assert [a["provider"] for a in llm_stage(result).detail["attempts"]] == ["a", "b"]


def test_explicit_provider_bypasses_roles(tmp_path):
    with OpenAIServer([Action()]) as a, OpenAIServer([Action()]) as b:
        rt = runtime(tmp_path, chain_config(a.url, b.url))
        result = run(rt, "hello", provider="b")
        assert len(b.chat_requests()) == 1 and not a.chat_requests()
    assert [s.name for s in result.trace.stages] == ["context", "memory", "prompt", "llm", "store"]


def router_config(router_url: str, coder_url: str, reviewer_url: str) -> str:
    return (
        '[general]\nprovider = "coder_srv"\n[context]\nsearch_hits = 0\n'
        + provider_table("router", router_url)
        + provider_table("coder_srv", coder_url)
        + provider_table("reviewer_srv", reviewer_url)
        + '[roles]\nenabled = true\nrouter = "router"\ndefault = "coder"\n'
        '[roles.coder]\nchain = ["coder_srv"]\ndescription = "writes or changes code"\n'
        '[roles.reviewer]\nchain = ["reviewer_srv"]\ndescription = "reviews code and finds bugs"\n'
    )


def test_router_picks_different_roles_for_different_requests(tmp_path):
    router_script = [Action(chunks=["Reviewer"]), Action(chunks=["role: coder."]), Action(chunks=["I am not sure"])]
    with OpenAIServer(router_script) as router, OpenAIServer([Action(chunks=["code"])]) as coder, \
            OpenAIServer([Action(chunks=["review"])]) as reviewer:
        rt = runtime(tmp_path, router_config(router.url, coder.url, reviewer.url))

        async def go():
            try:
                return [await rt.turns.run(p) for p in ("Review this diff", "Write a parser", "Hmm")]
            finally:
                await rt.aclose()

        first, second, third = asyncio.run(go())
        asked = router.chat_requests()
    assert (first.text, first.trace.provider) == ("review", "reviewer_srv")
    assert (second.text, second.trace.provider) == ("code", "coder_srv")
    route = [r.trace.stages[0].detail for r in (first, second, third)]
    assert [(d["role"], d["how"]) for d in route] == [("reviewer", "router"), ("coder", "router"), ("coder", "default")]
    assert "named no role" in route[2]["why"] and route[2]["router_answer"] == "I am not sure"
    # The router was shown the roles and the request, and asked for a short answer.
    body = asked[0]["body"]
    assert body["max_tokens"] <= 16 and body["temperature"] == 0.0
    user = body["messages"][-1]["content"]
    assert "- coder: writes or changes code" in user and "- reviewer: reviews code" in user and "Review this diff" in user


def test_router_down_gives_the_default_role(tmp_path):
    with OpenAIServer([Action()]) as coder, OpenAIServer([Action()]) as reviewer:
        rt = runtime(tmp_path, router_config(f"http://127.0.0.1:{free_port()}", coder.url, reviewer.url))
        result = run(rt, "review please")
    route = result.trace.stages[0]
    assert route.detail["role"] == "coder" and route.detail["how"] == "default"
    assert "router failed" in route.detail["why"] and "connection refused" in route.summary
    assert result.status == "complete" and result.trace.provider == "coder_srv"


@pytest.mark.slow
def test_embedded_model_as_router(tmp_path):
    """The real small model classifies; what it says is not the point, the machinery is:
    its answer is recorded, and it becomes a role or, unparseable, the default."""
    with OpenAIServer([Action(chunks=["code"])]) as coder, OpenAIServer([Action(chunks=["review"])]) as reviewer:
        text = router_config("http://unused", coder.url, reviewer.url).replace('router = "router"', 'router = "local"')
        rt = runtime(tmp_path, text)
        events = []
        rt.bus.subscribe(lambda e: events.append(e) if isinstance(e, StageFinished) and e.name == "route" else None)
        result = run(rt, "Please review this function for bugs: def f(x): return x+1")
    route = result.trace.stages[0].detail
    assert route["router"] == "local" and route["router_answer"] is not None and route["router_ms"] > 0
    assert route["role"] in ("coder", "reviewer")
    assert route["how"] == ("router" if rt.turns.roles.parse(route["router_answer"]) else "default")
    assert result.text in ("code", "review") and events and events[0].detail["role"] == route["role"]


def test_roles_config_is_validated(tmp_path):
    bad_target = '[roles]\nenabled = true\n[roles.coder]\nchain = ["nope:model"]\n'
    with pytest.raises(ConfigError) as info:
        load(write_config(tmp_path, bad_target))
    assert info.value.key == "roles.coder.chain" and info.value.line == 4 and "'nope:model' names no provider" in str(info.value)
    no_default = '[roles]\nenabled = true\ndefault = "writer"\n[roles.coder]\nchain = ["local"]\n'
    with pytest.raises(ConfigError) as info:
        load(write_config(tmp_path, no_default))
    assert info.value.key == "roles.default" and info.value.line == 3 and "did you mean" not in str(info.value)
    empty_chain = '[roles.coder]\nchain = []\n'
    with pytest.raises(ConfigError) as info:
        load(write_config(tmp_path, empty_chain))
    assert info.value.key == "roles.coder.chain"
    unknown_key = '[roles.coder]\nchian = ["local"]\n'
    with pytest.raises(ConfigError) as info:
        load(write_config(tmp_path, unknown_key))
    assert "did you mean 'chain'" in str(info.value)
    cfg = load(write_config(tmp_path, '[roles]\nenabled = true\n[roles.coder]\nchain = ["ollama:qwen2.5-coder:1.5b", "local"]\n'))
    assert cfg.roles.roles["coder"].chain == ["ollama:qwen2.5-coder:1.5b", "local"]
    from coda_tui.config import parse_target

    assert parse_target("ollama:qwen2.5-coder:1.5b") == ("ollama", "qwen2.5-coder:1.5b")
    assert parse_target("local") == ("local", None)
