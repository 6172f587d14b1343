"""The app's compare view: the last question asked again with models picked from the
configured providers and one typed in, the answers side by side with their timings, their
waterfalls on one time axis, and the comparison stored apart from the conversation."""

from __future__ import annotations

import asyncio

from textual.widgets import Input, Label, SelectionList, Static

from coda_tui.ui.screens.compare import CompareScreen
from coda_tui.ui.widgets.compare_waterfall import STREAMING, CompareWaterfall, rows
from tests.servers import Action, OpenAIServer
from tests.ui.conftest import wait_for
from tests.ui.test_app import ask


def test_compare_the_last_question_side_by_side(harness, project):
    with OpenAIServer([Action(chunks=["other ", "answers ", "[bold]4[/bold]"], usage=(50, 3))]) as other:
        h = harness([Action(chunks=["srv says 4"], usage=(40, 3))],
                    extra=f'[providers.other]\ntype = "openai"\nbase_url = "{other.url}/v1"\nmodel = "other-model"\n'
                          f'max_retries = 0\n')

        async def go():
            app = h.app(project)
            async with app.run_test(size=(180, 50)) as pilot:
                await pilot.press("alt+shift+m")  # nothing asked yet
                await pilot.pause()
                assert not isinstance(app.screen, CompareScreen)
                await ask(pilot, "what is 2+2?")
                session_id = app.session.id
                before = [m.id for m in app.rt.store.sessions.messages(session_id)]
                await pilot.press("alt+shift+m")
                await wait_for(lambda: isinstance(app.screen, CompareScreen), pilot=pilot)
                screen = app.screen
                picks = screen.query_one(SelectionList)
                assert picks.selected == ["srv:fake-model"]  # the model in use, picked already
                # One picked from the list, one typed.
                picks.select("other:other-model")
                screen.query_one(Input).focus()
                await pilot.press(*"other:typed-model", "enter")
                assert picks.selected == ["srv:fake-model", "other:other-model", "other:typed-model"]
                await pilot.click("#compare-start")
                await wait_for(lambda: screen.comparison is not None, pilot=pilot)
                await pilot.pause(0.2)
                answers = [str(screen.query_one(f"#compare-answer-{i}", Static).render()) for i in range(3)]
                assert answers == ["srv says 4", "other answers [bold]4[/bold]", "other answers [bold]4[/bold]"]
                timing = str(screen.query_one("#compare-timing-1", Label).render())
                assert timing.startswith("first token ms ") and "tokens 3" in timing and timing.endswith("complete")
                # The waterfalls: a row per model, each with its streaming on the shared axis.
                waterfall = screen.query_one(CompareWaterfall)
                total, bars = rows(waterfall.answers)
                assert [label for label, _ in bars] == ["srv:fake-model", "other:other-model", "other:typed-model"]
                assert all(STREAMING in bar for _, bar in bars)
                assert all(a.offset_ms + a.trace.total_ms <= total + 1 for a in waterfall.answers)
                shown = str(waterfall.render())
                assert "other:typed-model" in shown and f"{total:,.0f} ms" in shown
                # Asked with the same messages, no tools offered.
                asked = other.chat_requests()
                assert [r["body"]["model"] for r in asked] == ["other-model", "typed-model"]
                assert asked[0]["body"]["messages"] == asked[1]["body"]["messages"]
                assert asked[0]["body"]["messages"][-1]["content"].endswith("what is 2+2?")
                assert all("tools" not in r["body"] for r in asked)
                # Stored as a comparison of its own; the conversation itself is as it was.
                (stored,) = app.rt.store.comparisons.list()
                assert [a.model for a in stored.answers] == ["fake-model", "other-model", "typed-model"]
                assert stored.session_id != session_id
                assert [m.id for m in app.rt.store.sessions.messages(session_id)] == before
                await pilot.press("escape")
                assert not isinstance(app.screen, CompareScreen)

        asyncio.run(go())
