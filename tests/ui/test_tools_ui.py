"""Tool calls in the app, driven with Pilot: the consent dialog, the calls inline in the chat,
the tool stages on the pipeline pane's waterfall and the tool statistics line.

These feed the app the core's events (the same objects the loop publishes) and a real
ConsentRequest; tests/ui/test_tool_loop_ui.py runs the real loop."""

from __future__ import annotations

import asyncio

from coda_tui.core import events as ev
from coda_tui.providers.base import ToolCall
from coda_tui.tools.base import ConsentRequest, Preview, ToolSpec
from coda_tui.ui.screens.consent import ConsentScreen
from coda_tui.ui.widgets.messages import MessageList
from coda_tui.ui.widgets.pipeline import PipelinePane, ToolStats
from coda_tui.ui.widgets.tool_calls import ToolCallView
from tests.ui.conftest import wait_for
from tests.ui.test_hostile_output import assert_inert, screen_text

DIFF = "--- a/src/calc.py\n+++ b/src/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a + b\n+    return b + a\n"
EDIT = ToolSpec("edit_file", "Edit a file", {"type": "object", "properties": {}}, read_only=False)


def request(n: int = 1, body: str = DIFF) -> ConsentRequest:
    call = ToolCall(f"call_{n}", "edit_file", '{"path": "src/calc.py", "old": "a + b", "new": "b + a"}')
    return ConsentRequest(call, EDIT, Preview("edit", "edit src/calc.py", body))


