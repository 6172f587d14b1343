"""The chat pane: the conversation and a multi-line input with history."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import TextArea

from coda_tui.core import events as ev
from coda_tui.ui.dispatch import Dispatcher
from coda_tui.ui.keys import bind, default_keys
from coda_tui.ui.widgets.messages import MessageList, MessageView, meta_line
from coda_tui.ui.widgets.voice import VoiceMeter

HISTORY_LIMIT = 200


class ChatInput(TextArea):
    """Enter sends; Ctrl+J (or Shift+Enter where the terminal reports it) starts a new line;
    the history keys walk through earlier questions, keeping the draft."""

    DEFAULT_CSS = """
    ChatInput { height: auto; min-height: 3; max-height: 12; border: tall $surface-lighten-2; }
    ChatInput:focus { border: tall $accent; }
    """
    BINDINGS = [
        # Shown in the footer and rebindable; the keys themselves are handled in _on_key,
        # in order with the typing before them (see there).
        bind("send"),
        bind("newline"),
        bind("history_previous"),
        bind("history_next"),
    ]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.sent: list[str] = []
        self._history_pos: int | None = None
        self._draft = ""
        # The keys that send and start a line, set by the app from the keymap in force.
        self.keys: dict[str, list[str]] = {"send": default_keys("send"), "newline": default_keys("newline")}

    async def _on_key(self, event) -> None:
        # Sending is decided here, in the input's own queue, rather than by a priority
        # binding: a priority binding runs as the key arrives, ahead of letters typed just
        # before it that this widget has not processed yet, and would send half a line.
        if event.key in self.keys["send"]:
            event.stop()
            event.prevent_default()
            self.action_send()
            return
        if event.key in self.keys["newline"]:
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        await super()._on_key(event)

    def action_send(self) -> None:
        text = self.text
        if not text.strip():
            return
        self.remember(text)
        self.post_message(self.Submitted(text))
        self.clear()

    def action_newline(self) -> None:
        self.insert("\n")

    def remember(self, text: str) -> None:
        if not self.sent or self.sent[-1] != text:
            self.sent.append(text)
            del self.sent[:-HISTORY_LIMIT]
        self._history_pos = None

    def action_history_previous(self) -> None:
        if not self.sent:
            return
        if self._history_pos is None:
            self._draft = self.text
            self._history_pos = len(self.sent)
        if self._history_pos > 0:
            self._history_pos -= 1
            self._show(self.sent[self._history_pos])

    def action_history_next(self) -> None:
        if self._history_pos is None:
            return
        self._history_pos += 1
        if self._history_pos >= len(self.sent):
            self._history_pos = None
            self._show(self._draft)
        else:
            self._show(self.sent[self._history_pos])

    def _show(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)


class ChatPane(Vertical):
    BORDER_TITLE = "Chat"
    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    ChatPane MessageList { height: 1fr; }
    """

    # The answer streaming in, while a turn runs.
    turn_view: MessageView | None = None

    def follow(self, events: Dispatcher, retry_key: str) -> None:
        """Stream the running turn's answer into its message, and close it with the outcome."""
        self._retry_key = retry_key
        events.on(ev.TokenChunk, self._token)
        events.on(ev.TurnFinished, self._turn_finished)

    def _token(self, event: ev.TokenChunk) -> None:
        if self.turn_view is not None:
            self.turn_view.append(event.text)

    def _turn_finished(self, event: ev.TurnFinished) -> None:
        view, self.turn_view = self.turn_view, None
        if view is None:
            return
        t = event.trace
        error = event.error
        if error and event.status in ("error", "partial"):
            error += f"  —  {self._retry_key} retries"
        self.call_later(view.finish, event.status, meta_line(t.model, t.tokens, t.ttft_ms, t.total_ms), error, event.message_id)

    def compose(self) -> ComposeResult:
        yield MessageList(id="messages")
        yield VoiceMeter(id="voice-meter")
        yield ChatInput(id="chat-input")

    @property
    def messages(self) -> MessageList:
        return self.query_one(MessageList)

    @property
    def input(self) -> ChatInput:
        return self.query_one(ChatInput)
