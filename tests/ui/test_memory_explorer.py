"""The memory explorer (issue 17 item 2): opened from the pipeline pane's memory row and
from the command palette; steps through the session's turns; compares two marked turns."""

from __future__ import annotations

import asyncio

from coda_tui.core.memory import compare, snapshot_of
from coda_tui.ui.screens.memory import MemoryExplorer
from coda_tui.ui.widgets.pipeline import Waterfall
from tests.servers import Action
from tests.ui.test_operations_ui import finished, type_and_send

TURNS = 5


def body_text(app) -> str:
    return str(app.screen.query_one("#memory-body").render())


def headline(app) -> str:
    return str(app.screen.query_one("#memory-headline").render())


def test_explorer_from_the_memory_row_steps_turns_and_compares_two(harness, project):
    async def go():
        # A small window: the first questions leave it as the session grows.
        h = harness([Action(chunks=[f"answer {i}: " + "word " * 80]) for i in range(TURNS)],
                    provider_extra="context_window = 400\nmax_tokens = 40\n")
        app = h.app(project)
        async with app.run_test(size=(150, 48)) as pilot:
            # Text from the database reaches the screen inert: an escape sequence in a question.
            for i in range(TURNS):
                await type_and_send(pilot, f"question {i} \x1b[31mred" if i == 0 else f"question {i} about the parser")
                await finished(pilot)
            traces = app.rt.store.traces.recent(TURNS)[::-1]
            last = traces[-1]

            # The pipeline pane: history table, then the waterfall; its cursor onto the memory row.
            await pilot.press("alt+4", "tab")
            waterfall = app.query_one(Waterfall)
            assert app.focused is waterfall and waterfall.trace_id == last.id
            names = [bar.name for bar in waterfall.stages]
            for _ in range(names.index("memory")):
                await pilot.press("down")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, MemoryExplorer)
            assert f"turn {TURNS} of {TURNS}" in str(app.screen.query_one("#memory-title").render())
            assert headline(app).startswith(f"trace {last.id} ·")
            snap = snapshot_of(last)
            text = body_text(app)
            assert f"in the window: {len(snap['window'])}," in text
            assert f"left out: {snap['left_count']}," in text and snap["left_count"] > 0
            for item in snap["window"]:
                assert f"#{item['id']} {item['role']}" in text
            assert "█" in text  # token bars

            # To the first turn and back: memory evolving; the first question's text inert.
            for _ in range(TURNS - 2):
                await pilot.press("left")
            assert headline(app).startswith(f"trace {traces[1].id} ·")
            assert "␛[31mred" in body_text(app) and "\x1b" not in body_text(app)
            await pilot.press("left")
            assert headline(app).startswith(f"trace {traces[0].id} ·")
            assert "in the window: none" in body_text(app)
            await pilot.press("left")  # already the first: stays, says so
            assert headline(app).startswith(f"trace {traces[0].id} ·")

            # Mark turn 2 and the last, compare: what entered, what left, what changed.
            await pilot.press("right", "m")
            for _ in range(TURNS - 2):
                await pilot.press("right")
            await pilot.press("m", "c")
            assert headline(app).startswith(f"memory from trace {traces[1].id} to trace {last.id}")
            delta = compare(snapshot_of(traces[1]), snap)
            text = body_text(app)
            assert f"entered: {len(delta['entered'])}" in text
            assert f"left: {len(delta['left'])}" in text and delta["left"]
            for item in delta["left"]:
                assert f"#{item['id']} {item['role']}" in text and f"({item['reason']})" in text
            await pilot.press("c")  # back to the turn itself
            assert headline(app).startswith(f"trace {last.id} ·")
            await pilot.press("escape")
            assert not isinstance(app.screen, MemoryExplorer)

            # The command palette opens it too, on the turn the pipeline pane shows.
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"memory explorer")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, MemoryExplorer)
            assert headline(app).startswith(f"trace {last.id} ·")

            # Its session deleted meanwhile (coda sessions delete, elsewhere): said, not a crash.
            app.rt.sessions.delete(last.session_id)
            await pilot.press("left")
            assert "this turn is gone" in body_text(app)

    asyncio.run(go())


def test_palette_before_any_turn_says_so(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            app.open_memory()
            await pilot.pause()
            assert not isinstance(app.screen, MemoryExplorer)
            assert any("No turn yet" in n.message for n in app._notifications)

    asyncio.run(go())
