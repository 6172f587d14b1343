"""The tool loop against a scripted model (a test double) and real tools, registry, policy,
executor and store: rounds, stages, stored rows, consent, limits, cancellation."""

from __future__ import annotations

import asyncio
import json

from coda_tui.core.events import (
    StageFinished,
    ToolCallFinished,
    ToolCallStarted,
    ToolsUnavailable,
)
from tests.core.tool_doubles import (
    UNSUPPORTED,
    EchoTool,
    MeetTool,
    SleepTool,
    WriteTool,
    call,
    scripted_runtime,
)


def run(rt, prompt: str, **kw):
    async def go():
        try:
            return await rt.turns.run(prompt, **kw)
        finally:
            await rt.aclose()

    return asyncio.run(go())


def rows(rt, session_id):
    return [(m.role, m.status, m.tool_name) for m in rt.store.sessions.messages(session_id)]


def test_a_multi_step_loop_is_rounds_of_stages_and_stored_rows(tmp_path):
    first = call("echo", {"text": "one"}, "c1")

    def second_round(messages, tools):
        # The model sees its own call and the result, answering it by id.
        assert [m.role for m in messages[-2:]] == ["assistant", "tool"]
        assert messages[-2].tool_calls == (first,) and messages[-1].tool_call_id == "c1"
        assert messages[-1].content == "echo: one" and messages[-1].name == "echo"
        return ["Looking again. ", call("echo", {"text": "two"}, "c2")]

    rt, model = scripted_runtime(tmp_path, [[first], second_round, ["The answer: one, two."]], [EchoTool()])
    events = []
    rt.bus.subscribe(events.append)
    result = run(rt, "say one then two")
    assert result.status == "complete" and result.text == "The answer: one, two."
    assert [s.name for s in result.trace.stages] == ["context", "memory", "prompt", "llm", "tool", "llm", "tool", "llm", "store"]
    llm = [s for s in result.trace.stages if s.name == "llm"]
    assert [s.detail["step"] for s in llm] == [1, 2, 3]
    tool = [s for s in result.trace.stages if s.name == "tool"]
    assert tool[0].summary.startswith("echo text=one → ok, 1 line, ")
    assert {k: tool[1].detail[k] for k in ("tool", "call_id", "args", "status", "result_chars", "step")} == \
        {"tool": "echo", "call_id": "c2", "args": "text=two", "status": "ok", "result_chars": 9, "step": 2}
    # Stored as they happened: question, round with its call, result, round, result, answer.
    msgs = rt.store.sessions.messages(result.session.id)
    assert rows(rt, result.session.id) == [("user", "complete", None), ("assistant", "complete", None),
                                           ("tool", "complete", "echo"), ("assistant", "complete", None),
                                           ("tool", "complete", "echo"), ("assistant", "complete", None)]
    assert msgs[1].calls == [{"id": "c1", "name": "echo", "arguments": '{"text": "one"}'}]
    assert msgs[2].tool_call_id == "c1" and msgs[2].content == "echo: one"
    assert msgs[3].content == "Looking again. "
    assert tool[1].detail["message_id"] == msgs[4].id and result.message_id == msgs[5].id
    # The stored trace keeps every round and call, in order.
    stored = rt.store.traces.get(result.trace.id)
    assert [s.name for s in stored.stages] == [s.name for s in result.trace.stages]
    assert stored.stages[-1].duration_ms is not None and stored.stages[4].detail["call_id"] == "c1"
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [(e.call_id, e.step, e.arguments) for e in started] == [("c1", 1, "text=one"), ("c2", 2, "text=two")]
    assert [(e.status, e.message_id) for e in finished] == [("ok", msgs[2].id), ("ok", msgs[4].id)]
    assert [e.name for e in events if isinstance(e, StageFinished)].count("tool") == 2
    # Every round offered the tool; the model's rounds were three.
    assert len(model.sent) == 3 and all(t[0]["function"]["name"] == "echo" for _, t in model.sent)
    assert [c.call.id for c in result.tool_calls] == ["c1", "c2"]
    rt.close()


