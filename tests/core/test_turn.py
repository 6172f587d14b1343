from __future__ import annotations

import asyncio
import sqlite3

import pytest

from coda_tui.core.events import StageFinished, StageStarted, TokenChunk, TurnFinished, TurnStarted
from coda_tui.core.runtime import Runtime
from coda_tui.providers import base
from tests.conftest import write_config
from tests.servers import Action, OpenAIServer, free_port

STAGES = ["context", "memory", "prompt", "llm", "store"]
SECRET = "sk-live-secret-for-tests-0123456789abcdef"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(base, "BACKOFF_BASE", 0.05)


def runtime_for(tmp_path, url: str, extra: str = "", **provider_opts) -> Runtime:
    opts = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in provider_opts.items())
    path = write_config(
        tmp_path,
        f"""
[general]
provider = "srv"
[providers.srv]
type = "openai"
base_url = "{url}/v1"
model = "fake-model"
api_key = "{SECRET}"
{opts}
{extra}
""",
    )
    return Runtime(path, project=tmp_path)


def run(rt: Runtime, prompt: str, **kw):
    async def go():
        try:
            return await rt.turns.run(prompt, **kw)
        finally:
            await rt.aclose()

    return asyncio.run(go())


@pytest.mark.slow
def test_embedded_turn_is_traced_and_stored():
    rt = Runtime()
    events = []
    rt.bus.subscribe(events.append)
    # A plain turn (with tools the embedded model searches first: tests/test_cli_tools.py).
    result = run(rt, "Write a Python function that reverses a string", tools=False)
    assert result.status == "complete" and result.text.strip()
    assert [s.name for s in result.trace.stages] == STAGES
    assert all(s.duration_ms is not None and s.duration_ms >= 0 for s in result.trace.stages)
    assert result.trace.ttft_ms > 0 and result.trace.tokens > 0
    stored = rt.store.traces.get(result.trace.id)
    assert [s.name for s in stored.stages] == STAGES and stored.total_ms >= stored.stages[-1].start_ms
    msgs = rt.store.sessions.messages(result.session.id)
    assert [(m.role, m.status) for m in msgs] == [("user", "complete"), ("assistant", "complete")]
    assert msgs[1].content == result.text
    kinds = [type(e) for e in events]
    assert kinds[0] is TurnStarted and kinds[-1] is TurnFinished and TokenChunk in kinds
    started = [e.name for e in events if isinstance(e, StageStarted)]
    finished = [e.name for e in events if isinstance(e, StageFinished)]
    assert started == finished == STAGES
    rt.close()


def test_question_is_stored_even_when_the_provider_is_down(tmp_path):
    rt = runtime_for(tmp_path, f"http://127.0.0.1:{free_port()}")
    result = run(rt, "are you there?")
    assert result.status == "error" and "connection refused" in result.trace.error
    msgs = rt.store.sessions.messages(result.session.id)
    assert [(m.role, m.content, m.status) for m in msgs] == [("user", "are you there?", "complete"), ("assistant", "", "error")]
    assert "connection refused" in msgs[1].error
    assert rt.store.traces.get(result.trace.id).status == "error"


