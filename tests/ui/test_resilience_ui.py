"""What the app shows of the circuit breaker, the health watchdog, the fallback chain and
the response cache, driven with Pilot against loopback servers."""

from __future__ import annotations

import asyncio

from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.status import StatusBar
from tests.servers import Action, OpenAIServer, free_port
from tests.ui.conftest import wait_for
from tests.ui.test_app import ask


def test_open_circuit_shows_in_the_status_bar_and_the_pipeline_pane(harness, project):
    h = harness([Action("status", status=500, body="{}")],
                extra="[resilience]\nbreaker_failures = 1\nbreaker_cooldown_s = 60\nhealth_interval_s = 0.2\n")

    async def go():
        app = h.app(project)
        async with app.run_test(size=(160, 48)) as pilot:
            line = app.query_one(PipelinePane).providers_line
            await wait_for(lambda: "srv" in line.states, pilot=pilot)
            assert line.states["srv"].health == "ok" and "providers ● srv ok" in str(line.render())
            await ask(pilot, "hello?")
            status = app.query_one(StatusBar)
            assert status.circuit == "open" and "circuit open" in str(status.render())
            assert line.states["srv"].breaker == "open" and "srv circuit open" in str(line.render())
            await ask(pilot, "again?")  # refused at once, without reaching the server
            assert len(h.server.chat_requests()) == 1
            # The watchdog keeps polling: the server's health is fine, the circuit stays open.
            polls = len([r for r in h.server.requests if r["path"].endswith("/models")])
            await wait_for(lambda: len([r for r in h.server.requests if r["path"].endswith("/models")]) > polls, pilot=pilot)
            assert line.states["srv"].breaker == "open"

    asyncio.run(go())


def test_fallback_and_cache_hits_are_shown(harness, project):
    with OpenAIServer([Action(chunks=["from b"])]) as b:
        extra = (f'[providers.b]\ntype = "openai"\nbase_url = "{b.url}/v1"\nmodel = "fake-model"\n'
                 f'[providers.down]\ntype = "openai"\nbase_url = "http://127.0.0.1:{free_port()}/v1"\nmodel = "x"\n'
                 '[roles]\nenabled = true\n[roles.coder]\nchain = ["down", "b"]\n[cache]\nenabled = true\n')
        h = harness(extra=extra)

        async def go():
            app = h.app(project)
            async with app.run_test(size=(160, 48)) as pilot:
                await pilot.pause()
                activity = []
                app.rt.bus.subscribe(lambda e: activity.append(app.query_one(StatusBar).activity))
                await ask(pilot, "same question")
                assert any("down failed, asking b" in a for a in activity)
                assert app.query_one(PipelinePane).waterfall.title.startswith("turn")
                await pilot.press("ctrl+n")
                await ask(pilot, "same question")
                line = app.query_one(PipelinePane).providers_line
                assert (line.cache.hits, line.cache.misses) == (1, 1)
                assert "cache 1 hit · 1 miss · saved" in str(line.render())
                await wait_for(lambda: {"b", "down", "srv"} <= set(line.states), pilot=pilot)
                assert line.states["down"].health == "down" and line.states["b"].health == "ok"

        asyncio.run(go())
        assert len(b.chat_requests()) == 1
