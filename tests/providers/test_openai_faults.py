"""The openai provider against a loopback server speaking OpenAI's SSE wire format, for the
failures a real server will not produce on demand."""

from __future__ import annotations

import time

import pytest

from coda_tui.providers import base
from coda_tui.providers import errors as E
from tests.providers.helpers import collect, collect_until_error, provider
from tests.servers import Action, OpenAIServer, free_port


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(base, "BACKOFF_BASE", 0.05)


def openai(url: str, **kw):
    return provider("openai", base_url=f"{url}/v1", model="fake-model", **kw)


def test_streams_chunks_and_reports_usage():
    with OpenAIServer([Action(chunks=["def ", "f():", " pass"], usage=(30, 3))]) as srv:
        chunks, usage, _ = collect(openai(srv.url))
    assert chunks == ["def ", "f():", " pass"]
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated) == (30, 3, False)
    req = srv.chat_requests()[0]
    assert req["body"]["stream"] is True and req["body"]["stream_options"] == {"include_usage": True}
    assert req["body"]["messages"] == [{"role": "user", "content": "Say hello"}]


def test_429_waits_for_retry_after_then_succeeds():
    script = [Action("status", status=429, headers={"Retry-After": "1"}, body='{"error": {"message": "slow down"}}'), Action()]
    with OpenAIServer(script) as srv:
        chunks, _, retries = collect(openai(srv.url))
        times = [r["time"] for r in srv.chat_requests()]
    assert "".join(chunks) == "Hello, world!"
    assert len(times) == 2 and times[1] - times[0] >= 0.95
    assert retries[0][1] == 1.0 and isinstance(retries[0][2], E.RateLimited)


def test_5xx_retried_with_backoff_then_reported():
    with OpenAIServer([Action("status", status=503, body='{"error": {"message": "overloaded"}}')]) as srv:
        _, exc = collect_until_error(openai(srv.url, max_retries=2))
        assert len(srv.chat_requests()) == 3
    assert isinstance(exc, E.ServerError) and exc.status == 503
    assert "503" in str(exc) and srv.url in str(exc)


def test_401_is_never_retried():
    with OpenAIServer([Action("status", status=401, body='{"error": {"message": "bad key"}}')]) as srv:
        _, exc = collect_until_error(openai(srv.url))
        assert len(srv.chat_requests()) == 1
    assert isinstance(exc, E.AuthError)
    assert "api_key" in str(exc) or "key" in exc.hint


def test_403_is_an_auth_error():
    with OpenAIServer([Action("status", status=403, body="{}")]) as srv:
        _, exc = collect_until_error(openai(srv.url))
    assert isinstance(exc, E.AuthError) and "403" in str(exc)


def test_404_unknown_model():
    body = '{"error": {"message": "The model `gpt-9` does not exist", "code": "model_not_found"}}'
    with OpenAIServer([Action("status", status=404, body=body)]) as srv:
        _, exc = collect_until_error(provider("openai", base_url=f"{srv.url}/v1", model="gpt-9"))
    assert isinstance(exc, E.ModelNotFound)
    assert "gpt-9" in str(exc) and "coda models" in str(exc)


def test_connection_refused():
    url = f"http://127.0.0.1:{free_port()}"
    _, exc = collect_until_error(openai(url))
    assert isinstance(exc, E.ConnectionRefused) and url in str(exc)


def test_dns_failure():
    _, exc = collect_until_error(provider("openai", base_url="http://no-such-host.invalid/v1", model="m"))
    assert isinstance(exc, E.DNSFailure) and "no-such-host.invalid" in str(exc)


def test_timeout_before_first_token_is_retried_then_reported():
    with OpenAIServer([Action("stall", delay=2.0)]) as srv:
        t0 = time.monotonic()
        _, exc = collect_until_error(openai(srv.url, timeout=0.3, max_retries=1))
        elapsed = time.monotonic() - t0
        assert len(srv.chat_requests()) == 2
    assert isinstance(exc, E.ProviderTimeout) and "0.3 s" in str(exc)
    assert elapsed < 2.0


def test_stream_cut_mid_way_keeps_what_arrived():
    with OpenAIServer([Action(chunks=["one ", "two ", "three"], cut_after=2)]) as srv:
        chunks, exc = collect_until_error(openai(srv.url))
        assert len(srv.chat_requests()) == 1  # never retried once text has arrived
    assert chunks == ["one ", "two "]
    assert isinstance(exc, E.StreamInterrupted)


def test_stall_mid_stream_is_a_partial_answer():
    with OpenAIServer([Action(chunks=["a", "b", "c"], delay=1.5)]) as srv:
        chunks, exc = collect_until_error(openai(srv.url, timeout=0.4))
    assert chunks == ["a"] and isinstance(exc, E.StreamInterrupted) and "stalled" in str(exc)


def test_html_instead_of_json():
    with OpenAIServer([Action("html", status=200)]) as srv:
        _, exc = collect_until_error(openai(srv.url))
    assert isinstance(exc, E.BadResponse) and "HTML" in str(exc)


def test_html_error_page_from_a_proxy():
    with OpenAIServer([Action("html", status=502)]) as srv:
        _, exc = collect_until_error(openai(srv.url, max_retries=0))
    assert isinstance(exc, E.ServerError) and "502" in str(exc)


def test_malformed_json_in_the_stream():
    with OpenAIServer([Action("malformed")]) as srv:
        chunks, exc = collect_until_error(openai(srv.url))
    assert chunks == ["Hi"] and isinstance(exc, E.StreamInterrupted) and "malformed" in str(exc)


def test_list_models_and_health():
    import asyncio

    with OpenAIServer([Action()]) as srv:
        prov = openai(srv.url)
        assert asyncio.run(prov.list_models()) == ["fake-model"]
        prov = openai(srv.url)
        health = asyncio.run(prov.health())
    assert health.ok and "1 model" in health.detail
