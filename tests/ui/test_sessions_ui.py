"""The sessions view goes through core (core/sessions.py): what it changes, and what the
app does when the session it has open is the one deleted."""

from __future__ import annotations

import asyncio

from textual.coordinate import Coordinate
from textual.widgets import DataTable

from coda_tui.ui.screens.sessions import SessionsScreen
from coda_tui.ui.widgets.messages import MessageList
from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.status import StatusBar
from tests.servers import Action
from tests.ui.test_app import ask


def test_deleting_the_open_session_leaves_a_fresh_one_and_the_next_question_works(harness, project):
    async def go():
        h = harness([Action(chunks=["first answer"]), Action(chunks=["second answer"])])
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "soon gone")
            gone = app.session.id
            await pilot.press("f5")
            assert isinstance(app.screen, SessionsScreen)
            await pilot.press("ctrl+d")
            await pilot.press("y")
            await pilot.pause()
            assert app.screen.sessions == []
            await pilot.press("escape")
            await pilot.pause()
            assert app.rt.store.sessions.get(gone) is None
            assert app.session is None and app.query_one(MessageList).views == []
            assert app.query_one(StatusBar).session == ""
            # The new turn's trace takes the deleted one's id: its row in the history is replaced.
            await ask(pilot, "after it")
            assert app.session is not None and app.session.name == "after it"  # (it may reuse the id)
            assert [m.content for m in app.rt.store.sessions.messages(app.session.id)] == ["after it", "second answer"]
            assert [v.status for v in app.query_one(MessageList).views] == ["complete", "complete"]
            history = app.query_one(PipelinePane).query_one(DataTable)
            assert history.row_count == 1 and history.get_cell_at(Coordinate(0, history.get_column_index("status"))) == "complete"

    asyncio.run(go())


def test_a_session_deleted_elsewhere_is_said_when_renamed_here(harness, project):
    async def go():
        app = harness([Action(chunks=["an answer"])]).app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "rename me")
            sid = app.session.id
            await pilot.press("f5")
            screen = app.screen
            app.rt.store.sessions.delete(sid)  # `coda sessions delete` in another terminal
            await pilot.press("f2")
            await pilot.pause()
            app.screen.query_one("Input").value = "new name"
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is screen and screen.sessions == []
            assert any(f"no session {sid}" in n.message for n in app._notifications)

    asyncio.run(go())
