"""The app with the real tool loop (core.turn), the real built-in tools and the real store:
the model's side is scripted (a provider that answers each request with the next reply of
a script: tool calls or text), so what the model asks for is certain and the rest is real."""

from __future__ import annotations

import asyncio
import json

from coda_tui.providers.base import Provider, ToolCall, Usage
from coda_tui.ui.screens.consent import ConsentScreen
from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.messages import MessageList, MessageView
from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.tool_calls import ToolCallView
from tests.ui.conftest import wait_for
from tests.ui.test_hostile_output import screen_text


class ScriptedTools(Provider):
    """Each request gets the next reply: a list of text chunks and ToolCalls."""

    def __init__(self, config, replies: list[list]) -> None:
        super().__init__(config)
        self.replies = replies
        self.requests: list[tuple[list, list | None]] = []

    async def stream(self, messages, *, model=None, max_tokens=None, temperature=None, on_retry=None, tools=None, **_):
        self.requests.append((list(messages), tools))
        for item in self.replies.pop(0) if self.replies else ["(the script ran out)"]:
            await asyncio.sleep(0)
            yield item
        yield Usage(20, 5)

    async def _stream_once(self, messages, model, max_tokens, temperature):  # stream() is the whole of it
        raise NotImplementedError
        yield

    async def list_models(self) -> list[str]:
        return ["fake-model"]


def edit(call_id: str = "c1") -> ToolCall:
    return ToolCall(call_id, "edit_file", json.dumps({"path": "src/calc.py", "old": "a + b", "new": "b + a"}))


def scripted_app(harness, project, replies):
    app = harness().app(project)
    app.rt.providers._made["srv"] = ScriptedTools(app.rt.config.providers["srv"], replies)
    return app


async def send(pilot, text: str) -> None:
    chat = pilot.app.query_one(ChatInput)
    chat.focus()
    chat.load_text(text)
    await pilot.press("enter")


async def finished(pilot) -> None:
    app = pilot.app
    await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
    await pilot.pause(0.1)


def test_a_read_then_an_answer_inline_in_the_chat_and_on_the_waterfall(harness, project):
    async def go():
        read = ToolCall("r1", "read_file", json.dumps({"path": "src/calc.py"}))
        app = scripted_app(harness, project, [["Let me look.", read], ["`add` adds."]])
        async with app.run_test(size=(150, 45)) as pilot:
            await send(pilot, "what does add do?")
            await finished(pilot)
            view = app.query_one(ToolCallView)
            assert view.tool == "read_file" and view.status == "ok" and not view.open
            assert "path=src/calc.py" in screen_text(app)
            app.query_one(MessageList).focus()
            await pilot.press("enter")
            assert view.open and "return a + b" in str(view.query_one(".tool-body").render())
            labels = [b.label or b.name for b in app.query_one(PipelinePane).waterfall.stages]
            assert "↳ read_file" in labels and "llm 2" in labels
            # Opened again later, the session shows the call from its stored rows.
            session = app.session
            await app.open_session(None)
            await app.open_session(app.rt.store.sessions.get(session.id))
            await pilot.pause()
            stored = app.query_one(ToolCallView)
            assert stored.tool == "read_file" and stored.status == "ok" and "path=src/calc.py" in stored.arguments

    asyncio.run(go())


def test_an_edit_waits_for_consent_no_writes_nothing_yes_writes_undo_restores(harness, project):
    async def go():
        calc = project / "src" / "calc.py"
        original = calc.read_text()
        app = scripted_app(harness, project, [[edit("c1")], ["Not changed."], [edit("c2")], ["Changed."]])
        async with app.run_test(size=(150, 45)) as pilot:
            await send(pilot, "make add return b + a")
            await wait_for(lambda: isinstance(app.screen, ConsentScreen), pilot=pilot)
            assert "+    return b + a" in screen_text(app)
            await pilot.press("n")
            await finished(pilot)
            assert calc.read_text() == original
            assert app.query(ToolCallView).last().status == "denied"

            await send(pilot, "make add return b + a, please")
            await wait_for(lambda: isinstance(app.screen, ConsentScreen), pilot=pilot)
            await pilot.press("y")
            await finished(pilot)
            assert "return b + a" in calc.read_text()
            assert app.query(ToolCallView).last().status == "ok"

            await send(pilot, "/undo")
            await wait_for(lambda: calc.read_text() == original, pilot=pilot)

    asyncio.run(go())


def test_always_answers_the_rest_of_the_session(harness, project):
    async def go():
        calc = project / "src" / "calc.py"
        twice = [edit("c1"), ToolCall("c2", "edit_file", json.dumps({"path": "src/calc.py", "old": "a - b", "new": "b - a"}))]
        app = scripted_app(harness, project, [twice[:1], twice[1:], ["Both done."]])
        async with app.run_test(size=(150, 45)) as pilot:
            await send(pilot, "swap both")
            await wait_for(lambda: isinstance(app.screen, ConsentScreen), pilot=pilot)
            await pilot.press("a")
            await finished(pilot)
            # The second edit was not asked about.
            text = calc.read_text()
            assert "b + a" in text and "b - a" in text
            assert [v.status for v in app.query(ToolCallView)] == ["ok", "ok"]

    asyncio.run(go())


def test_a_slip_below_the_app_is_one_line_and_the_app_takes_the_next_question(harness, project):
    class Broken(ScriptedTools):
        async def stream(self, messages, **kwargs):
            raise RuntimeError("a bug in a provider")
            yield

    async def go():
        app = harness().app(project)
        app.rt.providers._made["srv"] = Broken(app.rt.config.providers["srv"], [])
        async with app.run_test(size=(150, 45)) as pilot:
            await send(pilot, "hello")
            await finished(pilot)
            last = app.query(MessageView).last()
            assert last.status == "error" and "RuntimeError: a bug in a provider" in (last.error or "")
            assert app.query_one(ChatInput).text == "hello"

    asyncio.run(go())


def test_a_reopened_session_pairs_each_result_with_its_own_rounds_arguments(harness, project):
    async def go():
        first = ToolCall("call_0", "read_file", json.dumps({"path": "src/calc.py"}))
        second = ToolCall("call_0", "list_files", json.dumps({"pattern": "*.md"}))
        app = scripted_app(harness, project, [[first], [second], ["Done."]])
        async with app.run_test(size=(150, 45)) as pilot:
            await send(pilot, "look around")
            await finished(pilot)
            session = app.session
            await app.open_session(None)
            await app.open_session(app.rt.store.sessions.get(session.id))
            await pilot.pause()
            stored = [(v.tool, v.arguments, v.status) for v in app.query(ToolCallView)]
            assert stored == [("read_file", "path=src/calc.py", "ok"), ("list_files", "pattern=*.md", "ok")]

    asyncio.run(go())


def test_regenerate_replaces_the_answer_and_its_tool_calls(harness, project):
    async def go():
        read = ToolCall("r1", "read_file", json.dumps({"path": "src/calc.py"}))
        app = scripted_app(harness, project, [[read], ["First."], [read], ["Second."]])
        async with app.run_test(size=(150, 45)) as pilot:
            await send(pilot, "what does add do?")
            await finished(pilot)
            await pilot.press("ctrl+r")
            views = app.query_one(MessageList)
            await wait_for(lambda: views.views[-1].text == "Second." and not app.turn_running, pilot=pilot)
            await finished(pilot)
            assert [v.role for v in views.views] == ["user", "tool", "assistant"]

    asyncio.run(go())
