"""The app driven with Textual's Pilot, talking to a loopback server in OpenAI's wire format."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import DataTable

from coda_tui import paths
from coda_tui.ui.screens.help import HelpScreen
from coda_tui.ui.screens.models import ModelPicker
from coda_tui.ui.screens.sessions import SessionsScreen
from coda_tui.ui.state import UIState
from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.code import CodePane
from coda_tui.ui.widgets.messages import MessageList
from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.status import StatusBar
from tests.servers import Action
from tests.ui.conftest import wait_for


def run(coro):
    return asyncio.run(coro)


async def ask(pilot, text: str) -> None:
    app = pilot.app
    app.query_one(ChatInput).focus()
    app.query_one(ChatInput).load_text(text)
    await pilot.press("enter")
    await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
    await pilot.pause(0.1)


def test_four_titled_panes_at_120x40_and_chat_input_focused(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            for pane_id, title in (("#chat", "Chat"), ("#code", "Code"), ("#context", "Context"), ("#pipeline", "Pipeline")):
                pane = app.query_one(pane_id)
                assert pane.display and pane.region.width > 0 and pane.border_title == title
            assert isinstance(app.focused, ChatInput)
            status = app.query_one(StatusBar)
            assert status.provider == "srv" and status.model == "fake-model"
            await wait_for(lambda: status.health == "ok", pilot=pilot)

    run(go())


def test_narrow_terminal_keeps_chat_and_pipeline(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.query_one("#chat").region.width >= 30
            assert not app.query_one("#context").display and not app.query_one("#code").display
            assert app.query_one("#pipeline").display
            await pilot.press("f2")  # shown on demand
            assert app.query_one("#context").display

    run(go())


def test_tab_cycles_panes_and_direct_keys_focus_them(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            order = []
            for _ in range(6):
                await pilot.press("tab")
                order.append(app.focused.id)
            # (the results list and the attachment list join the cycle when they have entries)
            assert order == ["messages", "code-view", "context-filter", "project-tree", "pipeline-history", "chat-input"]
            await pilot.press("shift+tab")
            assert app.focused.id == "pipeline-history"
            for key, target in (("alt+2", "code-view"), ("alt+3", "context-filter"), ("alt+4", "pipeline-history"), ("alt+1", "chat-input")):
                await pilot.press(key)
                assert app.focused.id == target

    run(go())


def test_toggles_persist_between_runs_and_zoom(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("f2", "f3")
            assert not app.query_one("#context").display and not app.query_one("#code").display
            await pilot.press("f4")
            assert not app.query_one("#pipeline").display and not app.query_one("#right").display
            await pilot.press("f4")
            await pilot.press("alt+z")
            assert app.screen.maximized is app.query_one("#chat")
            await pilot.press("alt+z")
            assert app.screen.maximized is None
        state = UIState.load()
        assert (state.shown("context"), state.shown("code"), state.shown("pipeline")) == (False, False, True)
        app2 = h.app(project)
        async with app2.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert not app2.query_one("#context").display and app2.query_one("#pipeline").display

    run(go())


def test_question_streams_an_answer_with_its_numbers_and_stages(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "print something")
            views = app.query_one(MessageList).views
            assert [v.role for v in views] == ["user", "assistant"]
            answer = views[-1]
            assert answer.status == "complete" and "print('hi')" in answer.text
            meta = str(answer.query_one(".msg-meta").render())
            assert "fake-model" in meta and "first token" in meta and "tokens" in meta
            waterfall = app.query_one(PipelinePane).waterfall
            # (no MCP server configured and no plugin installed: no "tools" stage to load them)
            assert [s.name for s in waterfall.stages] == ["context", "memory", "prompt", "llm", "store"]
            assert all(s.duration_ms is not None for s in waterfall.stages)
            assert "first token" in waterfall._headline(1)
            table = app.query_one("#pipeline-history", DataTable)
            assert table.row_count == 1
            session = app.session
            assert session is not None and app.query_one(StatusBar).session == session.name
            stored = app.rt.store.sessions.messages(session.id)
            assert [m.role for m in stored] == ["user", "assistant"]

    run(go())


def test_escape_cancels_and_keeps_what_arrived(harness, project):
    async def go():
        h = harness([Action(chunks=[f"w{i} " for i in range(200)], delay=0.03)])
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one(ChatInput).load_text("go on and on")
            await pilot.press("enter")
            await wait_for(lambda: app._turn_view is not None and len(app._turn_view.text) > 20, pilot=pilot)
            await pilot.press("escape")
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            await pilot.pause(0.1)
            answer = app.query_one(MessageList).views[-1]
            assert answer.status == "cancelled" and answer.text.startswith("w0 w1")
            stored = app.rt.store.sessions.messages(app.session.id)[-1]
            assert stored.status == "cancelled" and stored.content == answer.text
            assert "cancelled" in app.query_one(StatusBar).activity

    run(go())


@pytest.mark.parametrize("key", ["ctrl+r", "alt+r"])
def test_answer_again_after_cancelling_a_new_sessions_first_answer(harness, project, key):
    async def go():
        h = harness([Action(chunks=[f"w{i} " for i in range(200)], delay=0.03), Action(chunks=["answered again"])])
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one(ChatInput).load_text("first of a new session")
            await pilot.press("enter")
            await wait_for(lambda: app._turn_view is not None and len(app._turn_view.text) > 20, pilot=pilot)
            await pilot.press("escape")
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            await pilot.press(key)
            await wait_for(lambda: len(h.server.chat_requests()) == 2, pilot=pilot)
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            await pilot.pause(0.1)
            views = app.query_one(MessageList).views
            assert [v.text for v in views] == ["first of a new session", "answered again"]
            stored = app.rt.store.sessions.messages(app.session.id)
            assert [m.role for m in stored].count("user") == 1

    run(go())


def test_provider_error_shows_in_chat_and_retry_answers_it(harness, project):
    async def go():
        h = harness([Action("status", status=500, body='{"error": {"message": "model crashed"}}'), Action(chunks=["recovered"])])
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "will this work?")
            answer = app.query_one(MessageList).views[-1]
            assert answer.status == "error"
            error_text = str(answer.query_one(".msg-error").render())
            assert "HTTP 500" in error_text and "alt+r retries" in error_text
            await pilot.press("alt+r")
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            await pilot.pause(0.1)
            views = app.query_one(MessageList).views
            assert [v.role for v in views] == ["user", "assistant"] and views[-1].text == "recovered"
            stored = app.rt.store.sessions.messages(app.session.id)
            # The question was kept once; both answers are kept, the failed one marked so.
            assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "error"), ("assistant", "complete")]
            assert len(h.server.chat_requests()) == 2

    run(go())


def test_input_history_edit_last_and_regenerate(harness, project):
    async def go():
        h = harness([Action(chunks=["one"]), Action(chunks=["two"]), Action(chunks=["three"])])
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "first question")
            chat_input = app.query_one(ChatInput)
            chat_input.load_text("draft")
            await pilot.press("ctrl+up")
            assert chat_input.text == "first question"
            await pilot.press("ctrl+down")
            assert chat_input.text == "draft"
            chat_input.load_text("")
            await pilot.press("alt+e")
            assert chat_input.text == "first question"
            chat_input.load_text("")
            await pilot.press("ctrl+r")  # regenerate: the same question answered again
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            await pilot.pause(0.1)
            views = app.query_one(MessageList).views
            assert [v.text for v in views] == ["first question", "two"]
            bodies = [r["body"]["messages"] for r in h.server.chat_requests()]
            assert bodies[1][-1]["content"] == "first question" and len(bodies[1]) == 2

    run(go())


def test_copy_answer_and_code_block(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "code please")
            await pilot.press("alt+c")
            assert app.clipboard.startswith("Here is the answer")
            await pilot.press("alt+shift+c")
            assert app.clipboard == "print('hi')\n"

    run(go())


def test_multiline_input_with_ctrl_j(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("a", "ctrl+j", "b")
            assert app.query_one(ChatInput).text == "a\nb"
            await pilot.press("enter")
            await wait_for(lambda: len(h.server.chat_requests()) == 1 and not app.turn_running, pilot=pilot)
            assert h.server.chat_requests()[0]["body"]["messages"][-1]["content"] == "a\nb"

    run(go())


def test_sessions_view_search_resume_rename_delete(harness, project):
    async def go():
        h = harness([Action(chunks=["about parsers"]), Action(chunks=["about caches"])])
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "tell me about parsers")
            first = app.session.id
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert app.session is None and app.query_one(MessageList).views == []
            await ask(pilot, "tell me about caches")
            assert app.session.id != first
            await pilot.press("f5")
            screen = app.screen
            assert isinstance(screen, SessionsScreen) and len(screen.sessions) == 2
            await pilot.press(*"parsers")
            await pilot.pause(0.1)
            assert [s.id for s in screen.sessions] == [first]
            await pilot.press("f2")  # rename
            await pilot.pause()
            rename_input = app.screen.query_one("Input")
            rename_input.value = "parsing notes"
            await pilot.press("enter")
            await pilot.pause()
            assert app.rt.store.sessions.get(first).name == "parsing notes"
            await pilot.press("enter")  # open it
            await pilot.pause(0.2)
            assert app.session.id == first
            assert [v.text for v in app.query_one(MessageList).views] == ["tell me about parsers", "about parsers"]
            await pilot.press("f5")
            await pilot.press("ctrl+d")
            await pilot.press("n")
            assert app.rt.store.sessions.get(first) is not None
            await pilot.press("ctrl+d")
            await pilot.press("y")
            await pilot.pause()
            assert len(app.rt.store.sessions.list()) == 1
            await pilot.press("escape")

    run(go())


def test_clear_starts_fresh_and_deletes_nothing(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "keep me")
            sid = app.session.id
            await pilot.press("ctrl+l")
            await pilot.pause()
            assert app.session is None and app.query_one(MessageList).views == []
            assert len(app.rt.store.sessions.messages(sid)) == 2

    run(go())


def test_export_markdown(harness, project, tmp_path):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "export me")
            await pilot.press("ctrl+s")
            await pilot.pause()
            target = tmp_path / "out.md"
            app.screen.query_one("Input").value = str(target)
            await pilot.press("enter")
            await pilot.pause()
            text = target.read_text()
            assert text.startswith("# export me") and "## You" in text and "print('hi')" in text

    run(go())


def test_export_proposes_the_data_dirs_exports_folder_not_the_project(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "export me")
            await pilot.press("ctrl+s")
            await pilot.pause()
            proposed = Path(app.screen.query_one("Input").value)
            assert proposed == paths.data_dir() / "exports" / f"coda-session-{app.session.id}.md"
            await pilot.press("enter")
            await pilot.pause()
            assert proposed.read_text().startswith("# export me")
            assert proposed.parent.stat().st_mode & 0o077 == 0  # private, like the data dir
            assert not list(project.glob("coda-session-*"))

    run(go())


def test_branch_from_a_message(harness, project):
    async def go():
        h = harness([Action(chunks=["a1"]), Action(chunks=["a2"])])
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "q1")
            await ask(pilot, "q2")
            original = app.session.id
            await pilot.press("tab")  # into the conversation
            assert app.focused.id == "messages"
            await pilot.press("up", "up", "up")  # from the last message up to the first answer
            await pilot.press("b")
            await pilot.pause(0.2)
            assert app.session.id != original and app.session.parent_id == original
            assert [v.text for v in app.query_one(MessageList).views] == ["q1", "a1"]

    run(go())


def test_pick_provider_and_model_is_remembered_for_the_session(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "hello")
            await pilot.press("alt+m")
            assert isinstance(app.screen, ModelPicker)
            picker = app.screen
            names = [picker.query_one("OptionList").get_option_at_index(i).id for i in range(picker.query_one("OptionList").option_count)]
            assert names == ["local", "ollama", "openai", "srv"]
            picker.query_one("OptionList").highlighted = names.index("srv")
            await pilot.press("enter")
            await wait_for(lambda: picker.query_one("OptionList").option_count > 0 and picker.provider == "srv"
                           and picker.query_one("OptionList").get_option_at_index(0).id == "fake-model", pilot=pilot)
            await pilot.press("enter")
            await pilot.pause()
            assert app.query_one(StatusBar).model == "fake-model"
            session = app.rt.store.sessions.get(app.session.id)
            assert (session.provider, session.model) == ("srv", "fake-model")

    run(go())


def test_pipeline_history_survives_restart_and_shows_stage_summaries(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "first")
        app2 = h.app(project)
        async with app2.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            pane = app2.query_one(PipelinePane)
            table = app2.query_one("#pipeline-history", DataTable)
            assert table.row_count == 1
            assert app2.query_one("#pipeline-spark").data
            await pilot.press("alt+4")
            await pilot.press("enter")
            await pilot.pause()
            assert pane.waterfall.show_summaries
            rendered = str(pane.waterfall.render())
            assert "question stored" in rendered and "first token" in rendered

    run(go())


def test_long_session_mounts_a_window_and_loads_older_on_scroll(harness, project):
    async def go():
        h = harness()
        rt = h.runtime()
        s = rt.store.sessions.create("long")
        with rt.store.db.conn:
            rt.store.db.conn.executemany(
                "INSERT INTO messages (session_id, role, content, status, created_at, updated_at) VALUES (?, ?, ?, 'complete', 't', 't')",
                [(s.id, "user" if i % 2 == 0 else "assistant", f"message number {i}") for i in range(5000)],
            )
        rt.close()
        app = h.app(project, session_ref="long")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            messages = app.query_one(MessageList)
            views = messages.views
            assert 0 < len(views) <= 30 and views[-1].text == "message number 4999"
            messages.scroll_home(animate=False)
            await wait_for(lambda: len(messages.views) > len(views), pilot=pilot)
            assert len(messages.views) <= 60

    run(go())


def test_help_lists_every_action_with_its_keys(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            table = app.screen.query_one(DataTable)
            actions = {table.get_row_at(i)[1]: table.get_row_at(i)[0] for i in range(table.row_count)}
            assert actions["quit"] == "ctrl+q" and actions["toggle_code"] == "f3" and actions["send"] == "enter"
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)

    run(go())


def test_command_palette_lists_actions_and_themes(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            titles = [c.title for c in app.get_system_commands(app.screen)]
            for needed in ("Start a new session", "Browse past sessions", "Theme: light", "Theme: high-contrast"):
                assert needed in titles
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert app.screen.__class__.__name__ == "CommandPalette"

    run(go())


def test_theme_switch_is_remembered(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.theme == "dark"
            app.set_theme("light")
            await pilot.pause()
            assert app.query_one(CodePane).view.style_name == app.theme_specs["light"].pygments_style
        app2 = h.app(project)
        async with app2.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app2.theme == "light"

    run(go())


def test_the_configured_theme_wins_over_the_last_one_picked(harness, project):
    async def go():
        UIState(theme="dark").save()  # the last Ctrl+T of an earlier run
        h = harness(extra='[ui]\ntheme = "light"\n')
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.theme == "light"

    run(go())


def test_context_attach_detach_and_open_file(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            tree = app.query_one("#project-tree")
            tree.focus()
            await wait_for(lambda: len(tree.root.children) >= 2, pilot=pilot)
            src = next(n for n in tree.root.children if str(n.data.path).endswith("src"))
            src.expand()
            await wait_for(lambda: len(src.children) == 1, pilot=pilot)
            tree.move_cursor(src.children[0])
            await pilot.press("a")
            assert [a.path.name for a in app.attachments] == ["calc.py"]
            await pilot.press("enter")  # opens in the code pane
            await pilot.pause(0.3)
            code = app.query_one(CodePane).view
            assert code.path.name == "calc.py" and code.lines[0] == "def add(a, b):"
            await ask(pilot, "explain calc")
            sent = h.server.chat_requests()[0]["body"]["messages"][-1]["content"]
            assert "def sub(a, b):" in sent and sent.endswith("explain calc")
            assert app.attachments == []  # attachments go with one question

    run(go())


def test_open_file_dialog_and_refusing_binary(harness, project):
    async def go():
        (project / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+o")
            await pilot.press(*"clc")  # fuzzy: c-a-l-c
            await pilot.pause(0.1)
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert app.query_one(CodePane).view.path.name == "calc.py"
            app.show_file(project / "blob.bin")
            await pilot.pause(0.2)
            assert app.query_one(CodePane).view.path.name == "calc.py"  # unchanged: refused

    run(go())


def test_hostile_model_output_is_shown_inert(harness, project):
    async def go():
        evil = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2Jdone"
        app = harness([Action(chunks=[evil])]).app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "hi")
            view = app.query_one(MessageList).views[-1]
            shown = view.query_one("Markdown").source
            assert "\x1b" not in shown and "␛]52" in shown
            assert view.text == evil  # kept as received

    run(go())


def test_code_from_the_answer_shows_in_the_code_pane(harness, project):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "code please")
            view = app.query_one(CodePane).view
            assert view.path is None and view.lines == ["print('hi')"]

    run(go())


def test_vim_keymap_from_config_and_a_user_override(harness, project, tmp_path):
    async def go():
        user = tmp_path / "mine.toml"
        user.write_text('extends = "vim"\n[bindings]\ntoggle_pipeline = "f10"\n')
        h = harness(extra=f'[ui]\nkeymap = "{user}"\n')
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.keymap.bindings["focus_next"][:2] == ["tab", "ctrl+w"]
            await pilot.press("f10")
            assert not app.query_one("#pipeline").display
            await pilot.press("f4")  # no longer bound to the toggle
            assert not app.query_one("#pipeline").display
            await pilot.press("f1")
            table = app.screen.query_one(DataTable)
            rows = {table.get_row_at(i)[1]: table.get_row_at(i)[0] for i in range(table.row_count)}
            assert rows["toggle_pipeline"] == "f10"

    run(go())


def test_editing_a_user_theme_reapplies_it_live(harness, project):
    from coda_tui import resources

    async def go():
        folder = resources.user_dir("themes")
        folder.mkdir(parents=True)
        theme = folder / "mine.toml"
        theme.write_text('name = "mine"\ndark = true\npygments_style = "monokai"\n[colors]\nprimary = "#112233"\nbackground = "#000000"\n')
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            app.set_theme("mine")
            await pilot.pause(0.2)
            assert app.current_theme.primary.lower() == "#112233"
            await pilot.pause(0.5)  # the watcher is running
            theme.write_text(theme.read_text().replace("#112233", "#445566"))
            await wait_for(lambda: app.current_theme.primary.lower() == "#445566", timeout=10, pilot=pilot)
            assert app.theme == "mine"

    run(go())


def test_a_long_answer_streams_into_several_markdown_documents(harness, project):
    from textual.widgets import Markdown

    from coda_tui.ui.widgets.messages import _paragraph_break

    assert _paragraph_break("", "a\n\nb") == 3
    assert _paragraph_break("```py\n", "x = 1\n\ny = 2\n") is None  # inside a fence
    assert _paragraph_break("```py\nx\n```\n", "p\n\nq") == 3

    async def go():
        paragraphs = [f"Paragraph {i} " + "word " * 60 + "\n\n" for i in range(12)]
        code = "```python\n" + "".join(f"x_{i} = {i}\n\n" for i in range(40)) + "```\n"
        chunks = [c for p in paragraphs[:6] + [code] + paragraphs[6:] for c in (p[: len(p) // 2], p[len(p) // 2 :])]
        app = harness([Action(chunks=chunks, delay=0.01)]).app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, "long please")
            view = app.query_one(MessageList).views[-1]
            docs = list(view.query(Markdown))
            assert len(docs) > 1
            assert "".join(d.source for d in docs) == view.text
            for d in docs:  # no document ends inside the code block
                assert sum(1 for line in d.source.splitlines() if line.startswith("```")) % 2 == 0

    run(go())


def test_typing_holds_the_streaming_answer_back_and_it_ends_drawn_as_if_whole(harness, project, monkeypatch):
    from textual.widgets import Markdown

    from coda_tui.ui.widgets import messages

    # Typing holds the answer's updates back; long enough here that none is drawn until it ends.
    monkeypatch.setattr(messages, "KEY_QUIET", 60.0)
    monkeypatch.setattr(messages, "HOLD_MAX", 60.0)

    async def go():
        paragraphs = [f"Paragraph {i} " + "word " * 60 + "\n\n" for i in range(10)]
        code = "```python\n" + "".join(f"x_{i} = {i}\n" for i in range(30)) + "```\n\n- one\n- two\n\n# End\n"
        chunks = [c for p in paragraphs[:5] + [code] + paragraphs[5:] for c in (p[: len(p) // 2], p[len(p) // 2 :])]
        app = harness([Action(chunks=chunks, delay=0.05)]).app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            chat = app.query_one(ChatInput)
            chat.focus()
            chat.load_text("long please")
            await pilot.press("enter")
            await wait_for(lambda: app._turn_view is not None and app._turn_view.text, pilot=pilot)
            view = app._turn_view
            await pilot.press("a")  # the user types while it streams
            drawn = lambda: "".join(d.source for d in view.query(Markdown))  # noqa: E731
            await wait_for(lambda: len(view.text) > len(drawn()) + 200, pilot=pilot)
            assert chat.text.endswith("a")
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            await pilot.pause(0.1)
            # Finished, the whole answer is drawn, as the same text drawn at once would be.
            assert drawn() == view.text == "".join(chunks)
            whole = Markdown(view.text, open_links=False)
            await app.screen.mount(whole)
            await pilot.pause()
            blocks = [type(b).__name__ for d in view.query(Markdown) for b in d.children]
            assert blocks == [type(b).__name__ for b in whole.children]

    run(go())
