"""The response cache: real SQLite files, a loopback server that counts what reaches it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

from coda_tui import paths
from coda_tui.core.cache import ResponseCache, request_key
from coda_tui.core.events import CacheLookup
from coda_tui.core.runtime import Runtime
from coda_tui.providers.base import ChatMessage
from tests.conftest import run_coda, write_config
from tests.core.test_turn import run
from tests.servers import Action, OpenAIServer


def cache_config(url: str, extra: str = "", temperature: str = "") -> str:
    return (
        '[general]\nprovider = "srv"\n[context]\nsearch_hits = 0\n'
        f'[providers.srv]\ntype = "openai"\nbase_url = "{url}/v1"\nmodel = "fake-model"\n{temperature}\n'
        f"[cache]\nenabled = true\n{extra}\n"
    )


def llm(result):
    return next(s for s in result.trace.stages if s.name == "llm")


def test_identical_request_is_answered_from_the_cache(tmp_path):
    slow = Action(chunks=["cached ", "answer"], first_delay=0.3)
    with OpenAIServer([slow]) as srv:
        path = write_config(tmp_path, cache_config(srv.url))
        first = run(Runtime(path, project=tmp_path), "what is 2+2?", session_ref="one")
        rt = Runtime(path, project=tmp_path)  # a new process-like runtime: the cache is on disk
        events = []
        rt.bus.subscribe(events.append)
        second = run(rt, "what is 2+2?", session_ref="two")
        assert len(srv.chat_requests()) == 1
    assert first.text == second.text == "cached answer"
    assert "cached" not in llm(first).detail
    detail = llm(second).detail
    assert detail["cached"] is True and detail["saved_ms"] >= 300
    assert "answered from cache (saved" in llm(second).summary
    assert [a["outcome"] for a in detail["attempts"]] == ["cached"]
    assert second.trace.ttft_ms < 100
    # Stored in the session like any answer.
    answer = rt.store.sessions.message(second.message_id)
    assert (answer.content, answer.status, answer.provider) == ("cached answer", "complete", "srv")
    lookups = [e for e in events if isinstance(e, CacheLookup)]
    assert len(lookups) == 1 and lookups[0].hit and (lookups[0].hits, lookups[0].misses) == (1, 1)
    assert lookups[0].saved_ms == detail["saved_ms"]


def test_different_model_messages_or_options_miss(tmp_path):
    with OpenAIServer([Action()]) as srv:
        path = write_config(tmp_path, cache_config(srv.url))
        run(Runtime(path, project=tmp_path), "question", session_ref="a")
        run(Runtime(path, project=tmp_path), "question", session_ref="b", model="other-model")
        run(Runtime(path, project=tmp_path), "another question", session_ref="c")
        hot = write_config(tmp_path, cache_config(srv.url, temperature="temperature = 0.9"))
        run(Runtime(hot, project=tmp_path), "question", session_ref="d")
        assert len(srv.chat_requests()) == 4
        run(Runtime(hot, project=tmp_path), "question", session_ref="e")
        assert len(srv.chat_requests()) == 4  # now identical to d
    stats = ResponseCache(paths.response_cache_path()).stats()
    assert (stats.entries, stats.hits, stats.misses) == (4, 1, 4)


def test_answering_again_bypasses_the_cache(tmp_path):
    with OpenAIServer([Action(chunks=["first"]), Action(chunks=["second"])]) as srv:
        rt = Runtime(write_config(tmp_path, cache_config(srv.url)), project=tmp_path)

        async def go():
            try:
                one = await rt.turns.run("q")
                again = await rt.turns.run("q", session=one.session, answer_to=one.user_message_id)
                return one, again
            finally:
                await rt.aclose()

        one, again = asyncio.run(go())
        assert len(srv.chat_requests()) == 2
    assert (one.text, again.text) == ("first", "second")


def test_failed_and_partial_answers_are_not_cached(tmp_path):
    script = [Action(chunks=["one ", "two"], cut_after=1), Action("status", status=400, body="{}"), Action()]
    with OpenAIServer(script) as srv:
        path = write_config(tmp_path, cache_config(srv.url))
        assert run(Runtime(path, project=tmp_path), "q", session_ref="a").status == "partial"
        assert run(Runtime(path, project=tmp_path), "q", session_ref="b").status == "error"
        assert run(Runtime(path, project=tmp_path), "q", session_ref="c").text == "Hello, world!"
        assert len(srv.chat_requests()) == 3


def test_ttl_and_max_entries(tmp_path):
    msgs = [ChatMessage("user", "hi")]
    cache = ResponseCache(tmp_path / "c.db", ttl_s=0.2, max_entries=2)
    keys = [request_key("p", "e", f"m{i}", msgs, {}) for i in range(3)]
    assert keys[0] != keys[1] and keys[0] == request_key("p", "e", "m0", msgs, {})
    for i, key in enumerate(keys):
        cache.put(key, "p", f"m{i}", f"answer {i}", 1, 2, 100.0)
        time.sleep(0.01)
    assert cache.stats().entries == 2 and cache.get(keys[0]) is None  # the oldest made room
    assert cache.get(keys[2]).text == "answer 2"
    time.sleep(0.25)
    assert cache.get(keys[2]) is None and cache.stats().entries == 1  # expired, and dropped
    assert cache.clear() == 1 and cache.stats().hits == 0
    cache.close()


def test_cache_file_is_separate_from_the_conversation_database(tmp_path):
    with OpenAIServer([Action()]) as srv:
        rt = Runtime(write_config(tmp_path, cache_config(srv.url)), project=tmp_path)
        run(rt, "q")
        db = rt.store.path
    assert paths.response_cache_path().exists() and paths.response_cache_path() != db
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "responses" not in tables


def test_cli_cache_stats_and_clear(tmp_path):
    with OpenAIServer([Action(chunks=["x"], first_delay=0.1)]) as srv:
        path = write_config(tmp_path, cache_config(srv.url))
        for _ in range(2):
            assert run_coda("ask", "--config", str(path), "same question").returncode == 0
        assert len(srv.chat_requests()) == 1
        stats = run_coda("cache", "stats", "--json", "--config", str(path))
        assert stats.returncode == 0, stats.stderr
        data = json.loads(stats.stdout)
        assert (data["entries"], data["hits"], data["misses"]) == (1, 1, 1) and data["saved_ms"] >= 100
        text = run_coda("cache", "stats", "--config", str(path)).stdout
        assert "1 answer(s)" in text and "1 hit(s)" in text and "saved" in text
        cleared = run_coda("cache", "clear", "--config", str(path))
        assert cleared.returncode == 0 and "1 cached answer(s) removed" in cleared.stdout
        traced = run_coda("ask", "--json", "--config", str(path), "same question")
        assert len(srv.chat_requests()) == 2
    llm_detail = next(s for s in json.loads(traced.stdout)["trace"]["stages"] if s["name"] == "llm")["detail"]
    assert "cached" not in llm_detail


def test_a_damaged_cache_file_is_set_aside_and_started_afresh(tmp_path):
    from coda_tui.core.cache import ResponseCache

    path = tmp_path / "cache" / "responses.db"
    path.parent.mkdir()
    path.write_bytes(b"not a database " * 500)
    cache = ResponseCache(path)
    assert cache.stats().entries == 0
    assert (path.parent / "responses.db.damaged").read_bytes().startswith(b"not a database")
    cache.close()
