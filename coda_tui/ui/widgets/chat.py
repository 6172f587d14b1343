"""The chat pane: the conversation and a multi-line input with history."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import TextArea

from coda_tui.core import events as ev
from coda_tui.ui.dispatch import Dispatcher
from coda_tui.ui.keys import bind, default_keys
from coda_tui.ui.widgets.messages import MessageList, MessageView, meta_line, typed
from coda_tui.ui.widgets.tool_calls import ToolCallView
from coda_tui.ui.widgets.voice import VoiceMeter

HISTORY_LIMIT = 200
# A paste past either size is held aside and shown as one line: the TextArea re-wraps its
# whole document on every edit, so a megabyte in it costs seconds per key (py-spy: a 1 MB
# paste spends its time in WrappedDocument.wrap). A few hundred lines stay editable.
COLLAPSE_CHARS = 10_000
COLLAPSE_LINES = 200


def paste_label(number: int, text: str) -> str:
    lines = text.count("\n") + (not text.endswith("\n"))
    return f"[pasted #{number} · {len(text):,} chars · {lines:,} lines]"


def is_big(text: str) -> bool:
    return len(text) > COLLAPSE_CHARS or text.count("\n", 0, COLLAPSE_CHARS + 1) > COLLAPSE_LINES


class ChatInput(TextArea):
    """Enter sends; Ctrl+J (or Shift+Enter where the terminal reports it) starts a new line;
    the history keys walk through earlier questions, keeping the draft.

    A big paste (or a big text loaded into it) is kept whole in `pastes` and shown as one
    label line, "[pasted #1 · 1,048,576 chars · 17,803 lines]"; `message` is the text with
    each label replaced by what it stands for, and is what is sent. Backspace or Delete next
    to a label removes it whole."""

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
        self.pastes: dict[str, str] = {}  # label -> the pasted text it stands for
        self._pasted = 0

    def _hold(self, text: str) -> str:
        """The label for a big text, kept aside until it is sent."""
        self._pasted += 1
        label = paste_label(self._pasted, text)
        self.pastes[label] = text
        return label

    @property
    def message(self) -> str:
        """The text to send: the input with each paste label expanded."""
        text = self.text
        for label, pasted in self.pastes.items():
            if label in text:
                text = text.replace(label, pasted)
        return text

    async def _on_paste(self, event) -> None:
        # Textual calls TextArea._on_paste after this one unless the default is prevented.
        if self.read_only or not is_big(event.text):
            return
        event.stop()
        event.prevent_default()
        # Terminals paste line ends as \r; the editor would have made them \n.
        text = event.text.replace("\r\n", "\n").replace("\r", "\n")
        if result := self._replace_via_keyboard(self._hold(text), *self.selection):
            self.move_cursor(result.end_location)
        self.focus()

    def load_text(self, text: str) -> None:
        # Given back to edit (a refused command, a failed turn, history): the cursor at the
        # end, so Ctrl+U clears it and typing goes after it, not in front.
        super().load_text(self._hold(text) if is_big(text) else text)
        self.move_cursor(self.document.end)

    def _label_at(self, before: bool) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The span of the paste label just before (or after) the cursor, if one is there."""
        if not self.selection.is_empty:
            return None
        row, col = self.cursor_location
        line = self.document[row]
        for label in self.pastes:
            start = col - len(label) if before else col
            if start >= 0 and line.startswith(label, start):
                return (row, start), (row, start + len(label))
        return None

    def action_delete_left(self) -> None:
        if span := self._label_at(before=True):
            self._delete_via_keyboard(*span)
            return
        super().action_delete_left()

    def action_delete_right(self) -> None:
        if span := self._label_at(before=False):
            self._delete_via_keyboard(*span)
            return
        super().action_delete_right()

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
        typed()
        await super()._on_key(event)

    def action_send(self) -> None:
        if not self.text.strip():
            return
        message = self.message
        self.remember(self.text)  # the labels, so that walking the history stays fast
        self.post_message(self.Submitted(message))
        self.clear()

    def action_newline(self) -> None:
        self.insert("\n")

    def remember(self, text: str) -> None:
        if not self.sent or self.sent[-1] != text:
            self.sent.append(text)
            del self.sent[:-HISTORY_LIMIT]
        self._history_pos = None
        # Keep only the pastes the history can still bring back.
        self.pastes = {label: p for label, p in self.pastes.items() if any(label in t for t in self.sent)}

    def action_history_previous(self) -> None:
        if not self.sent:
            return
        if self._history_pos is None:
            self._draft = self.text
            self._history_pos = len(self.sent)
        if self._history_pos > 0:
            self._history_pos -= 1
            self.load_text(self.sent[self._history_pos])

    def action_history_next(self) -> None:
        if self._history_pos is None:
            return
        self._history_pos += 1
        if self._history_pos >= len(self.sent):
            self._history_pos = None
            self.load_text(self._draft)
        else:
            self.load_text(self.sent[self._history_pos])


class ChatPane(Vertical):
    BORDER_TITLE = "Chat"
    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    ChatPane MessageList { height: 1fr; }
    """

    # The answer streaming in, while a turn runs.
    turn_view: MessageView | None = None
    # A stored message's text by id (the app's store): an opened tool call shows its whole result.
    load_message: Callable[[int], str | None] | None = None

    def follow(self, events: Dispatcher, retry_key: str) -> None:
        """Stream the running turn's answer into its message, and close it with the outcome;
        each tool call the turn makes is a block above the answer, live."""
        self._retry_key = retry_key
        self._calls: dict[str, list[ToolCallView]] = {}
        self._told_unavailable: set[tuple[str, str]] = set()
        events.on(ev.TokenChunk, self._token)
        events.on(ev.TurnFinished, self._turn_finished)
        events.on(ev.ToolCallStarted, self._tool_started)
        events.on(ev.ToolCallFinished, self._tool_finished)
        events.on(ev.ToolsUnavailable, self._tools_unavailable)

    def _tool_started(self, event: ev.ToolCallStarted) -> None:
        view = ToolCallView(event.call_id, event.name, event.arguments, load=self.load_message)
        # By id and in order: a model may give every round's call the same id (call_0).
        self._calls.setdefault(event.call_id, []).append(view)
        messages = self.messages
        # Above the answer being written: the calls are what the answer is made from.
        before = self.turn_view if self.turn_view is not None and self.turn_view.parent is messages else None
        messages.mount(view, before=before)
        messages.scroll_end(animate=False)

    def _tool_finished(self, event: ev.ToolCallFinished) -> None:
        running = self._calls.get(event.call_id)
        if running:
            view = running.pop(0)
            view.finish(event.status, event.duration_ms, event.excerpt, event.message_id)

    def _tools_unavailable(self, event: ev.ToolsUnavailable) -> None:
        # Once a provider and model: every turn with it would say the same.
        key = (event.provider, event.model)
        if key not in self._told_unavailable:
            self._told_unavailable.add(key)
            who = f"{event.provider} · {event.model}" if event.model else event.provider
            self.app.notify(f"No tools with {who}: {event.reason}. Answering without them.", severity="warning", timeout=10)

    def _token(self, event: ev.TokenChunk) -> None:
        if self.turn_view is not None:
            self.turn_view.append(event.text)

    def _turn_finished(self, event: ev.TurnFinished) -> None:
        # A call still open when the turn ends was cut off with it.
        for call in (view for views in self._calls.values() for view in views):
            call.finish("cancelled", call.duration_ms or 0.0, call.excerpt_text, call.message_id)
        self._calls.clear()
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
