"""The stylesheet work of the main screen's first showing: each widget is styled as it is
mounted and not restyled again for nothing (timings belong in benchmarks/tui_startup.py;
this checks the causes, and that the result is what Textual's own path gives)."""

from __future__ import annotations

import asyncio

from textual.css.stylesheet import Stylesheet
from textual.widgets import Footer

from tests.ui.conftest import wait_for


def test_the_first_showing_restyles_neither_the_screen_nor_the_footer_keys(harness, project, monkeypatch):
    restyled: list = []
    update_nodes = Stylesheet.update_nodes

    def counted(self, nodes, animate=False):
        nodes = list(nodes)
        restyled.extend(nodes)
        return update_nodes(self, nodes, animate)

    monkeypatch.setattr(Stylesheet, "update_nodes", counted)

    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            footer = app.screen.query_one(Footer)
            await wait_for(lambda: len(footer.children) > 5, pilot=pilot)
            await pilot.pause()
            keys = list(footer.children)
            # As Textual's keys end: those bound to the footer's compact value (False) without
            # the class, the command palette's key (bound to nothing) compact.
            palette = [k for k in keys if k.has_class("-command-palette")]
            assert len(palette) == 1 and palette[0].compact and palette[0].has_class("-compact")
            assert all(not k.compact and not k.has_class("-compact") for k in keys if k not in palette)
            # Before: the screen's first resume restyled all of it (29 widgets), and each bound
            # key was restyled twice (compact, then not); the palette's key takes its class once.
            assert app.screen not in restyled
            assert [k for k in keys if k in restyled] == palette

    asyncio.run(go())
