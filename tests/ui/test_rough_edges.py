"""Issue 12 item 12 in the app: the rough edges a new user met, each driven with Pilot."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Input

from coda_tui.store.traces import StageRecord, TraceRecord
from coda_tui.ui.screens.models import ModelPicker
from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.messages import MessageList
from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.status import StatusBar
from tests.conftest import write_config
from tests.servers import Action
from tests.ui.conftest import wait_for


def test_context_pane_counts_the_files_ctrl_o_offers(harness, project):
    # A binary file is indexed (it is part of the project) but not offered to open or attach.
    (project / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))

    async def go():
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            box = app.query_one("#context-filter")
            await wait_for(lambda: "files · /search" in box.placeholder, pilot=pilot)
            assert app.rt.index.file_count() == 3
            offered = len(app.project_files())
            assert offered == 2 and box.placeholder.startswith(f"filter {offered} files")

    asyncio.run(go())


def test_streaming_answer_is_not_called_partial_and_cancelled_goes_with_its_session(harness, project):
    async def go():
        h = harness([Action(chunks=[f"w{i} " for i in range(200)], delay=0.03)])
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one(ChatInput).load_text("go on and on")
            await pilot.press("enter")
            await wait_for(lambda: app._turn_view is not None and len(app._turn_view.text) > 20, pilot=pilot)
            meta = app._turn_view.query_one(".msg-meta")
            assert "partial" not in str(meta.render())
            await pilot.press("escape")
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            answer = app.query_one(MessageList).views[-1]
            assert "cancelled" in str(answer.query_one(".msg-meta").render())
            status = app.query_one(StatusBar)
            assert "cancelled" in status.activity
            other = app.rt.store.sessions.create("another", provider="srv", model="fake-model")
            await app.open_session(other)
            await pilot.pause()
            assert "cancelled" not in status.activity

    asyncio.run(go())


def test_pipeline_history_keeps_the_status_column_at_160_columns(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(160, 44)) as pilot:
            await pilot.pause()
            pane = app.query_one(PipelinePane)
            spec = " | ".join(["analyze", "refactor", "test", "review", "explain"] * 3)
            pane.add_trace(TraceRecord(id=7, status="cancelled", started_at="2026-11-27T08:00:00", provider="pipeline",
                                       model=spec, total_ms=1234.0,
                                       stages=[StageRecord("1.analyze", 0.0, 10.0, "complete")]))
            await pilot.pause()
            table = pane.query_one(DataTable)
            columns = list(table.columns.values())
            through_status = columns[:[c.label.plain for c in columns].index("status") + 1]
            assert sum(c.get_render_width(table) for c in through_status) <= table.scrollable_content_region.width
            assert "cancelled" in table.get_row("7")

    asyncio.run(go())


def test_pipeline_pane_cuts_long_lines_and_the_model_column_with_an_ellipsis(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(160, 44)) as pilot:
            await pilot.pause()
            pane = app.query_one(PipelinePane)
            trace = TraceRecord(id=9, status="complete", started_at="2026-11-27T08:00:00", provider="local",
                                model="SmolLM2-135M-Instruct-Q8_0.gguf", total_ms=30_123.0, ttft_ms=7119.0,
                                tokens=243, tokens_per_s=12.5,
                                stages=[StageRecord("context", 0.0, 10.0, "a.py:1-40 · 243 tokens · " + "x" * 200)])
            pane.add_trace(trace)
            pane.waterfall.show_trace(trace)  # as choosing its row does
            await pilot.pause(0.2)
            table = pane.query_one(DataTable)
            model = str(table.get_row("9")[-1])
            assert model.startswith("local/SmolLM2-") and model.endswith("…")
            width = sum(c.get_render_width(table) for c in table.columns.values())
            assert width <= table.scrollable_content_region.width  # nothing hidden past the edge
            waterfall = pane.waterfall
            lines = waterfall.render().plain.splitlines()
            assert lines[1].startswith("complete · first token 7,119 ms") and lines[1].endswith("…")
            assert lines[3].strip().startswith("a.py:1-40 · 243 tokens") and lines[3].endswith("…")
            assert all(len(line) < waterfall.size.width for line in lines)

    asyncio.run(go())


def test_model_picker_takes_a_typed_model_name(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("alt+m")
            assert isinstance(app.screen, ModelPicker)
            picker = app.screen
            options = picker.query_one("OptionList")
            names = [options.get_option_at_index(i).id for i in range(options.option_count)]
            options.highlighted = names.index("srv")
            await pilot.press("enter")
            await wait_for(lambda: options.option_count > 0 and picker.provider == "srv", pilot=pilot)
            await pilot.press(*"my-own-model")
            assert picker.query_one("#picker-typed", Input).value == "my-own-model"
            await pilot.press("enter")
            await pilot.pause()
            assert not isinstance(app.screen, ModelPicker)
            status = app.query_one(StatusBar)
            assert (status.provider, status.model) == ("srv", "my-own-model")

    asyncio.run(go())


def test_model_picker_shows_a_provider_error_whole_within_its_box(harness, project):
    async def go():
        h = harness()
        h.config.write_text(h.config.read_text() + '\n[providers.oa]\ntype = "openai"\nmodel = "gpt-4o"\n')
        app = h.app(project)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("alt+m")
            picker = app.screen
            options = picker.query_one("OptionList")
            options.highlighted = [options.get_option_at_index(i).id for i in range(options.option_count)].index("oa")
            await pilot.press("enter")
            note = picker.query_one("#picker-note")
            await wait_for(lambda: "no API key" in str(note.render()), pilot=pilot)
            await pilot.pause()
            box = note.parent.content_region
            assert note.region.right <= box.right and note.size.height > 1
            shown = " ".join(note.render_line(y).text.strip() for y in range(note.size.height))
            assert "(set OPENAI_API_KEY, or add api_key_env to [providers.oa])" in shown and shown.endswith("Esc: back)")

    asyncio.run(go())


def test_a_provider_with_no_model_is_shown_alone(harness, project, tmp_path):
    async def go():
        h = harness()
        cfg = write_config(tmp_path, h.config.read_text().replace('model = "fake-model"\n', "")
                           .replace('provider = "srv"', 'provider = "llamasrv"').replace("[providers.srv]", "[providers.llamasrv]"))
        h.config = cfg
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            status = app.query_one(StatusBar)
            assert status.provider == "llamasrv" and not status.model
            text = str(status.render())
            assert "llamasrv" in text and "llamasrv/" not in text

    asyncio.run(go())


def test_pipeline_pane_lists_the_files_and_line_ranges_that_went_in(harness, project):
    # Issue 12 item 11: the pane shows what `coda trace ID` shows, not only --json.
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await pilot.pause()
            assert app.attach(project / "src" / "calc.py")
            app.query_one(ChatInput).load_text("explain this")
            await pilot.press("enter")
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            await pilot.pause(0.1)
            shown = str(app.query_one(PipelinePane).waterfall.render())
            assert "src/calc.py:1-17 · attached · " in shown

    asyncio.run(go())


def test_a_message_footer_never_ends_on_a_bare_separator():
    from coda_tui.ui.widgets.messages import MessageView

    failed = MessageView("assistant", "", status="error", error="connection refused")
    long = MessageView("assistant", "x" * 100, stored=True)
    long._shown = 40
    assert failed._meta_text() == "error"
    assert long._meta_text() == "showing 40 of 100 characters (c copies all, ctrl+s exports)"
