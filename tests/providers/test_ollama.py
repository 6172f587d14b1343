"""The ollama provider (the real `ollama` AsyncClient) against a loopback server speaking
Ollama's NDJSON wire format: Ollama itself cannot be installed on these machines."""

from __future__ import annotations

import asyncio

import pytest

from coda_tui.providers import base
from coda_tui.providers import errors as E
from coda_tui.providers.base import ChatMessage
from coda_tui.providers.ollama import num_ctx_for
from tests.providers.helpers import collect, collect_until_error, provider
from tests.servers import Action, OllamaServer, free_port


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(base, "BACKOFF_BASE", 0.05)


def ollama(url: str, **kw):
    kw.setdefault("model", "llama3.2")
    return provider("ollama", host=url, **kw)


def test_streams_chunks_with_usage_and_sizes_num_ctx():
    with OllamaServer([Action(chunks=["Hel", "lo"], usage=(26, 2))]) as srv:
        chunks, usage, _ = collect(ollama(srv.url))
        body = srv.chat_requests()[0]["body"]
    assert chunks == ["Hel", "lo"]
    assert (usage.prompt_tokens, usage.completion_tokens) == (26, 2)
    assert body["model"] == "llama3.2" and body["stream"] is True
    assert body["options"]["num_ctx"] == 2048 and body["options"]["num_predict"] == 1024


def test_long_conversation_raises_num_ctx():
    long = [ChatMessage("user", "word " * 20000)]  # ~28k tokens estimated
    with OllamaServer([Action()]) as srv:
        collect(ollama(srv.url), messages=long)
        num_ctx = srv.chat_requests()[0]["body"]["options"]["num_ctx"]
    assert num_ctx == 32768


def test_num_ctx_steps():
    assert num_ctx_for(100, 1024, 32768) == 2048
    assert num_ctx_for(3000, 1024, 32768) == 4096
    assert num_ctx_for(9000, 1024, 32768) == 16384
    assert num_ctx_for(90000, 1024, 32768) == 32768


def test_ollama_host_environment_variable(monkeypatch):
    from coda_tui import config

    with OllamaServer([Action()]) as srv:
        monkeypatch.setenv("OLLAMA_HOST", srv.url.removeprefix("http://"))
        cfg = config.load()
        from coda_tui.providers.registry import make_provider

        prov = make_provider(cfg.providers["ollama"])
        chunks, _, _ = collect(prov)
    assert "".join(chunks) == "Hello, world!"


def test_unknown_model_is_404_with_pull_hint():
    with OllamaServer([Action()]) as srv:
        _, exc = collect_until_error(ollama(srv.url, model="mistral"))
    assert isinstance(exc, E.ModelNotFound) and "ollama pull mistral" in str(exc)


def test_refused_connection():
    url = f"http://127.0.0.1:{free_port()}"
    _, exc = collect_until_error(ollama(url))
    assert isinstance(exc, E.ConnectionRefused) and url in str(exc)


def test_dns_failure():
    _, exc = collect_until_error(ollama("http://no-such-host.invalid:11434"))
    assert isinstance(exc, E.DNSFailure)


def test_429_retried_and_500_reported():
    with OllamaServer([Action("status", status=429, body='{"error": "busy"}'), Action()]) as srv:
        chunks, _, retries = collect(ollama(srv.url))
    assert "".join(chunks) == "Hello, world!" and len(retries) == 1
    with OllamaServer([Action("status", status=500, body='{"error": "boom"}')]) as srv:
        _, exc = collect_until_error(ollama(srv.url, max_retries=1))
        assert len(srv.chat_requests()) == 2
    assert isinstance(exc, E.ServerError) and "boom" in str(exc)


def test_401_not_retried():
    with OllamaServer([Action("status", status=401, body='{"error": "unauthorized"}')]) as srv:
        _, exc = collect_until_error(ollama(srv.url))
        assert len(srv.chat_requests()) == 1
    assert isinstance(exc, E.AuthError)


def test_timeout():
    with OllamaServer([Action("stall", delay=2.0)]) as srv:
        _, exc = collect_until_error(ollama(srv.url, timeout=0.3, max_retries=0))
    assert isinstance(exc, E.ProviderTimeout)


def test_cut_mid_stream_is_partial():
    with OllamaServer([Action(chunks=["a", "b", "c"], cut_after=2)]) as srv:
        chunks, exc = collect_until_error(ollama(srv.url))
    assert chunks == ["a", "b"] and isinstance(exc, E.StreamInterrupted)


def test_malformed_json_mid_stream():
    with OllamaServer([Action("malformed")]) as srv:
        chunks, exc = collect_until_error(ollama(srv.url))
    assert chunks == ["Hi"] and isinstance(exc, E.StreamInterrupted)


def test_html_page_instead_of_api():
    with OllamaServer([Action("html", status=200)]) as srv:
        _, exc = collect_until_error(ollama(srv.url))
    assert isinstance(exc, E.BadResponse) and "JSON" in str(exc)


def test_models_and_health_accept_latest_tag():
    with OllamaServer([Action()]) as srv:
        assert asyncio.run(ollama(srv.url).list_models()) == ["llama3.2:latest", "qwen2.5-coder:1.5b"]
        assert asyncio.run(ollama(srv.url).health()).ok
        assert not asyncio.run(ollama(srv.url, model="mistral").health()).ok
