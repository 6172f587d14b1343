"""The model statistics view: opened from the command palette, it shows the figures
`coda stats` computes for the answers given so far, and its span key narrows them."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Label

from coda_tui.core.model_stats import COLUMNS, stats_of, table_rows
from coda_tui.ui.screens.stats import StatsScreen
from tests.servers import Action
from tests.ui.conftest import wait_for
from tests.ui.test_app import ask


def test_palette_opens_the_statistics_of_the_answers_so_far(harness, project):
    h = harness([Action(chunks=["An answer."], usage=(1000, 20))], provider_extra="price_in = 2.0\nprice_out = 10.0\n")

    async def go():
        app = h.app(project)
        async with app.run_test(size=(160, 40)) as pilot:
            await ask(pilot, "one")
            await ask(pilot, "two")
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"model statistics")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_for(lambda: isinstance(app.screen, StatsScreen), pilot=pilot)
            table = app.screen.query_one(DataTable)
            assert [str(c.label) for c in table.columns.values()] == [h for h, _ in COLUMNS]
            (row,) = [table.get_row_at(i) for i in range(table.row_count)]
            assert row == table_rows(stats_of(app.rt.store))[0]
            cells = dict(zip((h for h, _ in COLUMNS), row))
            # Two answers at 1,000 in and 20 out, at $2 and $10 a million: $0.002 + $0.0002 each.
            assert cells["answers"] == "2" and cells["failed"] == "0%" and cells["tokens in/out"] == "2,000/40"
            assert cells["cost"] == "$0.0044" and cells["rated up"] == "-"
            title = str(app.screen.query_one("#stats-title", Label).render())
            assert "all time: 1 models, 2 answers" in title
            # Narrowed to a span after the answers were moved back a month: none left.
            app.rt.store.db.conn.execute("UPDATE traces SET started_at = '2020-01-01T00:00:00.000+00:00'")
            app.rt.store.db.conn.commit()
            await pilot.press("s")
            assert table.row_count == 0
            assert "last 7 days: 0 models" in str(app.screen.query_one("#stats-title", Label).render())
            await pilot.press("escape")
            assert not isinstance(app.screen, StatsScreen)

    asyncio.run(go())
