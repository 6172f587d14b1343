"""What the chat does with text starting with "/": /help, a refused command given back to
edit, a path asked about; and alt+g reaching the code pane from the chat input."""

from __future__ import annotations

import asyncio

from textual import events
from textual.widgets import DataTable

from coda_tui.core.slash import COMMANDS
from coda_tui.ui.screens.dialogs import Ask
from coda_tui.ui.screens.help import HelpScreen
from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.code import CodeView
from coda_tui.ui.widgets.messages import MessageList
from tests.servers import Action
from tests.ui.conftest import wait_for
from tests.ui.test_operations_ui import type_and_send


def run(coro):
    return asyncio.run(coro)


def last_error(app) -> str:
    return str(app.query_one(MessageList).views[-1].query_one(".msg-error").render())


def test_help_lists_every_command_in_a_dialog_esc_closes(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await type_and_send(pilot, "/help")
            await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot=pilot)
            table = app.screen.query_one(DataTable)
            shown = {table.get_row_at(i)[0]: table.get_row_at(i)[1] for i in range(table.row_count)}
            assert shown == {f"/{name}": what for name, what in COMMANDS.items()} and "/help" in shown
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)
            assert app.query_one(ChatInput).text == "" and h.server.chat_requests() == []

    run(go())


def test_a_refused_command_is_given_back_with_the_cursor_at_the_end(harness, project):
    async def go():
        h = harness()
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await type_and_send(pilot, "/frobnicate now")
            await pilot.pause(0.2)
            assert "unknown command /frobnicate: " in last_error(app) and "/undo" in last_error(app)
            box = app.query_one(ChatInput)
            assert box.text == "/frobnicate now" and box.cursor_location == (0, len("/frobnicate now"))
            await pilot.press("ctrl+u")
            assert box.text == ""
            await pilot.press(*"/undo/help")  # typed, not pasted: as the user did
            await pilot.press("enter")
            await pilot.pause(0.2)
            # Its first word names a command: refused, never sent to the model as a question.
            assert "unknown command /undo/help: did you mean /undo?" in last_error(app)
            assert box.text == "/undo/help" and box.cursor_location == (0, len("/undo/help"))
            assert h.server.chat_requests() == []

    run(go())


def test_a_question_starting_with_a_path_goes_to_the_model(harness, project):
    async def go():
        h = harness([Action(chunks=["a folder of shared data"])])
        app = h.app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            await type_and_send(pilot, "/usr/share/x what is it")
            await wait_for(lambda: len(h.server.chat_requests()) == 1 and not app.turn_running, pilot=pilot)
            assert "/usr/share/x what is it" in h.server.chat_requests()[0]["body"]["messages"][-1]["content"]

    run(go())


def test_alt_g_from_the_chat_input_goes_to_a_line_of_the_open_file(harness, project):
    async def go():
        big = project / "src" / "big.py"
        big.write_text("".join(f"value_{i} = {i}\n" for i in range(1000)))
        app = harness().app(project)
        async with app.run_test(size=(140, 44)) as pilot:
            box = app.query_one(ChatInput)
            # As a terminal's ESC g arrives from the driver: alt+g carrying the character "g",
            # which the chat input typed while go_to_line was the code pane's key only.
            app.post_message(events.Key("alt+g", "g"))
            await pilot.pause()
            assert box.text == "" and not isinstance(app.screen, Ask)
            assert any("No file is open" in n.message for n in app._notifications)
            app.show_file(big)
            box.focus()
            await pilot.pause()
            await pilot.press("alt+g")
            await wait_for(lambda: isinstance(app.screen, Ask), pilot=pilot)
            await pilot.press(*"300", "enter")
            await pilot.pause(0.1)
            view = app.query_one(CodeView)
            assert view.cursor == 299 and app.focused is view and box.text == ""

    run(go())
