"""/remember and /forget typed in the app's chat (issue 17 item 3)."""

from __future__ import annotations

import asyncio

from coda_tui.ui.widgets.messages import MessageList
from tests.ui.test_operations_ui import finished, type_and_send


def test_remember_in_the_app_reaches_the_next_question_and_forget_lists_it(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await type_and_send(pilot, "/remember The build uses hatch")
            await pilot.pause(0.2)
            reply = app.query_one(MessageList).views[-1]
            assert reply.role == "assistant" and "remembered fact #1 (project)" in reply.text
            await type_and_send(pilot, "How do I build it?")
            await finished(pilot)
            system = h.server.chat_requests()[-1]["body"]["messages"][0]["content"]
            assert "The build uses hatch" in system
            await type_and_send(pilot, "/forget")
            await pilot.pause(0.2)
            assert "#1 (project) The build uses hatch" in app.query_one(MessageList).views[-1].text
            await type_and_send(pilot, "/forget 7")
            await pilot.pause(0.2)
            assert app.query_one(MessageList).views[-1].status == "error"
        assert [f.text for f in app.rt.store.facts.for_project(str(project.resolve()))] == ["The build uses hatch"]

    asyncio.run(go())
