"""A long session stays the same size: what each turn draws is let go once it is off the
screen. Counted in objects, not bytes or seconds: the live Strips (every rendered line, and
what the caches derived from it) and the styles caches of widgets no longer mounted."""

from __future__ import annotations

import asyncio
import gc

from textual._styles_cache import StylesCache
from textual.strip import Strip
from textual.widgets import DataTable

from coda_tui.ui.widgets import messages, pipeline
from tests.ui.test_long_conversation import ask

TURNS = 40


def _live(kind: type) -> list:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, kind)]


def _orphan_styles_caches(app) -> int:
    """Styles caches alive without a mounted widget (removed messages' and blocks')."""
    mounted = {id(w._styles_cache) for screen in app.screen_stack for w in screen.walk_children(with_self=True)}
    return sum(1 for c in _live(StylesCache) if id(c) not in mounted)


def test_turns_after_the_first_ones_do_not_add_to_what_is_kept(harness, project, monkeypatch):
    asyncio.run(_turns_do_not_add(harness, project, monkeypatch))


async def _turns_do_not_add(harness, project, monkeypatch):
    # A small window and history, so both fill within a few turns and then only turn over.
    monkeypatch.setattr(messages, "WINDOW", 4)
    monkeypatch.setattr(messages, "KEEP_MOUNTED", 6)
    monkeypatch.setattr(pipeline, "HISTORY", 5)
    app = harness().app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        for i in range(10):
            await ask(app, pilot, f"question {i}")
        await pilot.pause(0.2)
        strips_early = len(_live(Strip))
        for i in range(10, TURNS):
            await ask(app, pilot, f"question {i}")
        await pilot.pause(0.2)
        strips_late = len(_live(Strip))
        orphans = _orphan_styles_caches(app)
        table = app.query_one("#pipeline-history", DataTable)
        rows = [table.get_row_at(r)[0] for r in range(table.row_count)]
    # Before: ~300 more Strips a turn (dead widgets' render caches, the history table's
    # caches keyed by a change count) and one orphan styles cache per widget removed.
    assert strips_late <= strips_early * 1.25, (strips_early, strips_late)
    assert orphans <= 100, orphans
    assert len(rows) == 5 and rows == sorted(rows, key=int, reverse=True)
