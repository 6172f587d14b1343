"""The context and code panes with Pilot: filter, search, attach and detach, select lines
and ask about them, live reload from disk."""

from __future__ import annotations

import asyncio
import unicodedata

from textual import events
from textual.keys import _get_unicode_name_from_key

from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.code import CodeView
from coda_tui.ui.widgets.context import AttachmentList, BudgetBar, ContextPane, ResultList
from tests.ui.conftest import wait_for
from tests.ui.test_app import ask


def run(coro):
    return asyncio.run(coro)


async def indexed(app, pilot) -> None:
    await wait_for(lambda: app.rt.index.file_count() >= 2, pilot=pilot)


def burst(app, *keys: str) -> None:
    """Keys as a terminal delivers a burst (tmux send-keys, a fast typist, a paste of keys):
    all queued at once. Pilot's press waits for the app to go idle after each key."""
    for key in keys:
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(key))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


def test_a_burst_of_keys_in_the_filter_loses_none(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await indexed(app, pilot)
            await pilot.press("alt+3", *"corepy")
            box = app.query_one("#context-filter")
            burst(app, *["backspace"] * 7, *"/make_context")
            await wait_for(lambda: box.value == "/make_context", pilot=pilot)
            burst(app, *["backspace"] * 13, *"termui", *["backspace"] * 6, *"calc", "left", "left", "x")
            await wait_for(lambda: box.value == "caxlc", pilot=pilot)
            await pilot.pause(0.3)
            assert box.value == "caxlc" and app.focused is box

    run(go())


def test_filter_keys_down_up_enter_stay_in_the_box(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await indexed(app, pilot)
            await pilot.press("alt+3", *"r")
            box, results = app.query_one("#context-filter"), app.query_one(ResultList)
            await wait_for(lambda: len(results.results) >= 2, pilot=pilot)
            second = results.results[1].path
            await pilot.press("down")  # the highlight moves; the box keeps the keys
            assert results.highlighted == 1 and app.focused is box
            await pilot.press("up", "down", "a")  # `a` is typed, never an attach
            assert box.value == "ra" and app.attachments == [] and app.focused is box
            await pilot.press("backspace")
            await pilot.pause(0.3)  # a late search for "r" must not move the highlight back
            assert results.query_text == "r" and results.highlighted == 1
            await pilot.press("enter")  # opens the highlighted result at once
            await wait_for(lambda: app.query_one(CodeView).path is not None, pilot=pilot)
            assert app.query_one(CodeView).path == project / second
            # Enter right after typing, before the pause that starts the search: the result
            # for what the box holds, not for what it held before.
            await pilot.press("alt+3")
            box.value = ""
            burst(app, *"calc", "enter")
            await wait_for(lambda: box.value == "calc", pilot=pilot)
            await wait_for(lambda: app.query_one(CodeView).path == project / "src" / "calc.py", pilot=pilot)
            # Tab steps into the results, where `a` attaches.
            await pilot.press("alt+3", "tab")
            assert app.focused is results
            await pilot.press("a")
            assert [a.label for a in app.attachments] == ["src/calc.py:1-17"]

    run(go())


def test_filter_as_you_type_opens_and_attaches_files(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await indexed(app, pilot)
            await pilot.press("alt+3")
            assert app.focused.id == "context-filter"
            await pilot.press(*"calc")
            pane = app.query_one(ContextPane)
            results = app.query_one(ResultList)
            await wait_for(lambda: results.results, pilot=pilot)
            assert pane.has_class("-filtering") and [r.path for r in results.results] == ["src/calc.py"]
            await pilot.press("enter")  # open
            await pilot.pause(0.2)
            assert app.query_one(CodeView).path.name == "calc.py"
            results.focus()
            await pilot.press("a")
            assert [a.label for a in app.attachments] == ["src/calc.py:1-17"]
            assert "tok of 8,192" in str(app.query_one(BudgetBar).render())
            app.query_one(AttachmentList).focus()
            await pilot.press("delete")
            assert app.attachments == []

    run(go())


def test_code_search_results_attach_their_line_range(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await indexed(app, pilot)
            await pilot.press("alt+3", *"/sub")
            results = app.query_one(ResultList)
            await wait_for(lambda: results.results, pilot=pilot)
            assert (results.results[0].path, results.results[0].first) == ("src/calc.py", 16)
            results.focus()
            await pilot.press("a")
            assert [a.label for a in app.attachments] == ["src/calc.py:16-17"]
            await ask(pilot, "what does this do?")
            sent = h.server.chat_requests()[0]["body"]["messages"][-1]["content"]
            assert "src/calc.py:16-17" in sent and "return a - b" in sent and "return a + b" not in sent

    run(go())


def test_select_lines_in_the_code_pane_and_ask_about_them(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            app.show_file(project / "src" / "calc.py")
            await pilot.press("alt+2")
            view = app.query_one(CodeView)
            await pilot.press("down", "shift+down")  # lines 2-3
            assert view.selection == (2, 3)
            await pilot.press("a")
            assert isinstance(app.focused, ChatInput)
            assert [a.label for a in app.attachments] == ["src/calc.py:2-3"]
            await ask(pilot, "why?")
            sent = h.server.chat_requests()[0]["body"]["messages"][-1]["content"]
            assert "File src/calc.py:2-3:" in sent and "    return a + b" in sent and "def add" not in sent
            trace = app.rt.store.traces.recent(1)[0]
            assert trace.stages[0].detail["files"][0] == {"path": "src/calc.py", "lines": "2-3", "tokens": trace.stages[0].detail["files"][0]["tokens"], "source": "attached"}

    run(go())


def test_go_to_line(harness, project):
    async def go():
        big = project / "src" / "big.py"
        big.write_text("".join(f"value_{i} = {i}\n" for i in range(2000)))
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            app.show_file(big)
            await pilot.press("alt+2", "alt+g")
            app.screen.query_one("Input").value = "1500"
            await pilot.press("enter")
            await pilot.pause(0.1)
            view = app.query_one(CodeView)
            assert view.cursor == 1499 and view.scroll_offset.y <= 1499 < view.scroll_offset.y + view.size.height

    run(go())


def test_file_changed_on_disk_reloads_keeping_the_scroll_position(harness, project):
    async def go():
        path = project / "src" / "long.py"
        path.write_text("".join(f"line_{i} = {i}\n" for i in range(500)))
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await indexed(app, pilot)
            app.show_file(path)
            view = app.query_one(CodeView)
            await pilot.pause(0.1)
            view.scroll_to(y=300, animate=False)
            await pilot.pause(0.3)  # the watcher is running
            path.write_text(path.read_text().replace("line_310 = 310", "line_310 = 'changed'"))
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            await wait_for(lambda: "line_310 = 'changed'" in view.lines, timeout=5, pilot=pilot)
            assert loop.time() - t0 < 1.0
            assert view.scroll_offset.y == 300
            # The index followed the edit too.
            await wait_for(lambda: any(h.path == "src/long.py" for h in app.rt.index.search("changed")), timeout=5, pilot=pilot)

    run(go())


def test_denied_file_cannot_be_attached_from_the_app(harness, project):
    async def go():
        (project / ".env").write_text("TOKEN=hunter2-very-secret\n")
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            assert app.attach(project / ".env") is False
            assert app.attachments == []
            await pilot.pause()

    run(go())


def test_search_hits_join_the_question_when_enabled(harness, project):
    async def go():
        h = harness(search_hits=2)
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await indexed(app, pilot)
            await ask(pilot, "how does sub work?")
            sent = h.server.chat_requests()[0]["body"]["messages"][-1]["content"]
            assert "Possibly relevant code from the project, src/calc.py:16-17" in sent

    run(go())


def test_a_document_attached_in_the_app_is_converted_off_the_event_loop_and_reaches_the_model(harness, project):
    from tests.documents_made import write_docx, write_pdf
    from tests.ui.test_operations_ui import finished, type_and_send

    write_docx(project / "notes.docx", "Release notes", ["The frobnicator ships on Tuesday."])
    write_pdf(project / "locked.pdf", ["secret"], encrypted=True)

    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            app.attach(project / "locked.pdf")
            await wait_for(lambda: any("encrypted" in n.message for n in app._notifications), pilot=pilot)
            assert app.attachments == []
            app.attach(project / "notes.docx")
            await wait_for(lambda: bool(app.attachments), pilot=pilot)
            assert app.attachments[0].document is not None
            await type_and_send(pilot, "When does it ship?")
            await finished(pilot)
            question = h.server.chat_requests()[-1]["body"]["messages"][-1]["content"]
            assert "# Release notes" in question and "ships on Tuesday" in question
            trace = app.rt.store.traces.recent(1)[0]
            stage = next(s for s in trace.stages if s.name == "convert")
            # Converted when attached; the turn found the same bytes and kept that conversion.
            assert stage.detail["documents"][0]["when"] == "attached" and "notes.docx" in stage.summary

    asyncio.run(go())
