"""A conversation that goes on: only a window of its messages stays mounted, and the ones
unmounted come back, in order, when the user scrolls up to them."""

from __future__ import annotations

import asyncio

from coda_tui.ui.widgets import messages
from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.messages import MessageList
from tests.ui.conftest import wait_for


async def ask(app, pilot, text: str) -> None:
    app.query_one(ChatInput).focus()
    app.query_one(ChatInput).load_text(text)
    await pilot.press("enter")
    await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)


def test_old_turns_are_unmounted_and_scrolled_back(harness, project, monkeypatch):
    asyncio.run(_old_turns_are_unmounted_and_scrolled_back(harness, project, monkeypatch))


async def _old_turns_are_unmounted_and_scrolled_back(harness, project, monkeypatch):
    monkeypatch.setattr(messages, "WINDOW", 4)
    monkeypatch.setattr(messages, "BATCH", 4)
    monkeypatch.setattr(messages, "KEEP_MOUNTED", 6)
    app = harness().app(project)
    async with app.run_test(size=(100, 24)) as pilot:
        for i in range(7):
            await ask(app, pilot, f"question {i}")
        listing = app.query_one(MessageList)
        mounted = listing.views
        assert 3 <= len(mounted) <= 6
        assert [v.text for v in mounted if v.role == "user"][-1] == "question 6"
        assert "question 0" not in [v.text for v in mounted]
        assert listing.selected is None

        # Scrolled to the top, older messages come back from the database, a batch at a time.
        for _ in range(10):
            if any(v.text == "question 0" for v in listing.views):
                break
            listing.scroll_home(animate=False)
            await pilot.pause(0.1)
        questions = [v.text for v in listing.views if v.role == "user"]
        assert questions == [f"question {i}" for i in range(7)]
        answers = [v for v in listing.views if v.role == "assistant"]
        assert len(answers) == 7 and all(v.message_id for v in answers)


def test_an_answer_finished_while_its_flush_opens_the_stream_finishes():
    """The flush timer (in the answer's queue) opens the Markdown stream and yields once;
    finish() (in the chat pane's queue) may run right then. It stopped that stream before
    its task had run, and awaiting the cancelled task raised CancelledError in the chat
    pane's queue, which ended it: the chat went blank and took no more keys."""
    from textual.app import App

    from coda_tui.ui.widgets.messages import MessageView

    class Conversation(App):
        def compose(self):
            yield MessageList()

    async def go():
        app = Conversation()
        async with app.run_test(size=(80, 24)) as pilot:
            view = await app.query_one(MessageList).add(MessageView("assistant", "", status="partial"))
            for turn in range(3):
                view.append(f"Answer {turn}: the cache keeps recent answers.\n\n")
                # Both at once, the flush first: as the timer and the pane's finish() met.
                await asyncio.gather(view._flush(), view.finish("complete", "meta"))
                view._streaming = True
            await pilot.pause()
            assert "the cache keeps recent answers" in view.text
            assert view.status == "complete"

    asyncio.run(go())
