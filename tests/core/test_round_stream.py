"""One model round as the turn streams it: what subscribers are told and in which order,
how streamed text is batched for them, what the llm stage says about retries and tool
calls, and that a fallback chain is not walked again once a target has answered."""

from __future__ import annotations

import pytest

from coda_tui.core import model_round
from coda_tui.core.events import (
    FallingBack,
    Retrying,
    StageFinished,
    TokenChunk,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
    UsageReported,
)
from coda_tui.core.runtime import Runtime
from coda_tui.core.tool_loop import Toolbox
from coda_tui.providers import base
from coda_tui.tools.base import ToolContext
from coda_tui.tools.policy import Policy
from coda_tui.tools.registry import ToolRegistry
from tests.conftest import write_config
from tests.core.test_roles_fallback import chain_config, provider_table
from tests.core.test_turn import run
from tests.core.tool_doubles import EchoTool, call, scripted_runtime
from tests.servers import Action, OpenAIServer, free_port
from tests.tool_servers import Call, OpenAIToolServer, Reply


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(base, "BACKOFF_BASE", 0.05)


def llm_stages(result):
    return [s for s in result.trace.stages if s.name == "llm"]


def test_a_round_that_calls_tools_is_stored_and_its_usage_told_before_the_tools_run(tmp_path):
    rt, _ = scripted_runtime(tmp_path, [["Let me look. ", call("echo", {"text": "x"}, "c1")], ["Done."]], [EchoTool()])
    events, rows_at_call = [], []

    def watch(event):
        events.append(event)
        if isinstance(event, ToolCallStarted):
            session_id = next(e.session_id for e in events if isinstance(e, TurnStarted))
            rows_at_call.extend((m.role, m.status, m.content, m.calls)
                                for m in rt.store.sessions.messages(session_id))

    rt.bus.subscribe(watch)
    result = run(rt, "look it up")
    assert result.status == "complete" and result.text == "Done."
    # The round with the call is a complete row holding its call before the tool starts.
    assert rows_at_call[1][:3] == ("assistant", "complete", "Let me look. ")
    assert [c["id"] for c in rows_at_call[1][3]] == ["c1"]
    order = [type(e).__name__ + (f":{e.name}" if isinstance(e, StageFinished) else "") for e in events
             if isinstance(e, (StageFinished, UsageReported, ToolCallStarted, TurnFinished))]
    assert order == ["StageFinished:context", "StageFinished:memory", "StageFinished:prompt", "StageFinished:llm",
                     "UsageReported", "ToolCallStarted", "StageFinished:tool", "StageFinished:llm",
                     "UsageReported", "StageFinished:store", "TurnFinished"]
    first, second = llm_stages(result)
    assert "1 tool call (echo)" in first.summary and not first.summary.startswith("step")
    assert second.summary.startswith("step 2, ") and "tool call" not in second.summary
    assert {k: first.detail[k] for k in ("step", "tools_offered", "tool_calls")} == {"step": 1, "tools_offered": 1,
                                                                                   "tool_calls": 1}
    assert first.detail["first_call_ms"] is not None and second.detail["first_call_ms"] is None
    assert first.detail["tool_choice"] == second.detail["tool_choice"] == "auto"
    # Text from both rounds reached the subscribers, each round's chunks counted from one.
    chunks = [e for e in events if isinstance(e, TokenChunk)]
    assert "".join(c.text for c in chunks) == "Let me look. Done."
    assert [c.count for c in chunks] == [1, 1]
    rt.close()


@pytest.mark.parametrize("interval, expected_counts", [(3600.0, [1, 50]), (0.0, list(range(1, 51)))])
def test_streamed_text_goes_out_at_most_once_an_interval_and_whole(tmp_path, monkeypatch, interval, expected_counts):
    monkeypatch.setattr(model_round, "PUBLISH_INTERVAL_S", interval)
    words = [f"w{i} " for i in range(50)]
    rt, _ = scripted_runtime(tmp_path, [words], [])
    chunks = []
    rt.bus.subscribe(lambda e: chunks.append(e) if isinstance(e, TokenChunk) else None)
    result = run(rt, "fifty words", tools=False)
    # The first chunk goes at once; the rest wait for the interval, or the end of the round.
    assert [c.count for c in chunks] == expected_counts
    assert "".join(c.text for c in chunks) == result.text == "".join(words)
    assert len({c.ttft_ms for c in chunks}) == 1 and chunks[0].ttft_ms is not None
    rt.close()


def test_a_retry_is_told_and_summed_up_in_the_llm_stage(tmp_path):
    with OpenAIServer([Action("status", status=500, body='{"error": {"message": "boom"}}'),
                       Action(chunks=["fine"])]) as srv:
        rt = Runtime(write_config(tmp_path, '[general]\nprovider = "a"\n' + provider_table("a", srv.url)),
                     project=tmp_path)
        events = []
        rt.bus.subscribe(events.append)
        result = run(rt, "hello")
    assert result.status == "complete" and result.text == "fine"
    retried = [e for e in events if isinstance(e, Retrying)]
    assert [e.attempt for e in retried] == [1] and "500" in retried[0].reason
    (llm,) = llm_stages(result)
    assert "; retried 1×: server_error (waited " in llm.summary and llm.detail["retries"] == 1
    rt.close()


def test_later_rounds_go_straight_to_the_target_that_answered(tmp_path):
    answers = [Reply(calls=[Call("echo", ['{"text": "hi"}'], id="c1")]), Reply(chunks=["echoed"])]
    with OpenAIToolServer(answers) as b:
        rt = Runtime(write_config(tmp_path, chain_config(f"http://127.0.0.1:{free_port()}", b.url)),
                     project=tmp_path)
        rt.__dict__["toolbox"] = Toolbox(ToolRegistry([EchoTool()]), Policy(rt.config.tools),
                                         ToolContext(rt.project, output_chars=rt.config.tools.output_chars),
                                         rt.config.tools)
        events = []
        rt.bus.subscribe(events.append)
        result = run(rt, "echo hi")
        sent = [r["body"]["model"] for r in b.chat_requests()]
    assert result.status == "complete" and result.text == "echoed"
    assert sent == ["other-model", "other-model"]
    assert [(e.provider, e.next_provider) for e in events if isinstance(e, FallingBack)] == [("a", "b")]
    first, second = llm_stages(result)
    assert [a["provider"] for a in first.detail["attempts"]] == ["a", "b"]
    assert [a["provider"] for a in second.detail["attempts"]] == ["b"]
    assert (result.trace.provider, result.trace.model) == ("b", "other-model")
    stored = [(m.role, m.provider, m.model) for m in rt.store.sessions.messages(result.session.id)]
    assert stored == [("user", "a", "fake-model"), ("assistant", "b", "other-model"), ("tool", None, None),
                      ("assistant", "b", "other-model")]
    rt.close()
