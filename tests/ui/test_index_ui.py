"""The app in a folder it should not index on its own: it says so in the context pane, with
the key that starts it, and indexes when asked."""

from __future__ import annotations

import asyncio

from tests.ui.conftest import wait_for


def test_home_folder_is_not_indexed_until_asked(harness, project, monkeypatch):
    monkeypatch.setenv("HOME", str(project))

    async def go():
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            box = app.query_one("#context-filter")
            await wait_for(lambda: "not indexed" in box.placeholder, pilot=pilot)
            assert "press i" in box.placeholder  # the pane is narrow: the reason is a notice
            assert any("your home folder" in n.message and "press i" in n.message.lower() for n in app._notifications)
            assert not app.rt.index_path.exists() or app.rt.index.file_count() == 0
            app.query_one("#project-tree").focus()
            await pilot.press("i")
            await wait_for(lambda: app.rt.index.file_count() >= 2, pilot=pilot)
            await wait_for(lambda: box.placeholder.startswith("filter 2 files"), pilot=pilot)

    asyncio.run(go())


def test_a_small_folder_is_indexed_unasked(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            box = app.query_one("#context-filter")
            await wait_for(lambda: box.placeholder.startswith("filter 2 files"), pilot=pilot)
            assert app.rt.index.file_count() == 2

    asyncio.run(go())
