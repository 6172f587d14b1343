"""Bounds on what a server can make coda do: wait for a first byte, obey a Retry-After,
stream an answer past max_tokens; and a password in a URL never shown."""

from __future__ import annotations

import asyncio

import pytest

from coda_tui import config
from coda_tui.providers import base
from coda_tui.providers import errors as E
from tests.conftest import run_coda, write_config
from tests.providers.helpers import collect_until_error, provider
from tests.servers import Action, OllamaServer, OpenAIServer, free_port
from tests.test_faults import db_rows, no_traceback, srv_config


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(base, "BACKOFF_BASE", 0.05)


def openai(url: str, **kw):
    return provider("openai", base_url=f"{url}/v1", model="fake-model", **kw)


# --- silent servers ------------------------------------------------------------------------


def test_a_silent_server_is_given_up_on_at_the_first_byte_bound_not_after_every_retry():
    # Each read may wait 60 s and three retries are allowed; the bound ends it all at 1 s.
    with OpenAIServer([Action("stall", delay=10.0)]) as srv:
        _, exc = collect_until_error(openai(srv.url, timeout=60, max_retries=3, first_byte_timeout=1.0))
        assert len(srv.chat_requests()) == 1
    assert isinstance(exc, E.NoFirstByte) and not exc.retryable
    assert "no answer from" in str(exc) and "within 1 s" in str(exc) and "first_byte_timeout" in exc.hint


def test_retries_of_a_silent_server_stay_within_the_bound():
    # Reads time out at 0.4 s: a retry fits in the 1 s bound, a third attempt does not.
    with OpenAIServer([Action("stall", delay=10.0)]) as srv:
        _, exc = collect_until_error(openai(srv.url, timeout=0.4, max_retries=5, first_byte_timeout=1.0))
        assert 2 <= len(srv.chat_requests()) <= 3
    assert isinstance(exc, (E.NoFirstByte, E.ProviderTimeout)) and "1 s" in str(exc)


def test_the_bound_covers_ollama_too():
    with OllamaServer([Action("stall", delay=10.0)]) as srv:
        _, exc = collect_until_error(provider("ollama", host=srv.url, timeout=60, first_byte_timeout=0.5))
    assert isinstance(exc, E.NoFirstByte) and "within 0.5 s" in str(exc)


def test_a_retry_after_longer_than_the_bound_is_given_up_at_once():
    script = [Action("status", status=429, headers={"Retry-After": "99999"}, body='{"error": {"message": "later"}}'), Action()]
    retries = []

    async def go(prov):
        try:
            async for _ in prov.stream(base_messages(), on_retry=lambda *a: retries.append(a)):
                pass
        finally:
            await prov.aclose()

    with OpenAIServer(script) as srv:
        with pytest.raises(E.RateLimited) as info:
            # Today's code would wait 60 s (Retry-After capped) and ask again.
            asyncio.run(asyncio.wait_for(go(openai(srv.url, first_byte_timeout=30)), 20))
        assert len(srv.chat_requests()) == 1
    assert retries == []
    assert "99999 s" in str(info.value) and "(30 s)" in str(info.value) and "gave up" in str(info.value)


def base_messages():
    return [base.ChatMessage("user", "Say hello")]


# --- servers that ignore max_tokens ---------------------------------------------------------


def test_an_answer_past_four_times_max_tokens_is_stopped_and_kept():
    with OpenAIServer([Action(chunks=["tok "] * 3000)]) as srv:
        chunks, exc = collect_until_error(openai(srv.url, max_tokens=10))
        assert len(srv.chat_requests()) == 1
    assert chunks == ["tok "] * 40
    assert isinstance(exc, E.AnswerTooLong) and isinstance(exc, E.StreamInterrupted)
    assert "4 x max_tokens (10)" in str(exc) and "ignores max_tokens" in str(exc)


def test_an_answer_past_the_byte_limit_is_stopped_whatever_max_tokens(monkeypatch):
    monkeypatch.setattr(base, "ANSWER_CEILING_BYTES", 10_000)
    with OllamaServer([Action(chunks=["é" * 1000] * 50)]) as srv:
        chunks, exc = collect_until_error(provider("ollama", host=srv.url, max_tokens=1_000_000))
    assert len(chunks) == 5  # 2,000 bytes a chunk
    assert isinstance(exc, E.AnswerTooLong) and "10,000 bytes" in str(exc)


def test_coda_ask_stops_an_endless_answer_and_stores_it_as_partial(tmp_path):
    with OpenAIServer([Action(chunks=["word"] * 5000)]) as srv:
        proc = run_coda("--config", srv_config(tmp_path, srv.url, max_tokens=8), "ask", "count")
    assert proc.returncode == 1
    no_traceback(proc)
    assert proc.stdout.strip() == "word" * 32
    assert "ran past 4 x max_tokens (8)" in proc.stderr and "partial answer is kept" in proc.stderr
    assert db_rows(tmp_path, "SELECT role, status FROM messages ORDER BY id") == [("user", "complete"), ("assistant", "partial")]


# --- passwords in URLs ----------------------------------------------------------------------


def test_a_password_in_a_url_is_masked_in_errors():
    port = free_port()
    _, exc = collect_until_error(provider("openai", base_url=f"http://me:hunter2@127.0.0.1:{port}/v1", model="m"))
    assert isinstance(exc, E.ConnectionRefused)
    assert "hunter2" not in str(exc) and f"me:***@127.0.0.1:{port}" in str(exc)


def test_a_url_password_is_a_secret_scrubbed_wherever_it_is_quoted(tmp_path):
    path = write_config(tmp_path, '[providers.srv]\ntype = "openai"\nbase_url = "http://me:hunter2-long@h/v1"\n')
    cfg = config.load(path, env={})
    assert "hunter2-long" in cfg.secrets()
    assert config.load(write_config(tmp_path, '[providers.x]\ntype = "llama_cpp"\nmodel_path = "a:b@c"\n'), env={}).secrets() == []


def test_a_password_in_a_url_is_masked_by_doctor(tmp_path):
    from coda_tui.core.doctor import check_providers
    from coda_tui.providers.registry import Providers

    with OpenAIServer([Action()]) as srv:
        url = srv.url.replace("http://", "http://me:hunter2@")
        path = write_config(tmp_path, f'[providers.srv]\ntype = "openai"\nbase_url = "{url}/v1"\nmodel = "fake-model"\n')
        cfg = config.load(path, env={})
        checks = asyncio.run(check_providers(cfg, Providers(cfg)))
    detail = next(c.detail for c in checks if c.name == "provider srv")
    assert "me:***@127.0.0.1" in detail and "hunter2" not in detail


def test_a_password_in_a_url_reaches_neither_the_terminal_nor_the_database(tmp_path):
    script = [Action("status", status=503, body='{"error": {"message": "down"}}'), Action()]
    with OpenAIServer(script) as srv:
        cfg = srv_config(tmp_path, srv.url.replace("http://", "http://me:hunter2@"))
        failed = run_coda("--config", cfg, "ask", "first")
        answered = run_coda("--config", cfg, "ask", "second", "--json")
    assert failed.returncode == 1 and "me:***@127.0.0.1" in failed.stderr
    assert answered.returncode == 0, answered.stderr
    for proc in (failed, answered):
        assert "hunter2" not in proc.stdout + proc.stderr
    for db in (tmp_path / "data").glob("coda.db*"):
        assert b"hunter2" not in db.read_bytes()
