"""Memory snapshots (issue 17): what each turn's model was sent, checked against what a
loopback server received, and `coda memory show|diff` over them."""

from __future__ import annotations

import asyncio
import json

from coda_tui.core.runtime import Runtime
from tests.conftest import run_coda
from tests.servers import Action, OpenAIServer
from tests.test_cli import srv_config

TURNS = 30


def config_for(tmp_path, url: str) -> str:
    # A small window: after a few turns the oldest messages must leave it.
    path = srv_config(tmp_path, url)  # [providers.srv] is its last table
    with open(path, "a") as f:
        f.write("context_window = 420\nmax_tokens = 40\n")
    return path


def answers(n: int) -> list[Action]:
    # Answers of different lengths, so the window holds a varying number of messages.
    return [Action(chunks=[f"answer {i}: " + "word " * (3 + 5 * (i % 4))]) for i in range(n)]


def run_session(cfg: str, project, turns: int, prompt=lambda i: f"question {i} about the parser") -> list:
    rt = Runtime(cfg, project=project)

    async def go():
        try:
            results = [await rt.turns.run(prompt(0), session_ref="long")]
            for i in range(1, turns):
                results.append(await rt.turns.run(prompt(i), session=results[0].session))
            return results
        finally:
            await rt.aclose()

    try:
        return asyncio.run(go())
    finally:
        rt.close()


def snapshot(rt_cfg: str, trace_id: int) -> dict:
    proc = run_coda("--config", rt_cfg, "memory", "show", str(trace_id), "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_snapshots_name_exactly_what_the_model_received_and_diff_lists_what_left(tmp_path):
    with OpenAIServer(answers(TURNS)) as srv:
        cfg = config_for(tmp_path, srv.url)
        results = run_session(cfg, tmp_path, TURNS)
        sent = [r["body"]["messages"] for r in srv.chat_requests()]
    assert len(sent) == TURNS

    from coda_tui.core.memory import snapshot_of

    rt = Runtime(cfg, project=tmp_path)
    try:
        contents = {m.id: (m.role, m.content) for m in rt.store.sessions.messages(results[0].session.id)}
        stored = [rt.store.traces.get(r.trace.id) for r in results]
    finally:
        rt.close()
    dropped_some = False
    for i, (trace, request) in enumerate(zip(stored, sent)):
        snap = snapshot_of(trace)
        # Between the system prompt and the question: exactly the snapshot's window, in order.
        assert [(m["role"], m["content"]) for m in request[1:-1]] == [contents[w["id"]] for w in snap["window"]]
        assert request[-1]["content"] == f"question {i} about the parser"
        # Every earlier message of the session is either in the window or left out with a reason.
        earlier = sorted(mid for mid in contents if mid < results[i].user_message_id)
        assert sorted([w["id"] for w in snap["window"]] + [x["id"] for x in snap["left"]]) == earlier
        assert sum(w["tokens"] for w in snap["window"]) == snap["tokens"] <= snap["budget"]
        dropped_some |= any(x["reason"] == "budget" for x in snap["left"])
    assert dropped_some

    t10, t11 = stored[9], stored[10]
    before, after = snapshot_of(t10), snapshot_of(t11)
    gone = {w["id"] for w in before["window"]} - {w["id"] for w in after["window"]}
    assert gone, "the window is full by turn 10: turn 11 must drop something"
    proc = run_coda("--config", cfg, "memory", "diff", str(t10.id), str(t11.id), "--json")
    assert proc.returncode == 0, proc.stderr
    delta = json.loads(proc.stdout)
    assert {x["id"] for x in delta["left"] if x["part"] == "window"} == gone
    assert all(x["reason"] in ("budget", "unpaired") for x in delta["left"])
    # What entered: turn 10's own question and answer.
    assert {x["id"] for x in delta["entered"]} == {results[9].user_message_id, results[9].message_id}

    text = run_coda("--config", cfg, "memory", "diff", str(t10.id), str(t11.id))
    assert text.returncode == 0 and "left: " in text.stdout
    for mid in gone:
        assert f"#{mid} " in text.stdout
    shown = run_coda("--config", cfg, "memory", "show")  # the latest turn
    assert shown.returncode == 0 and f"trace {stored[-1].id}" in shown.stdout
    assert "in the window:" in shown.stdout and "(budget)" in shown.stdout
    assert snapshot(cfg, t11.id)["window"] == after["window"]


def test_memory_show_refuses_unknown_traces_in_one_line(tmp_path):
    for args in (["memory", "show", "99"], ["memory", "show", "²"], ["memory", "diff", "1", "2"], ["memory", "show"]):
        proc = run_coda(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_recalled_turns_are_in_the_snapshot_with_their_session_and_score(tmp_path):
    with OpenAIServer([Action(chunks=["Use functools.lru_cache on fibonacci."]), Action(chunks=["ok"])]) as srv:
        cfg = config_for(tmp_path, srv.url)
        with open(cfg, "a") as f:
            f.write("[memory]\nrecall = true\n")
        (first,) = run_session(cfg, tmp_path, 1, prompt=lambda i: "how do I memoize fibonacci")
        rt = Runtime(cfg, project=tmp_path)

        async def other():
            try:
                return await rt.turns.run("fibonacci again please", session_ref="other")
            finally:
                await rt.aclose()

        try:
            second = asyncio.run(other())
        finally:
            rt.close()
        system = srv.chat_requests()[1]["body"]["messages"][0]["content"]
    snap = snapshot(cfg, second.trace.id)
    ids = {first.user_message_id, first.message_id}
    assert snap["recalled"] and {r["id"] for r in snap["recalled"]} <= ids
    assert all(r["session_id"] == first.session.id and r["score"] > 0 and r["tokens"] > 0 for r in snap["recalled"])
    scores = [r["score"] for r in snap["recalled"]]
    assert scores == sorted(scores, reverse=True)  # best first
    assert "memoize fibonacci" in system or "lru_cache" in system