def test_read_only_calls_of_one_reply_run_concurrently(tmp_path):
    meet = MeetTool(parties=3)
    calls = [call("meet", {"who": w}, f"m{i}") for i, w in enumerate("abc")]
    rt, _ = scripted_runtime(tmp_path, [calls, ["done"]], [meet])
    result = run(rt, "meet them")
    # Each call waits for the other two to be running: they only get there together.
    assert [c.result.status for c in result.tool_calls] == ["ok", "ok", "ok"]
    assert [c.result.content for c in result.tool_calls] == ["met a", "met b", "met c"]
    # Stored in the model's order, whatever order they finished in.
    tool_rows = [m for m in rt.store.sessions.messages(result.session.id) if m.role == "tool"]
    assert [m.tool_call_id for m in tool_rows] == ["m0", "m1", "m2"]
    rt.close()


def test_a_reply_with_a_write_runs_its_calls_one_after_another(tmp_path):
    meet = MeetTool(parties=2, patience_s=0.3)
    calls = [call("meet", {"who": "a"}, "m0"), call("write_note", {"path": "n.txt", "text": "x"}, "w"),
             call("meet", {"who": "b"}, "m1")]
    rt, _ = scripted_runtime(tmp_path, [calls, ["done"]], [meet, WriteTool()], extra="[tools]\nallow = ['write_note']")
    result = run(rt, "mixed")
    # One after another: a meet never finds the other running.
    assert [c.result.status for c in result.tool_calls] == ["error", "ok", "error"]
    assert "never came" in result.tool_calls[0].result.content
    rt.close()


def test_a_write_waits_for_consent_and_is_not_done_on_no(tmp_path):
    asked = []

    async def consent(request):
        asked.append((request.spec.name, request.preview.title, request.preview.body))
        return "no"

    rt, model = scripted_runtime(tmp_path, [[call("write_note", {"path": "n.txt", "text": "hello"}, "w")], ["ok then"]],
                                 [WriteTool()])
    result = run(rt, "write a note", consent=consent)
    assert asked == [("write_note", "write n.txt", "+++ n.txt\n+hello")]
    assert not (rt.project.root / "n.txt").exists()
    assert result.tool_calls[0].result.status == "denied"
    row = next(m for m in rt.store.sessions.messages(result.session.id) if m.role == "tool")
    assert row.status == "error" and row.error.startswith("denied: the user declined")
    # The model was told, and answered.
    assert model.sent[1][0][-1].content.startswith("the user declined") and result.text == "ok then"
    rt.close()


def test_a_write_is_done_on_yes_and_without_anyone_to_ask_it_is_not(tmp_path):
    async def yes(request):
        return "yes"

    write = call("write_note", {"path": "n.txt", "text": "hello"}, "w")
    rt, _ = scripted_runtime(tmp_path, [[write], ["written"]], [WriteTool()])
    assert run(rt, "write", consent=yes).tool_calls[0].result.status == "ok"
    assert (rt.project.root / "n.txt").read_text() == "hello"
    rt.close()
    (tmp_path / "b").mkdir()
    rt, _ = scripted_runtime(tmp_path / "b", [[call("write_note", {"path": "m.txt", "text": "x"})], ["not written"]],
                             [WriteTool()])
    result = run(rt, "write")
    assert result.tool_calls[0].result.status == "denied" and "no terminal" in result.tool_calls[0].result.content
    assert not (rt.project.root / "m.txt").exists()
    rt.close()


def test_max_steps_then_one_round_without_tools(tmp_path):
    script = [[call("echo", {"text": str(i)}, f"c{i}")] for i in range(3)] + [["I must answer now."]]
    rt, model = scripted_runtime(tmp_path, script, [EchoTool()], extra="[tools]\nmax_steps = 3")
    result = run(rt, "loop forever")
    assert len(result.tool_calls) == 3 and result.text == "I must answer now."
    assert [bool(tools) for _, tools in model.sent] == [True, True, True, False]
    assert [s.detail["step"] for s in result.trace.stages if s.name == "llm"] == [1, 2, 3, 4]
    rt.close()


