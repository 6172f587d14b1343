"""Compare: one question to several models. Loopback servers in OpenAI's wire format for
the table, the storage and the scheduling (local targets one after another, remote ones at
once); the embedded model and llama.cpp's own server for two real models."""

from __future__ import annotations

import asyncio
import json

import pytest

from coda_tui.core import compare as compare_mod
from coda_tui.core.compare import Comparer, targets
from coda_tui.core.runtime import Runtime
from tests.conftest import LLAMA_SERVER_KEY, run_coda, write_config
from tests.servers import Action, OpenAIServer


def config_text(a_url: str, b_url: str) -> str:
    def table(name, url, model):
        return f'[providers.{name}]\ntype = "openai"\nbase_url = "{url}/v1"\nmodel = "{model}"\nmax_retries = 0\n'

    return '[general]\nprovider = "a"\n[context]\nsearch_hits = 0\n' + table("a", a_url, "alpha") + table("b", b_url, "beta")


def run_compare(rt: Runtime, prompt: str, specs: list[str]):
    comparer = Comparer(rt.turns)

    async def go():
        try:
            session, qid = comparer.question_session(prompt)
            return await comparer.run(prompt, targets(rt.config, rt.providers, specs), session, qid)
        finally:
            await rt.aclose()

    return asyncio.run(go())


def test_compare_prints_the_table_and_both_answers_and_stores_them(tmp_path):
    with OpenAIServer([Action(chunks=["alpha ", "says ", "\x1b[31mhi"], usage=(40, 3))]) as a, \
            OpenAIServer([Action(kind="status", status=404, body='{"error": {"message": "no such model"}}')]) as b:
        cfg = str(write_config(tmp_path, config_text(a.url, b.url)))
        out = run_coda("--config", cfg, "compare", "what is 2+2?", "--with", "a", "--with", "b:beta")
        assert out.returncode == 0, out.stderr
        # The same question, with the same messages, went to both; no tools were offered.
        (ra,), (rb,) = a.chat_requests(), b.chat_requests()
        assert ra["body"]["messages"] == rb["body"]["messages"] and ra["body"]["model"] == "alpha"
        assert "tools" not in ra["body"] and "tools" not in rb["body"]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("comparison #1 · session #") and lines[0].endswith("tools off")
    assert lines[1].split() == ["provider:model", "first", "token", "ms", "total", "ms", "tok/s", "tokens", "cost",
                                "outcome"]
    assert lines[2].startswith("a:alpha") and lines[2].rstrip().endswith("complete")
    assert "local, $0" in lines[2] and " 3 " in lines[2]
    assert lines[3].startswith("b:beta") and "error:" in lines[3]
    # Each answer under its own heading, escape sequences made inert.
    assert "── a:alpha (complete) ──" in out.stdout and "alpha says" in out.stdout and "\x1b" not in out.stdout
    assert "── b:beta (error" in out.stdout and "(no answer)" in out.stdout

    listing = run_coda("--config", cfg, "compare", "--list")
    assert listing.returncode == 0
    assert listing.stdout.startswith("#1  ") and "what is 2+2?" in listing.stdout and "a:alpha complete" in listing.stdout
    stored = json.loads(run_coda("--config", cfg, "compare", "--list", "--json").stdout)
    (c,) = stored
    assert [a["provider"] for a in c["answers"]] == ["a", "b"]
    assert c["answers"][0]["status"] == "complete" and c["answers"][1]["status"] == "error"
    # Each answer is a message of the comparison's session, with its trace.
    rt = Runtime(cfg, project=tmp_path)
    first = c["answers"][0]
    assert rt.store.sessions.message(first["message_id"]).content == "alpha says \x1b[31mhi"
    assert rt.store.traces.get(first["trace_id"]).message_id == first["message_id"]
    assert [m.role for m in rt.store.sessions.messages(c["session_id"])] == ["user", "assistant", "assistant"]
    rt.close()


def test_local_targets_take_turns_and_remote_ones_run_at_once(tmp_path, monkeypatch):
    with OpenAIServer([Action(chunks=["a1", "a2"], first_delay=0.2)]) as a, OpenAIServer([Action(chunks=["b"])]) as b:
        path = write_config(tmp_path, config_text(a.url, b.url))
        local = run_compare(Runtime(path, project=tmp_path), "q", ["a", "b"])
        assert all(t.target.local for t in local.answers)
        first, second = local.answers
        # The second began after the first had finished.
        assert second.offset_ms >= first.offset_ms + first.trace.total_ms
        monkeypatch.setattr(compare_mod, "is_private_address", lambda address: False)
        remote = run_compare(Runtime(path, project=tmp_path), "q", ["a", "b"])
        first, second = remote.answers
        assert not first.target.local and second.offset_ms < first.offset_ms + first.trace.total_ms
        assert [x.status for x in remote.answers] == ["complete", "complete"]


def test_compare_refuses_bad_input_in_one_line(tmp_path):
    cfg = str(write_config(tmp_path, config_text("http://127.0.0.1:9", "http://127.0.0.1:9")))
    for args, words in ((["q", "--with", "a"], "at least two"), (["--with", "a", "--with", "b"], "no question"),
                        (["q", "--with", "a", "--with", "nosuch"], "nosuch")):
        out = run_coda("--config", cfg, "compare", *args)
        assert out.returncode == 2 and "Traceback" not in out.stderr and words in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) <= 2


@pytest.mark.slow
def test_compare_the_embedded_model_and_the_llama_cpp_server(tmp_path, llama_server):
    cfg = str(write_config(tmp_path, f'[general]\nprovider = "local"\n[context]\nsearch_hits = 0\n'
                                     f'[providers.local]\nmax_tokens = 24\n'
                                     f'[providers.llamasrv]\ntype = "openai"\nbase_url = "{llama_server}"\n'
                                     f'api_key = "{LLAMA_SERVER_KEY}"\nmodel = "smollm2"\nmax_tokens = 24\n'))
    out = run_coda("--config", cfg, "compare", "Name a colour.", "--with", "local", "--with", "llamasrv", "--json",
                   timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [a["provider"] for a in data["answers"]] == ["local", "llamasrv"] and data["tools"] is False
    for answer in data["answers"]:
        assert answer["status"] == "complete" and answer["answer"].strip(), answer
        assert answer["local"] and answer["cost"]["calls"]["local"] == 1 and answer["ttft_ms"] > 0
    # Both are on this machine: the second was asked once the first had answered.
    a, b = data["answers"]
    assert b["offset_ms"] >= a["offset_ms"] + a["model_ms"]
    table = run_coda("--config", cfg, "compare", "Name a colour.", "--with", "local", "--with", "llamasrv",
                     timeout=300)
    assert table.returncode == 0, table.stderr
    assert "── local:" in table.stdout and "── llamasrv:smollm2 (complete) ──" in table.stdout
    listed = json.loads(run_coda("--config", cfg, "compare", "--list", "--json").stdout)
    assert len(listed) == 2
