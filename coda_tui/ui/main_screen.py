"""The main screen: holds the panes declared in coda_tui/panes.py and owns their arrangement
(layout, narrow mode, zoom, focus), the keys that act on what it shows, and the messages
its panes send up (open a file, attach, branch, copy). Sessions, turns and the runtime stay
with the app, which this screen asks through its public methods.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DirectoryTree, Footer

from coda_tui.core import events as ev
from coda_tui.core import export
from coda_tui.core.sessions import SessionError
from coda_tui.panes import COLUMNS, RIGHT, in_layout_order
from coda_tui.ui.clipboard import copy
from coda_tui.ui.keys import bind
from coda_tui.ui.layout import Layout
from coda_tui.ui.panes import PANES, widget
from coda_tui.ui.screens.dialogs import Ask
from coda_tui.ui.screens.finder import FileFinder
from coda_tui.ui.state import UIState
from coda_tui.ui.widgets.chat import ChatInput, ChatPane
from coda_tui.ui.widgets.code import CodePane, CodeView
from coda_tui.ui.widgets.context import AttachmentList, AttachPath, OpenPath
from coda_tui.ui.widgets.messages import MessageList, code_blocks
from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.status import StatusBar

# Actions of this screen: they act on the panes it shows (the rest are the app's).
SCREEN_ACTIONS = ("focus_next", "focus_previous", *(p.focus_action for p in PANES), "zoom",
                  "export_session", "open_file", "edit_last", "copy_answer", "copy_code", "theme_next")


class KeysFooter(Footer):
    """Textual's footer, its keys made with the compact value they are bound to. Textual's start
    compact and are then bound to the footer's (not compact): each key was restyled twice (with
    its parts) just after the first frame, a quarter of the stylesheet work before a first key
    typed could be drawn."""

    def compose(self) -> ComposeResult:
        for child in super().compose():
            # Set before it is mounted, its watcher does not run; the binding's then changes
            # nothing. (Textual keeps a widget's bindings in a private dict: if that changes,
            # this does nothing, and the keys are restyled as before.)
            if "compact" in (getattr(child, "_reactive_connect", None) or {}):
                child.set_reactive(type(child).compact, self.compact)
            yield child


class MainScreen(Screen):
    BINDINGS = [bind(name) for name in SCREEN_ACTIONS]
    # The chat input first (the app focuses it on mount too): focusing the first focusable
    # widget and then the input restyled every widget twice before the first frame.
    AUTO_FOCUS = "#chat-input"

    def __init__(self, project: Path, state: UIState) -> None:
        super().__init__()
        self.project = project
        self.arrangement = Layout(self, state)
        self._resumed = False

    def panes(self) -> ComposeResult:
        """The panes, as the app composes them onto this screen (its first, so they are
        mounted when the app's on_mount fills them)."""
        with Horizontal(id="main"):
            for column in COLUMNS:
                here = (widget(self, p) for p in in_layout_order() if p.column == column)
                # The left and centre panes each take a column of the row; the right column
                # stacks its panes (app.tcss sizes it as #right).
                if column == RIGHT:
                    with Vertical(id="right"):
                        yield from here
                else:
                    yield from here
        yield StatusBar(id="status")
        yield KeysFooter()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler. The first time, every widget here was styled as
        # it was registered a moment ago: restyling them all again cost a tenth of the first
        # frame's style work. Later resumes (a dialog closed, a theme changed) restyle.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_resize(self) -> None:
        self.set_class(self.arrangement.narrow, "-narrow")
        self.arrangement.apply()

    def check_health(self, provider: str) -> None:
        """Ask `provider` whether it can answer, for the status bar's dot."""
        self.run_worker(self._health(provider), group="health", exclusive=True, exit_on_error=False)

    async def _health(self, provider: str) -> None:
        rt = self.app.rt
        status = self.query_one(StatusBar)
        status.health = "checking"
        try:
            # Made in a thread: creating it imports its client library (openai: ~350 ms).
            prov = await asyncio.to_thread(rt.providers.get, provider)
            health = await prov.health()
        except Exception as exc:
            status.health, status.health_detail = "down", rt.redact(str(exc)) or ""
            return
        status.health, status.health_detail = ("ok" if health.ok else "down"), health.detail

    # --- turns, as the panes draw them -------------------------------------------------

    def follow_turns(self, events, retry_key: str) -> None:
        """Route the core's events to the panes that draw them (ui.dispatch). The screen's own
        handler comes first: it reads the answer before the chat pane closes it."""
        events.on(ev.TurnFinished, self._turn_finished)
        self.query_one(PipelinePane).follow(events)
        self.query_one(StatusBar).follow(events, retry_key)
        self.query_one(ChatPane).follow(events, retry_key)

    def _turn_finished(self, event: ev.TurnFinished) -> None:
        view = self.query_one(ChatPane).turn_view
        code = self.query_one(CodePane)
        blocks = code_blocks(view.text) if view is not None else []
        # With no file open, the code pane shows the last code block of the answer.
        if blocks and code.view.path is None:
            code.show_snippet(blocks[-1], "code from the last answer (ctrl+o opens a file)")

    # --- keys --------------------------------------------------------------------------

    def action_focus_next(self) -> None:
        self.arrangement.cycle(1)

    def action_focus_previous(self) -> None:
        self.arrangement.cycle(-1)

    def action_zoom(self) -> None:
        self.arrangement.zoom()

    def action_export_session(self) -> None:
        app = self.app
        session = app.session
        if session is None:
            app.notify("Nothing to export yet.", severity="warning")
            return
        # Not into the project: an export there would show up in `git status`.
        default = str(export.default_path(session))

        def write(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            text = export.to_markdown(session, app.rt.store.sessions.messages(session.id), app.rt.redact)
            try:
                export.write(target, text)
            except OSError as exc:
                app.notify(f"Cannot write {target}: {exc.strerror}", severity="error")
                return
            app.notify(f"Exported to {target}")

        app.push_screen(Ask("Export this session as Markdown to:", default), write)

    def action_open_file(self) -> None:
        def opened(choice: str | None) -> None:
            if not choice:
                return
            path, _, line = choice.partition(":")
            self.app.show_file(self.project / path, int(line) if line.isdigit() else 1)

        self.app.push_screen(FileFinder(self.app.project_files()), opened)

    def action_edit_last(self) -> None:
        views = [v for v in self.query_one(MessageList).views if v.role == "user"]
        if views:
            chat_input = self.query_one(ChatInput)
            chat_input.load_text(views[-1].text)
            chat_input.focus()

    def _last_answer(self) -> str:
        views = [v for v in self.query_one(MessageList).views if v.role == "assistant" and v.text]
        return views[-1].text if views else ""

    def action_copy_answer(self) -> None:
        text = self._last_answer()
        self.app.notify(copy(self.app, text) if text else "No answer to copy yet.")

    def action_copy_code(self) -> None:
        blocks = code_blocks(self._last_answer())
        self.app.notify(copy(self.app, blocks[-1]) if blocks else "The last answer has no code block.")

    def action_theme_next(self) -> None:
        app = self.app
        names = sorted(app.theme_specs)
        current = names.index(app.theme) if app.theme in names else -1
        app.set_theme(names[(current + 1) % len(names)])

    # --- messages from the panes -------------------------------------------------------

    async def on_chat_input_submitted(self, event: ChatInput.Submitted) -> None:
        await self.app.submit(event.text)

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.app.show_file(Path(event.path))

    def on_open_path(self, event: OpenPath) -> None:
        self.app.show_file(event.path, event.line)

    def on_attach_path(self, event: AttachPath) -> None:
        self.app.attach(event.path, event.lines)

    def on_code_view_attach_lines(self, event: CodeView.AttachLines) -> None:
        if self.app.attach(event.path, (event.first, event.last)):
            self.query_one(ChatInput).focus()

    def on_code_view_go_to_line(self, event: CodeView.GoToLine) -> None:
        view = self.query_one(CodeView)

        def go(answer: str | None) -> None:
            if answer and answer.strip().isdigit():
                view.go_to_line(int(answer))
                view.focus()

        self.app.push_screen(Ask(f"Go to line (1-{len(view.lines)}):"), go)

    def on_attachment_list_detach(self, event: AttachmentList.Detach) -> None:
        self.app.detach(event.index)

    async def on_message_list_branch(self, event: MessageList.Branch) -> None:
        await self.app.branch(event.message_id)

    def on_message_list_copy(self, event: MessageList.Copy) -> None:
        self.app.notify(copy(self.app, event.text))

    def on_message_list_rate(self, event: MessageList.Rate) -> None:
        view, verdict = event.view, event.verdict

        def rated(reason: str | None) -> None:
            if reason is None:
                return  # Esc: not rated after all
            try:
                m = self.app.rt.sessions.rate(view.message_id, verdict, reason)
            except SessionError as exc:
                self.app.notify(exc.render(), severity="error")
                return
            view.set_rating(m.rating, m.rating_reason)
            self.app.notify(f"Rated {verdict}")

        self.app.push_screen(Ask(f"Rate this answer {verdict}. Why? (optional: Enter rates, Esc cancels)",
                                 placeholder="one line"), rated)


def _focus_action(pane_id: str):
    def action(self: MainScreen) -> None:
        self.arrangement.focus(pane_id)

    return action


# Each pane's focus action, from its declaration in coda_tui/panes.py.
for _pane in PANES:
    setattr(MainScreen, f"action_{_pane.focus_action}", _focus_action(_pane.id))