def test_calls_made_when_no_tools_were_offered_are_not_run(tmp_path):
    script = [[call("echo", {"text": "0"})], ["still calling ", call("echo", {"text": "1"})]]
    rt, _ = scripted_runtime(tmp_path, script, [EchoTool()], extra="[tools]\nmax_steps = 1")
    result = run(rt, "q")
    assert len(result.tool_calls) == 1 and result.text == "still calling " and result.status == "complete"
    rt.close()


def test_malformed_arguments_and_an_unknown_tool_go_back_as_tool_errors(tmp_path):
    calls = [call("echo", '{"text": "unterminated', "bad"), call("nope", {}, "unknown"), call("echo", {"text": 3}, "typed")]
    rt, model = scripted_runtime(tmp_path, [calls, ["sorry"]], [EchoTool()])
    result = run(rt, "q")
    assert [c.result.status for c in result.tool_calls] == ["error", "error", "error"]
    back = {m.tool_call_id: m.content for m in model.sent[1][0] if m.role == "tool"}
    assert "not valid JSON" in back["bad"] and "unknown tool 'nope'" in back["unknown"] and "must be string" in back["typed"]
    assert result.status == "complete" and result.text == "sorry"
    stages = [s for s in result.trace.stages if s.name == "tool"]
    assert all(s.detail["status"] == "error" for s in stages)
    assert "unterminated" in stages[0].detail["args"]  # the raw text when it is not JSON
    rt.close()


def test_cancel_mid_call_keeps_what_ran_and_marks_the_running_call_cancelled(tmp_path):
    async def go():
        started = asyncio.Event()
        calls = [call("echo", {"text": "first"}, "e"), call("sleep", {"seconds": 60}, "s"),
                 call("write_note", {"path": "n.txt", "text": "x"}, "w")]
        rt, _ = scripted_runtime(tmp_path, [calls, ["never"]], [EchoTool(), SleepTool(started), WriteTool()],
                                 extra="[tools]\nallow = ['write_note']")
        finished = []
        rt.bus.subscribe(lambda e: finished.append(e) if hasattr(e, "trace") else None)
        task = asyncio.ensure_future(rt.turns.run("go"))
        await asyncio.wait_for(started.wait(), 30)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await rt.aclose()
        return rt, finished[-1]

    rt, done = asyncio.run(go())
    assert done.status == "cancelled"
    msgs = rt.store.sessions.messages(done.session_id)
    assert [(m.role, m.status, m.tool_call_id) for m in msgs] == [
        ("user", "complete", None), ("assistant", "complete", None), ("tool", "complete", "e"),
        ("tool", "cancelled", "s"), ("tool", "cancelled", "w")]
    assert msgs[2].content == "echo: first" and "while it ran" in msgs[3].content and "not run" in msgs[4].content
    assert not (rt.project.root / "n.txt").exists()
    stored = rt.store.traces.get(done.trace.id)
    assert stored.status == "cancelled"
    assert [s.detail.get("status") for s in stored.stages if s.name == "tool"] == ["ok", "cancelled"]
    rt.close()


def test_a_model_without_tools_is_said_once_and_the_turn_goes_on(tmp_path):
    rt, model = scripted_runtime(tmp_path, [UNSUPPORTED, ["plain answer"], ["second plain answer"]], [EchoTool()])
    events = []
    rt.bus.subscribe(events.append)

    async def two():
        first = await rt.turns.run("one")
        second = await rt.turns.run("two", session=first.session)
        await rt.aclose()
        return first, second

    first, second = asyncio.run(two())
    assert (first.text, second.text) == ("plain answer", "second plain answer")
    said = [e for e in events if isinstance(e, ToolsUnavailable)]
    assert len(said) == 1 and said[0].reason == "this model takes no tools"
    # Asked with tools, then without; the next turn no longer offers them.
    assert [bool(t) for _, t in model.sent] == [True, False, False]
    assert "no tools" in next(s for s in first.trace.stages if s.name == "llm").summary
    rt.close()


