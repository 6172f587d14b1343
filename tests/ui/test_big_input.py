"""Big and odd input in the app: a megabyte pasted, a megabyte answered (streamed and
stored), a 10,000-line code block, a file with a 100,000-character line, an empty answer.
The app shows the beginning of what is too long to lay out at once, says how much more
there is, and keeps all of it. (Frame times: benchmarks/tui_big_scroll.py.)"""

from __future__ import annotations

import asyncio

from textual import events
from textual.widgets import Markdown

from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.code import CodePane
from coda_tui.ui.widgets.messages import SHOW_CHARS, MessageList, preview
from tests.servers import Action
from tests.ui.conftest import wait_for
from tests.ui.test_app import ask
from tests.ui.test_hostile_output import screen_text

PROSE = "".join(f"Paragraph {i}: some words about the code, and more words.\n\n" for i in range(20_000))
CODE = "```python\n" + "".join(f"value_{i} = compute({i})\n" for i in range(10_000)) + "```\n"

# A model with room for a megabyte each way: coda refuses a question larger than the window.
BIG_MODEL = "max_tokens = 1000000\ncontext_window = 2000000\n"


def test_a_stored_megabyte_answer_opens_showing_its_beginning(harness, project):
    h = harness()
    rt = h.runtime(project)
    s = rt.store.sessions.create("big")
    rt.store.sessions.add_message(s.id, "user", "everything please")
    rt.store.sessions.add_message(s.id, "assistant", PROSE + CODE)
    rt.store.close()

    async def go():
        from coda_tui.ui.app import CodaApp

        app = CodaApp(h.runtime(project), project=project, session_ref="big")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.2)
            view = app.query_one(MessageList).views[-1]
            assert view.text == PROSE + CODE  # all of it is kept for copy and export
            assert f"of {len(PROSE + CODE):,} characters" in str(view.query_one(".msg-meta").render())
            body = view.query_one(".msg-body").content.markup  # the Rich Markdown drawn
            assert len(body) <= SHOW_CHARS + 10 and body.startswith("Paragraph 0:")

    asyncio.run(go())


def test_a_streamed_megabyte_answer_is_kept_whole(harness, project):
    async def go():
        chunks = [PROSE[i:i + 20_000] for i in range(0, len(PROSE), 20_000)]
        # A megabyte is a fair answer for a model allowed that many tokens (else the answer
        # ceiling, 4 x max_tokens, stops it as partial: tested in tests/providers/test_limits.py).
        h = harness([Action(chunks=[*chunks, CODE])], provider_extra=BIG_MODEL)
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "everything please")
            view = app.query_one(MessageList).views[-1]
            assert view.status == "complete" and view.text == PROSE + CODE
            shown = sum(len(m.source) for m in view.query(Markdown))
            assert shown <= SHOW_CHARS
            assert "c copies all" in str(view.query_one(".msg-meta").render())
            assert app.rt.store.sessions.messages(app.session.id)[-1].content == PROSE + CODE
            code = app.query_one(CodePane).view  # the answer's code block, whole, in the code pane
            assert len(code.lines) == 10_000 and code.lines[-1] == "value_9999 = compute(9999)"

    asyncio.run(go())


def test_a_megabyte_pasted_into_the_input(harness, project):
    async def go():
        h = harness([Action(chunks=["read it"])], provider_extra=BIG_MODEL)  # a window a megabyte fits
        app = h.app(project)
        pasted = "".join(f"log line {i}: something happened\n" for i in range(35_000))
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, pasted)
            views = app.query_one(MessageList).views
            assert views[-1].text == "read it" and views[-2].text.strip() == pasted.strip()
            sent = h.server.chat_requests()[0]["body"]["messages"][-1]["content"]
            assert sent.strip() == pasted.strip()
            assert "showing" in str(views[-2].query_one(".msg-meta").render())

    asyncio.run(go())


def test_a_file_with_a_100000_character_line(harness, project):
    long_line = "x = '" + "ab" * 50_000 + "'"
    (project / "wide.py").write_text(f"first = 1\n{long_line}\nlast = 2\n")

    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            app.show_file(project / "wide.py")
            await wait_for(lambda: app.query_one(CodePane).view.path is not None, pilot=pilot)
            await pilot.pause(0.2)
            view = app.query_one(CodePane).view
            assert view.lines == ["first = 1", long_line, "last = 2"]
            assert "first = 1" in screen_text(app) and "last = 2" in screen_text(app)
            view.focus()
            await pilot.press("down", "end")
            assert view.cursor == 2

    asyncio.run(go())


def test_an_empty_answer_says_so(harness, project):
    async def go():
        app = harness([Action(chunks=[])]).app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "anything?")
            view = app.query_one(MessageList).views[-1]
            assert view.text == "" and "empty answer" in str(view.query_one(".msg-meta").render())

    asyncio.run(go())


def test_preview_closes_a_code_fence_it_cuts():
    text = "intro\n\n```python\n" + "x = 1\n" * 10_000 + "```\n"
    head = preview(text)
    assert len(head) <= SHOW_CHARS + 5 and head.endswith("\n```\n") and head.count("```") == 2
    assert preview("short") == "short"


def test_a_pasted_megabyte_is_one_line_in_the_input_and_sent_whole(harness, project):
    """A terminal's bracketed paste (its line ends as \r) of a megabyte: the input shows one
    label line, typing goes on after it, and the question sent and stored holds all of it."""
    lines = [f"log line {i}: something happened in module m{i % 97}" for i in range(20_000)]
    pasted = "\n".join(lines)

    async def go():
        h = harness([Action(chunks=["read it"]), Action(chunks=["again"])], provider_extra=BIG_MODEL)
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            box = app.query_one(ChatInput)
            box.focus()
            await pilot.press(*"see:", "space")
            app.post_message(events.Paste("\r".join(lines)))  # as the terminal driver posts it
            await pilot.press("space", *"why?")
            label = f"[pasted #1 · {len(pasted):,} chars · 20,000 lines]"
            assert box.text == f"see: {label} why?"
            assert box.document.line_count == 1
            await pilot.press("enter")
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            question = f"see: {pasted} why?"
            assert h.server.chat_requests()[0]["body"]["messages"][-1]["content"] == question
            assert [m.content for m in app.rt.store.sessions.messages(app.session.id) if m.role == "user"] == [question]
            assert box.text == ""
            # The history brings the label back, and sending it again sends the whole text again.
            await pilot.press("ctrl+up")
            assert box.text == f"see: {label} why?"
            await pilot.press("enter")
            await wait_for(lambda: len(h.server.chat_requests()) == 2 and not app.turn_running, pilot=pilot)
            assert h.server.chat_requests()[1]["body"]["messages"][-1]["content"] == question

    asyncio.run(go())


def test_backspace_takes_a_paste_label_whole_and_a_short_paste_stays_editable(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            box = app.query_one(ChatInput)
            box.focus()
            app.post_message(events.Paste("x = 1\n" * 5_000))
            await pilot.pause()
            assert box.text.startswith("[pasted #1 · 30,000 chars") and box.pastes
            await pilot.press("backspace")
            assert box.text == "" and box.message == ""
            app.post_message(events.Paste("def f():\n    return 1\n"))
            await pilot.pause()
            assert box.text == "def f():\n    return 1\n" and box.message == box.text

    asyncio.run(go())