def test_consent_dialog_yes_no_always_and_esc(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            for key, want in (("y", "yes"), ("n", "no"), ("a", "always"), ("escape", "no")):
                asking = asyncio.create_task(app.consent(request()))
                await wait_for(lambda: isinstance(app.screen, ConsentScreen), pilot=pilot)
                # The body has focus, so keys answer and Enter does not press a button.
                assert app.focused.id == "consent-body"
                await pilot.press(key)
                assert await asyncio.wait_for(asking, 5) == want
                await wait_for(lambda: not isinstance(app.screen, ConsentScreen), pilot=pilot)

    asyncio.run(go())


def test_consent_dialog_shows_the_diff_and_the_arguments_inert(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            hostile = DIFF + "+\x1b]52;c;aGk=\x07 \u202e\n"
            asking = asyncio.create_task(app.consent(request(body=hostile)))
            await wait_for(lambda: isinstance(app.screen, ConsentScreen), pilot=pilot)
            await pilot.pause()
            shot = screen_text(app)
            assert "edit_file wants to edit src/calc.py" in shot
            assert "return b + a" in shot and "src/calc.py" in shot
            # The escape sequence is shown as control pictures, not sent to the terminal.
            assert "␛]52" in shot and "⟪U+202E⟫" in shot
            assert_inert(app, "consent dialog")
            await pilot.press("n")
            assert await asyncio.wait_for(asking, 5) == "no"

    asyncio.run(go())


def test_consent_requests_wait_in_order(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            first = asyncio.create_task(app.consent(request(1)))
            second = asyncio.create_task(app.consent(request(2)))
            await wait_for(lambda: isinstance(app.screen, ConsentScreen), pilot=pilot)
            assert app.screen.request.call.id == "call_1"
            assert sum(isinstance(s, ConsentScreen) for s in app.screen_stack) == 1
            await pilot.press("y")
            await wait_for(lambda: isinstance(app.screen, ConsentScreen) and app.screen.request.call.id == "call_2",
                           pilot=pilot)
            await pilot.press("n")
            assert (await first, await second) == ("yes", "no")

    asyncio.run(go())


def test_consent_dialog_goes_away_when_the_turn_is_cancelled(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            asking = asyncio.create_task(app.consent(request()))
            await wait_for(lambda: isinstance(app.screen, ConsentScreen), pilot=pilot)
            asking.cancel()
            await wait_for(lambda: not isinstance(app.screen, ConsentScreen), pilot=pilot)
            assert asking.cancelled()

    asyncio.run(go())


def publish_tool_round(app, call_id: str = "c1", status: str = "ok", excerpt: str = "def add(a, b):") -> None:
    bus = app.rt.bus
    bus.publish(ev.StageStarted("llm", 5.0))
    bus.publish(ev.StageFinished("llm", 5.0, 40.0, "asked for 1 tool call", {"step": 1}))
    bus.publish(ev.ToolCallStarted(call_id, "read_file", "path=src/calc.py", 1, 46.0))
    bus.publish(ev.StageStarted("tool", 46.0))
    bus.publish(ev.StageFinished("tool", 46.0, 3.0, f"read_file path=src/calc.py → {status}",
                                 {"tool": "read_file", "call_id": call_id, "status": status, "step": 1}))
    bus.publish(ev.ToolCallFinished(call_id, "read_file", status, 3.0, 200, excerpt))


def test_tool_call_inline_in_the_chat_collapsed_then_opened(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            app.rt.bus.publish(ev.ToolCallStarted("c1", "read_file", "path=src/calc.py", 1, 46.0))
            await pilot.pause()
            views = app.query(ToolCallView)
            assert len(views) == 1 and views.first().status == "running"
            app.rt.bus.publish(ev.ToolCallFinished("c1", "read_file", "ok", 3.0, 200, "def add(a, b): \x1b[2J"))
            await pilot.pause()
            view = views.first()
            assert view.status == "ok" and not view.open
            shot = screen_text(app)
            assert "read_file path=src/calc.py" in shot and "✓ ok · 3 ms" in shot
            assert "def add(a, b): ␛[2J" in shot
            assert_inert(app, "tool call")
            # Keyboard: the conversation, the call selected, Enter opens it and closes it.
            app.query_one(MessageList).focus()
            await pilot.press("up", "enter")
            assert view.open and view.query_one(".tool-body").display
            await pilot.press("space")
            assert not view.open

    asyncio.run(go())


def test_tools_unavailable_is_said_once(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(3):
                app.rt.bus.publish(ev.ToolsUnavailable("srv", "fake-model", "the model cannot call tools"))
            await pilot.pause()
            said = [n for n in app._notifications if "No tools with srv" in n.message]
            assert len(said) == 1 and "the model cannot call tools" in said[0].message

    asyncio.run(go())


def test_pipeline_draws_llm_rounds_and_tool_stages_live(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(140, 45)) as pilot:
            bus = app.rt.bus
            bus.publish(ev.TurnStarted(1, "srv", "fake-model", "which function?"))
            publish_tool_round(app, "c1", "ok")
            # A second round, whose call fails, and a third that answers.
            bus.publish(ev.StageStarted("llm", 50.0))
            bus.publish(ev.StageFinished("llm", 50.0, 30.0, "", {"step": 2}))
            bus.publish(ev.ToolCallStarted("c2", "grep", "pattern=parse", 2, 81.0))
            bus.publish(ev.StageStarted("tool", 81.0))
            await pilot.pause()
            waterfall = app.query_one(PipelinePane).waterfall
            running = waterfall.stages[-1]
            assert running.label == "↳ grep" and running.duration_ms is None
            bus.publish(ev.StageFinished("tool", 81.0, 2.0, "grep → error", {"tool": "grep", "status": "error"}))
            bus.publish(ev.ToolCallFinished("c2", "grep", "error", 2.0, 20, "bad regex"))
            bus.publish(ev.StageStarted("llm", 84.0))
            await pilot.pause()
            labels = [b.label or b.name for b in waterfall.stages]
            assert labels == ["llm", "↳ read_file", "llm 2", "↳ grep", "llm 3"]
            assert [b.status for b in waterfall.stages if b.name == "tool"] == ["ok", "error"]
            text = waterfall.render().plain
            assert "↳ read_file" in text and "llm 2" in text and "✗" in text
            stats = app.query_one(ToolStats)
            assert stats.display and stats.line() == "tools 2 calls · 1 failed · median 2.5 ms (this run)"

    asyncio.run(go())


def test_parallel_tool_stages_finish_their_own_bars(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(140, 45)) as pilot:
            bus = app.rt.bus
            bus.publish(ev.TurnStarted(1, "srv", "fake-model", "q"))
            # Two read-only calls at once; the first started finishes last.
            for cid, tool, start in (("a", "read_file", 10.0), ("b", "grep", 11.0)):
                bus.publish(ev.ToolCallStarted(cid, tool, "", 1, start))
                bus.publish(ev.StageStarted("tool", start))
            bus.publish(ev.StageFinished("tool", 11.0, 1.0, "", {}))
            bus.publish(ev.ToolCallFinished("b", "grep", "ok", 1.0, 5, "x"))
            await pilot.pause()
            bars = {b.label: b for b in app.query_one(PipelinePane).waterfall.stages}
            assert bars["↳ grep"].duration_ms == 1.0 and bars["↳ read_file"].duration_ms is None

    asyncio.run(go())


def test_undo_restores_the_last_turns_edit_and_refuses_after_a_later_change(harness, project):
    from coda_tui.tools.edits import EditFile
    from coda_tui.tools.setup import tool_context
    from coda_tui.ui.widgets.code import CodePane
    from coda_tui.ui.widgets.messages import MessageView
    from tests.ui.test_app import ask

    async def go():
        app = harness().app(project)
        calc = project / "src" / "calc.py"
        original = calc.read_text()
        async with app.run_test(size=(120, 40)) as pilot:
            # A turn's edit, written by the real tool through the sandbox and the journal.
            ctx = tool_context(app.rt.config, app.rt.project, turn="turn-1")
            await EditFile().call({"path": "src/calc.py", "old": "a + b", "new": "b + a"}, ctx)
            app.show_file(calc)
            await pilot.pause()
            code = app.query_one(CodePane)
            assert "b + a" in "\n".join(code.view.lines)
            await ask(pilot, "/undo")
            assert calc.read_text() == original
            last = app.query(MessageView).last()
            assert last.text == "undone: restored src/calc.py"
            # The code pane shows the file as it is now.
            await wait_for(lambda: "a + b" in "\n".join(code.view.lines) and "b + a" not in "\n".join(code.view.lines), pilot=pilot)
            await ask(pilot, "/undo")
            # Information, not an error in the chat: a notice.
            await wait_for(lambda: any(n.message.startswith("Nothing to undo") and n.severity == "information"
                                       for n in app._notifications), pilot=pilot)
            assert not any(v.status == "error" for v in app.query(MessageView))

            # An edit changed by hand afterwards is not undone: one line names the file.
            await EditFile().call({"path": "src/calc.py", "old": "a + b", "new": "b + a"}, ctx)
            calc.write_text(calc.read_text() + "# mine\n")
            await ask(pilot, "/undo")
            error = app.query(MessageView).last().error or ""
            assert "src/calc.py changed since" in error and "\n" not in error
            assert calc.read_text().endswith("# mine\n")

    asyncio.run(go())


def test_calls_that_reuse_an_id_each_round_and_finish_at_once(harness, project):
    """The embedded model names every round's call call_0; a failing read ends in
    milliseconds, before its block is even mounted."""

    async def go():
        app = harness().app(project)
        async with app.run_test(size=(140, 45)) as pilot:
            bus = app.rt.bus
            bus.publish(ev.TurnStarted(1, "srv", "fake-model", "q"))
            for n, (tool, status) in enumerate((("read_file", "error"), ("list_files", "ok"), ("read_file", "error"))):
                start = 10.0 * (n + 1)
                bus.publish(ev.StageStarted("tool", start))
                bus.publish(ev.ToolCallStarted("call_0", tool, f"round={n}", n + 1, start))
                bus.publish(ev.StageFinished("tool", start, 1.0, "", {}))
                bus.publish(ev.ToolCallFinished("call_0", tool, status, 1.0, 9, f"result {n}"))
            await pilot.pause()
            views = list(app.query(ToolCallView))
            assert [(v.tool, v.status) for v in views] == [("read_file", "error"), ("list_files", "ok"), ("read_file", "error")]
            shot = screen_text(app)
            assert "result 0" in shot and "… running" not in shot
            bars = [b for b in app.query_one(PipelinePane).waterfall.stages if b.name == "tool"]
            assert [(b.label, b.status) for b in bars] == [("↳ read_file", "error"), ("↳ list_files", "ok"),
                                                             ("↳ read_file", "error")]

    asyncio.run(go())


def test_consent_dialog_by_tab_and_enter_only(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            asking = asyncio.create_task(app.consent(request()))
            await wait_for(lambda: isinstance(app.screen, ConsentScreen), pilot=pilot)
            # Enter on the diff answers nothing; Tab reaches the buttons in order.
            await pilot.press("enter")
            assert not asking.done()
            await pilot.press("tab", "tab")
            assert app.focused.id == "consent-no"
            await pilot.press("enter")
            assert await asyncio.wait_for(asking, 5) == "no"

    asyncio.run(go())