def test_no_tools_for_the_turn_means_none_offered(tmp_path):
    rt, model = scripted_runtime(tmp_path, [["a"], ["b"]], [EchoTool()], extra="[tools]\nenabled = false")
    run(rt, "q")
    (tmp_path / "x").mkdir()
    rt2, model2 = scripted_runtime(tmp_path / "x", [["a"]], [EchoTool()])
    asyncio.run(rt2.turns.run("q", tools=False))
    assert model.sent[0][1] is None and model2.sent[0][1] is None
    rt.close()
    rt2.close()


def test_tool_results_are_left_out_of_the_prompt_to_fit_the_window(tmp_path):
    big = "x " * 6000  # ~3000+ tokens: two of them do not fit a 4k window with room to answer

    class Big(EchoTool):
        async def call(self, args, ctx):
            return big

    script = [[call("echo", {"text": str(n)}, f"c{n}")] for n in range(8)] + [["done"]]
    rt, model = scripted_runtime(tmp_path, script, [Big()], extra="context_window = 4096\nmax_tokens = 512\n"
                                 "[tools]\noutput_chars = 20000")
    result = run(rt, "q")
    assert result.text == "done"
    results = [m.content for m in model.sent[8][0] if m.role == "tool"]
    # Each result was cut to about an eighth of the window's room (~3,500 tokens: ~1,750
    # characters), whatever output_chars allows; the oldest are then left out so the newest fit.
    assert all(len(r) < 2000 for r in results) and results[-1].startswith("x x x")
    assert "more characters not shown" in results[-1]
    assert results[0].startswith("[result left out")
    rt.close()


