"""Rating an answer from the chat: a key on the selected answer, then an optional reason."""

from __future__ import annotations

import asyncio

from coda_tui.ui.screens.dialogs import Ask
from coda_tui.ui.widgets.messages import MessageList
from tests.ui.conftest import wait_for
from tests.ui.test_app import ask


def test_a_key_in_the_chat_rates_the_selected_answer(harness, project):
    h = harness()

    async def go():
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "hello")
            conversation = app.query_one(MessageList)
            conversation.focus()
            await pilot.press("up")  # selects the last message: the answer
            view = conversation.selected_view()
            assert view.role == "assistant" and view.message_id
            await pilot.press("plus")
            await wait_for(lambda: isinstance(app.screen, Ask), pilot=pilot)
            for key in "clear code":
                await pilot.press("space" if key == " " else key)
            await pilot.press("enter")
            await wait_for(lambda: view.rating == 1, pilot=pilot)
            assert "rated up: clear code" in str(view.query_one(".msg-meta").render())
            await pilot.press("minus")
            await wait_for(lambda: isinstance(app.screen, Ask), pilot=pilot)
            await pilot.press("escape")  # Esc: the rating stays as it was
            await pilot.pause(0.1)
            assert view.rating == 1
            await pilot.press("up")  # the question cannot be rated
            await pilot.press("minus")
            await pilot.pause(0.1)
            assert not isinstance(app.screen, Ask)
            return view.message_id

    message_id = asyncio.run(go())
    stored = h.runtime().store.sessions.message(message_id)
    assert (stored.rating, stored.rating_reason) == (1, "clear code")