def test_stream_cut_mid_way_keeps_partial_answer(tmp_path):
    with OpenAIServer([Action(chunks=["one ", "two ", "three"], cut_after=2)]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        result = run(rt, "count")
    assert result.status == "partial"
    answer = rt.store.sessions.message(result.message_id)
    assert (answer.content, answer.status) == ("one two ", "partial")
    assert "stopped part-way" in answer.error


def test_answer_is_in_the_database_while_it_streams(tmp_path):
    seen = []
    with OpenAIServer([Action(chunks=[f"w{i} " for i in range(12)], delay=0.1)]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        db_path = rt.store.path

        def peek(event):
            if isinstance(event, TokenChunk) and event.count == 10:
                # A separate connection, as a second process (or a restart after kill -9) would see it.
                with sqlite3.connect(db_path) as other:
                    seen.extend(other.execute("SELECT status, content FROM messages WHERE role='assistant'").fetchall())

        rt.bus.subscribe(peek)
        result = run(rt, "stream slowly")
    assert result.status == "complete"
    assert seen and seen[0][0] == "partial" and seen[0][1].startswith("w0 w1 w2")


def test_cancel_keeps_what_arrived(tmp_path):
    with OpenAIServer([Action(chunks=[f"t{i} " for i in range(50)], delay=0.05)]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        finished = []
        rt.bus.subscribe(lambda e: finished.append(e) if isinstance(e, TurnFinished) else None)

        async def go():
            task = asyncio.create_task(rt.turns.run("long answer please"))
            while not any(True for _ in []) and rt.store.db.execute(
                "SELECT count(*) FROM messages WHERE role='assistant'"
            ).fetchone()[0] == 0:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await rt.aclose()

        asyncio.run(go())
    (status, content), = rt.store.db.execute("SELECT status, content FROM messages WHERE role='assistant'").fetchall()
    assert status == "cancelled" and content.startswith("t0 t1 ") and len(content) < len("t0 " * 50)
    assert finished[0].status == "cancelled"
    assert rt.store.traces.recent(1)[0].status == "cancelled"


def test_session_memory_replays_earlier_turns_within_budget(tmp_path):
    with OpenAIServer([Action(chunks=["first answer"]), Action(chunks=["second answer"]), Action(chunks=["third"])]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        first = run(rt, "first question")
        rt2 = runtime_for(tmp_path, srv.url)
        second = run(rt2, "second question", session_ref=str(first.session.id))
        sent = srv.chat_requests()[1]["body"]["messages"]
        assert [(m["role"], m["content"]) for m in sent[1:]] == [
            ("user", "first question"), ("assistant", "first answer"), ("user", "second question")]
        assert second.session.id == first.session.id
        memory_stage = next(s for s in second.trace.stages if s.name == "memory")
        assert memory_stage.summary.startswith("2/2 messages")

        # A window too small for the history: the oldest turns are left out, and the trace says so.
        rt3 = runtime_for(tmp_path, srv.url, context_window=1100, max_tokens=1024)
        third = run(rt3, "third question", session_ref=str(first.session.id))
        sent = srv.chat_requests()[2]["body"]["messages"]
        memory_stage = next(s for s in third.trace.stages if s.name == "memory")
    assert len(sent) < 6 and sent[-1]["content"] == "third question"
    assert "/4 messages" in memory_stage.summary and not memory_stage.summary.startswith("4/4")


def test_recall_from_other_sessions(tmp_path):
    with OpenAIServer([Action(chunks=["Use the frobnicator with --deep"]), Action(chunks=["ok"])]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        run(rt, "how do I frobnicate the widget cache?")
        rt2 = runtime_for(tmp_path, srv.url, extra="[memory]\nrecall = true\n")
        result = run(rt2, "remind me about frobnicate")
        system = srv.chat_requests()[1]["body"]["messages"][0]
    assert system["role"] == "system" and "frobnicate the widget cache" in system["content"]
    memory_stage = next(s for s in result.trace.stages if s.name == "memory")
    # The question and its answer both match ("frobnicator" stems to the same word).
    assert len(memory_stage.detail["recalled"]) == 2 and "recalled 2" in memory_stage.summary


def test_attachments_go_into_the_prompt_and_the_trace(tmp_path):
    src = tmp_path / "util.py"
    src.write_text("def add(a, b):\n    return a + b\n")
    with OpenAIServer([Action()]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        result = run(rt, "explain this", attachments=[src])
        user = srv.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert "def add(a, b):" in user and user.endswith("explain this") and "util.py:1-2" in user
    ctx = result.trace.stages[0]
    assert ctx.detail["files"][0] == {"path": "util.py", "lines": "1-2", "tokens": ctx.detail["files"][0]["tokens"], "source": "attached"}
    assert ctx.detail["files"][0]["tokens"] > 0
    # The stored question is what the user typed; the file is referenced by the trace.
    assert rt.store.sessions.message(result.user_message_id).content == "explain this"


def test_secrets_never_reach_database_traces_or_errors(tmp_path):
    with OpenAIServer([Action("status", status=401, body='{"error": {"message": "bad key ' + SECRET + '"}}')]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        result = run(rt, f"my key is {SECRET}, is it valid?")
        sent_auth = {k.lower(): v for k, v in srv.chat_requests()[0]["headers"].items()}["authorization"]
    assert sent_auth == f"Bearer {SECRET}"  # it is sent to the provider, and only there
    dump = "\n".join(rt.store.db.conn.iterdump())
    assert SECRET not in dump
    assert SECRET not in (result.trace.error or "") and "401" in result.trace.error
    log = (tmp_path / "data" / "logs").glob("*.log")
    assert all(SECRET not in p.read_text() for p in log)


def test_model_choice_follows_the_session(tmp_path):
    with OpenAIServer([Action()]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        first = run(rt, "q1", model="other-model")
        rt2 = runtime_for(tmp_path, srv.url)
        run(rt2, "q2", session_ref=str(first.session.id))
        models = [r["body"]["model"] for r in srv.chat_requests()]
    assert models == ["other-model", "other-model"]


def test_a_folder_the_question_names_goes_into_the_prompt_as_its_entries(tmp_path):
    (tmp_path / "common-licenses").mkdir()
    for name in ("GPL-3", "Apache-2.0"):
        (tmp_path / "common-licenses" / name).write_text("licence\n")
    with OpenAIServer([Action()]) as srv:
        rt = runtime_for(tmp_path, srv.url)
        result = run(rt, "what is in the common-licenses folder?")
        user = srv.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert "The folder common-licenses/, what it holds:\n```\nApache-2.0\nGPL-3\n```" in user
    ctx = result.trace.stages[0]
    assert ctx.summary.startswith("common-licenses/ listed")
    assert ctx.detail["files"][0]["source"] == "listing"
    assert ctx.detail["files"][0]["why"] == "the question names common-licenses/"