def test_tool_rows_are_found_by_full_text_search_and_kept_by_export_and_branch(tmp_path):
    from coda_tui.core.export import to_dict, to_markdown

    rt, _ = scripted_runtime(tmp_path, [[call("echo", {"text": "zanzibar"}, "z")], ["found it"]], [EchoTool()])
    result = run(rt, "q")
    hits = rt.store.sessions.search("zanzibar")
    assert [(h.role, h.message_id) for h in hits if h.role == "tool"]
    msgs = rt.store.sessions.messages(result.session.id)
    doc = to_dict(result.session, msgs, rt.redact)
    assert [m["role"] for m in doc["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert doc["messages"][1]["tool_calls"] == [{"id": "z", "name": "echo", "arguments": '{"text": "zanzibar"}'}]
    assert doc["messages"][2]["tool_call_id"] == "z" and doc["messages"][2]["content"] == "echo: zanzibar"
    md = to_markdown(result.session, msgs, rt.redact)
    assert "echo" in md and "echo: zanzibar" in md
    branch = rt.store.sessions.branch(result.session.id, msgs[-1].id)
    copied = rt.store.sessions.messages(branch.id)
    assert [(m.role, m.tool_calls, m.tool_call_id, m.tool_name) for m in copied] == \
        [(m.role, m.tool_calls, m.tool_call_id, m.tool_name) for m in msgs]
    assert json.loads(copied[1].tool_calls)[0]["id"] == "z"
    rt.close()


def test_later_turns_remember_the_answers_not_the_tool_rounds(tmp_path):
    rt, model = scripted_runtime(tmp_path, [[call("echo", {"text": "big file"}, "r")], ["it says big file"], ["sure"]],
                                 [EchoTool()])

    async def two():
        first = await rt.turns.run("read it")
        second = await rt.turns.run("and then?", session=first.session)
        await rt.aclose()
        return first, second

    _, second = asyncio.run(two())
    sent = model.sent[2][0]
    assert [(m.role, m.content) for m in sent[1:]] == [("user", "read it"), ("assistant", "it says big file"),
                                                        ("user", "and then?")]
    snap = next(s for s in second.trace.stages if s.name == "memory").detail["snapshot"]
    assert sorted(i["reason"] for i in snap["left"]) == ["tool_round", "tool_round"]
    rt.close()


def test_cancel_while_read_only_calls_run_together(tmp_path):
    async def go():
        started = asyncio.Event()
        calls = [call("echo", {"text": "quick"}, "e"), call("sleep", {"seconds": 60}, "s1"),
                 call("sleep", {"seconds": 60}, "s2")]
        rt, _ = scripted_runtime(tmp_path, [calls, ["never"]], [EchoTool(), SleepTool(started)])
        task = asyncio.ensure_future(rt.turns.run("go"))
        await asyncio.wait_for(started.wait(), 30)
        await asyncio.sleep(0)  # let the second sleep start too
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await rt.aclose()
        return rt

    rt = asyncio.run(go())
    msgs = rt.store.sessions.messages(1)
    assert [(m.tool_call_id, m.status) for m in msgs if m.role == "tool"] == [
        ("e", "complete"), ("s1", "cancelled"), ("s2", "cancelled")]
    trace = rt.store.traces.recent(1)[0]
    assert trace.status == "cancelled"
    assert [s.detail["status"] for s in trace.stages if s.name == "tool"] == ["ok", "cancelled", "cancelled"]
    rt.close()


def test_tool_sources_are_loaded_once_in_a_stage_of_their_own(tmp_path):
    from coda_tui.errors import CodaError
    from coda_tui.tools.registry import ToolRegistry

    class Source:
        def __init__(self, name, tools=None):
            self.name, self._tools, self.asked = name, tools, 0

        async def tools(self):
            self.asked += 1
            if self._tools is None:
                raise CodaError(f"mcp server {self.name}: exited at start (status 1)")
            return self._tools

        async def aclose(self):
            pass

    good, bad = Source("good", [EchoTool()]), Source("bad")
    rt, _ = scripted_runtime(tmp_path, [[call("echo", {"text": "hi"}, "e")], ["one"], ["two"]], [])
    rt.toolbox.registry = ToolRegistry([], [good, bad])

    async def two():
        first = await rt.turns.run("one")
        second = await rt.turns.run("two", session=first.session)
        await rt.aclose()
        return first, second

    first, second = asyncio.run(two())
    stage = next(s for s in first.trace.stages if s.name == "tools")
    assert stage.summary == "1 tool from 2 sources; 1 failed: mcp server bad: exited at start (status 1)"
    assert first.tool_calls[0].result.content == "echo: hi"  # the good source's tool ran
    # Loaded before the memory stage, so the window's budget knows what its tools cost.
    assert [s.name for s in first.trace.stages][:3] == ["context", "tools", "memory"]
    assert "tools" not in [s.name for s in second.trace.stages] and (good.asked, bad.asked) == (1, 1)
    rt.close()


def test_one_result_too_big_for_the_window_is_cut_to_fit(tmp_path):
    from coda_tui.core.tool_loop import fit
    from coda_tui.providers.base import ChatMessage
    from coda_tui.tokens import estimate_tokens

    big = "word " * 20000
    messages = [ChatMessage("system", "s"), ChatMessage("user", "q"),
                ChatMessage("assistant", "", tool_calls=(call("echo", {"text": "x"}, "a"),)),
                ChatMessage("tool", big, tool_call_id="a", name="echo")]
    assert fit(messages, 3000) == 1
    assert messages[3].content.startswith("word word") and "more characters left out" in messages[3].content
    assert sum(estimate_tokens(m.content) + 4 for m in messages) <= 3000


def test_a_window_too_small_for_the_tools_gets_none(tmp_path):
    rt, model = scripted_runtime(tmp_path, [["a"], ["b"]], [EchoTool()], extra="context_window = 120\nmax_tokens = 40")
    events = []
    rt.bus.subscribe(events.append)

    async def two():
        first = await rt.turns.run("one")
        await rt.turns.run("two", session=first.session)
        await rt.aclose()

    asyncio.run(two())
    said = [e.reason for e in events if isinstance(e, ToolsUnavailable)]
    assert said == ["its 120-token window is too small for the tools' descriptions (~54 tokens)"]
    assert [t for _, t in model.sent] == [None, None]
    rt.close()
