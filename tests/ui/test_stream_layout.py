"""What keeps a streaming answer's updates cheap leaves what is drawn unchanged: documents
folded far above the view, heights remembered by finished documents, full garbage
collections put off while an answer streams."""

from __future__ import annotations

import asyncio
import gc

from coda_tui.ui.widgets import messages
from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.messages import MessageList, _Fold
from tests.servers import Action
from tests.ui.conftest import wait_for


def run(coro):
    return asyncio.run(coro)


def long_answer() -> list[str]:
    paragraphs = [f"Paragraph {i} " + "word " * 50 + "\n\n" for i in range(24)]
    code = "```python\n" + "".join(f"x_{i} = {i}\n" for i in range(12)) + "```\n\n- one\n- two\n\n"
    return [c for p in paragraphs[:12] + [code] + paragraphs[12:] for c in (p[: len(p) // 2], p[len(p) // 2 :])]


async def stream(pilot, text: str) -> None:
    app = pilot.app
    app.query_one(ChatInput).focus()
    app.query_one(ChatInput).load_text(text)
    await pilot.press("enter")
    await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
    await pilot.pause(0.2)


def document_extent(document) -> int:
    """The lines a Markdown document's blocks take, margins included."""
    blocks = [b for b in document.children if b.display]
    return max(b.region.bottom + b.styles.margin.bottom for b in blocks) - document.region.y


def test_documents_far_above_fold_and_unfold_when_scrolled_to_unchanged(harness, project):
    async def go():
        chunks = long_answer()
        app = harness([Action(chunks=chunks, delay=0.01)]).app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await stream(pilot, "long please")
            chat = app.query_one(MessageList)
            view = chat.views[-1]
            folds = list(chat.query(_Fold))
            assert folds, "the answer's first documents are far above the view"
            for fold in folds:
                assert not fold.document.display and fold.region.height == fold.document.outer_size.height
            height = chat.virtual_size.height
            chat.scroll_home(animate=False)
            await pilot.pause(0.2)
            assert not chat.query(_Fold) and all(d.display for d in view.query(messages._markdown_widget()))
            assert chat.virtual_size.height == height  # nothing moved
            # The whole answer is there, as the same text drawn at once would be.
            assert "".join(d.source for d in view.query(messages._markdown_widget())) == "".join(chunks)

    run(go())


def test_a_finished_document_is_measured_again_at_a_new_width(harness, project):
    async def go():
        app = harness([Action(chunks=long_answer(), delay=0.01)]).app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await stream(pilot, "long please")
            chat = app.query_one(MessageList)
            chat.scroll_home(animate=False)
            await pilot.pause(0.2)
            documents = list(chat.views[-1].query(messages._markdown_widget()))
            assert all(d.written for d in documents)
            width, before = chat.content_region.width, sum(d.outer_size.height for d in documents)
            await pilot.resize_terminal(200, 40)
            await pilot.pause(0.3)
            assert chat.content_region.width > width
            assert sum(d.outer_size.height for d in documents) < before  # wider: fewer lines wrapped
            for d in documents:
                if d.children:
                    assert d.outer_size.height == document_extent(d)

    run(go())


def test_full_collections_wait_while_an_answer_streams(harness, project, monkeypatch):
    monkeypatch.setattr(messages, "KEY_QUIET", 0.05)
    threshold = gc.get_threshold()
    # What the collector was told while the answer streamed, seen from inside the app (a
    # poll from the test can miss a stream that a busy or quiet machine runs between polls).
    during: list[int] = []
    defer = messages._defer_full_gc

    def deferring() -> None:
        defer()
        during.append(gc.get_threshold()[2])

    monkeypatch.setattr(messages, "_defer_full_gc", deferring)

    async def go():
        app = harness([Action(chunks=long_answer(), delay=0.02)]).app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one(ChatInput).focus()
            app.query_one(ChatInput).load_text("long please")
            await pilot.press("enter")
            await wait_for(lambda: bool(during) and not app.turn_running and app._turn_view is None, timeout=30, pilot=pilot)
            assert during == [messages.GC_DEFERRED]
            await wait_for(lambda: gc.get_threshold() == threshold, timeout=30, pilot=pilot)

    try:
        run(go())
    finally:
        gc.set_threshold(*threshold)
