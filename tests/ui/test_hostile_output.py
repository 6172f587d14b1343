"""Hostile text from a model, a file name, a file, a stored session or an error message never
reaches the terminal as control sequences: every pane is rendered and what the compositor
would hand the terminal driver is checked, character by character."""

from __future__ import annotations

import asyncio

from coda_tui.ui.screens.sessions import SessionsScreen
from coda_tui.ui.widgets.code import CodePane
from coda_tui.ui.widgets.messages import MessageList
from coda_tui.ui.widgets.pipeline import PipelinePane, Waterfall
from coda_tui.ui.widgets.status import StatusBar
from tests.servers import Action
from tests.ui.conftest import wait_for
from tests.ui.test_app import ask

# Each piece acts on a real terminal: clipboard write, title, clear, home, hyperlink, bidi
# override, a C1 CSI, NUL and DEL.
EVIL = (
    "\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;pwned\x07\x1b[2J\x1b[H"
    "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
    "\u202eevil\u202c \u2066iso\u2069 \x9b31mred\x00\x7f end"
)
EVIL_NAME = "evil\x1b]0;pwned\x07\u202e.py"
FORBIDDEN = {chr(c) for c in range(0x20) if chr(c) not in "\t\n"} | {"\x7f"} | {chr(c) for c in range(0x80, 0xA0)}
FORBIDDEN |= {chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
# What only the hostile text could have put into the terminal stream.
SEQUENCES = ["\x1b]52;", "\x1b]0;pwned", "\x1b[2J", "\x1b]8;;http://evil", "\x9b", "\u202e", "\u2066"]


def screen_text(app) -> str:
    """Every cell of the current screen (modals and toasts included), as the compositor has it."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def terminal_bytes(app) -> str:
    """The full update the app would write to the terminal driver."""
    update = app.screen._compositor.render_full_update()
    return update.render_segments(app.console)


def assert_inert(app, where: str) -> None:
    text = screen_text(app)
    bad = sorted({f"U+{ord(c):04X}" for c in text if c in FORBIDDEN})
    assert not bad, f"{where}: control characters reach the screen: {bad}"
    out = terminal_bytes(app)
    leaked = [s for s in SEQUENCES if s in out]
    assert not leaked, f"{where}: hostile sequences reach the terminal: {leaked!r}"


def test_hostile_text_is_inert_in_every_pane(harness, project):
    # Without the NUL, which would make the file binary and refused.
    (project / EVIL_NAME).write_text(f"x = 1\n{EVIL.replace(chr(0), '')}\nprint(x)\n")
    h = harness([Action(chunks=["Streamed: ", EVIL, "\n\n```python\n", EVIL, "\n```\n"]),
                 Action("raw", status=500, body=f"upstream says: {EVIL}")])
    rt = h.runtime(project)
    stored = rt.store.sessions.create(f"old {EVIL}", provider="srv", model=f"m{EVIL}")
    rt.store.sessions.add_message(stored.id, "user", f"question {EVIL}")
    rt.store.sessions.add_message(stored.id, "assistant", f"# Stored\n\n{EVIL}\n\n```\n{EVIL}\n```\n",
                                  model=f"m{EVIL}")
    rt.store.sessions.update_message(rt.store.sessions.add_message(stored.id, "assistant", EVIL, status="error"),
                                     error=f"failed: {EVIL}")
    rt.store.close()

    async def go():
        from coda_tui.ui.app import CodaApp

        app = CodaApp(h.runtime(project), project=project, session_ref=str(stored.id))
        async with app.run_test(size=(140, 48), notifications=True) as pilot:
            await pilot.pause(0.3)
            assert app.query_one(StatusBar).session.startswith("old")
            assert_inert(app, "stored session (Rich Markdown, error, status bar)")

            tree = app.query_one("#project-tree")
            await wait_for(lambda: any(EVIL_NAME in str(n.data.path) for n in tree.root.children), pilot=pilot)
            await pilot.pause(0.1)
            assert_inert(app, "project tree")

            app.show_file(project / EVIL_NAME)
            await pilot.pause(0.3)
            assert app.query_one(CodePane).view.path.name == EVIL_NAME
            assert app.attach(project / EVIL_NAME)
            await wait_for(lambda: "Attached" in screen_text(app), pilot=pilot)
            await pilot.pause(0.1)
            assert_inert(app, "code pane, attachment list and notification")

            await ask(pilot, "go")
            assert EVIL in app.query_one(MessageList).views[-1].text  # kept as received
            await pilot.pause(0.2)
            assert_inert(app, "streamed answer, code block, pipeline pane")
            pane = app.query_one(PipelinePane)
            pane.query_one(Waterfall).show_trace(app.rt.store.traces.recent(1)[0])  # with stage summaries
            await pilot.pause(0.1)
            assert "evil" in screen_text(app)
            assert_inert(app, "pipeline stage summaries (the attached file's name)")

            await ask(pilot, "again")
            assert app.query_one(MessageList).views[-1].status == "error"
            assert_inert(app, "provider error message")

            filt = app.query_one("#context-filter")
            filt.focus()
            filt.value = "evil"
            await pilot.pause(0.3)
            assert_inert(app, "filtered file list")

            app.query_one("#chat-input").focus()
            await pilot.press("f5")
            await pilot.pause(0.3)
            assert isinstance(app.screen, SessionsScreen)
            assert_inert(app, "sessions screen")

        # The database keeps what was received, byte for byte.
        rows = app.rt.store.db.execute("SELECT content FROM messages WHERE role = 'assistant'").fetchall()
        assert any(EVIL in r[0] for r in rows)

    asyncio.run(go())


def test_notification_text_is_neither_markup_nor_control(harness, project):
    """A file name with markup in it must not break the notification, nor act on the terminal."""
    name = "[bold]x[red] [@click=app.quit]q \x1b]0;t\x07.py"
    (project / name).write_text("print(1)\n")

    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            assert app.attach(project / name)
            await wait_for(lambda: "Attached" in screen_text(app), pilot=pilot)
            await pilot.pause(0.1)
            assert "[bold]x[red]" in screen_text(app)
            assert_inert(app, "notification")

    asyncio.run(go())


def test_resize_to_40x12_and_back_during_a_stream(harness, project):
    async def go():
        h = harness([Action(chunks=[f"word{i} " for i in range(100)] + ["\n```python\nprint('x' * 500)\n```\n"], delay=0.04)])
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one("#chat-input").load_text("stream something long")
            await pilot.press("enter")
            await wait_for(lambda: app._turn_view is not None and len(app._turn_view.text) > 30, pilot=pilot)
            await pilot.resize_terminal(40, 12)
            await pilot.pause(0.2)
            assert app.size == (40, 12) and app.turn_running
            await pilot.resize_terminal(120, 40)
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            await pilot.pause(0.1)
            answer = app.query_one(MessageList).views[-1]
            assert answer.status == "complete" and answer.text.startswith("word0 word1") and "print('x' * 500)" in answer.text
            assert app.rt.store.sessions.messages(app.session.id)[-1].content == answer.text
            assert "word99" in screen_text(app)

    asyncio.run(go())
