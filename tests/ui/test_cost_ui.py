"""The status bar shows the session's running cost: added to after every turn, and read
back from the stored traces when the session is opened again."""

from __future__ import annotations

import asyncio

from coda_tui.ui.widgets.status import StatusBar
from tests.servers import Action
from tests.ui.conftest import wait_for
from tests.ui.test_app import ask

# USD per million tokens set by the user: the server's usage of 100,000 in and 10,000 out
# then costs 0.1 x 2 + 0.01 x 10 = $0.30 a turn.
PRICES = "price_in = 2.0\nprice_out = 10.0\n"


def test_running_cost_in_the_status_bar(harness, project):
    h = harness([Action(chunks=["An answer."], usage=(100_000, 10_000))], provider_extra=PRICES)

    async def first():
        app = h.app(project)
        async with app.run_test(size=(160, 40)) as pilot:
            status = app.query_one(StatusBar)
            await pilot.pause()
            assert status.cost == ""  # nothing spent yet
            await ask(pilot, "one")
            assert status.cost == "$0.3000"
            await ask(pilot, "two")
            assert status.cost == "$0.6000"
            assert "· $0.6000" in str(status.render())
            return app.session.id

    session_id = asyncio.run(first())

    async def reopened():
        app = h.app(project, session_ref=str(session_id))
        async with app.run_test(size=(160, 40)) as pilot:
            status = app.query_one(StatusBar)
            await wait_for(lambda: status.session != "", pilot=pilot)
            assert status.cost == "$0.6000"

    asyncio.run(reopened())
