"""A tool call in the conversation: one collapsed block (the tool, a summary of its
arguments, its status and time, the first line of its result) that opens to the whole
result. It is drawn live from the turn's events and again from the stored tool messages
when a session is opened."""

from __future__ import annotations

import json
from collections.abc import Callable

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static

from coda_tui.store.sessions import Message
from coda_tui.textsafe import inert
from coda_tui.tools.base import summarize_arguments

MARKS = {"running": "…", "ok": "✓", "error": "✗", "denied": "⊘", "cancelled": "■"}
# A stored tool message's status, in the words of the live events.
STORED = {"complete": "ok", "error": "error", "cancelled": "cancelled", "partial": "cancelled"}
EXCERPT_CHARS = 100
# An opened result shows at most this much (results are capped by [tools] output_chars, but
# an MCP server's need not be): laying out a megabyte would hold the app's only thread.
RESULT_CHARS = 16_000


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first line of a result that says something, cut to `limit`."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def argument_summary(arguments: str) -> str:
    """A stored call's JSON arguments as the one line the live events carry."""
    try:
        args = json.loads(arguments or "{}")
    except ValueError:
        return " ".join(arguments.split())[:60]
    return summarize_arguments(args) if isinstance(args, dict) else " ".join(str(args).split())[:60]


class ToolCallView(Vertical):
    """Enter or space (on the selected message) or a click opens and closes it."""

    DEFAULT_CSS = """
    ToolCallView { height: auto; padding: 0 1; margin: 0 0 1 2; border-left: outer $panel-lighten-2; }
    ToolCallView .tool-head { color: $text-muted; }
    ToolCallView .tool-excerpt { color: $text-muted; text-style: italic; text-wrap: nowrap; text-overflow: ellipsis; }
    ToolCallView .tool-body { height: auto; display: none; margin: 1 0 0 0; }
    ToolCallView.-open .tool-body { display: block; }
    ToolCallView.-open .tool-excerpt { display: none; }
    ToolCallView.-error { border-left: outer $error; }
    ToolCallView.-selected { background: $boost; }
    """

    role = "tool"

    def __init__(self, call_id: str, name: str, arguments: str, *, status: str = "running",
                 duration_ms: float | None = None, excerpt_text: str = "", result: str | None = None,
                 message_id: int | None = None, error: str | None = None,
                 load: Callable[[int], str | None] | None = None) -> None:
        super().__init__()
        self.call_id, self.tool, self.arguments = call_id, name, arguments
        self.status, self.duration_ms = status, duration_ms
        self.excerpt_text = excerpt_text
        self.result = result  # the whole result, once known (a stored message, or loaded on opening)
        self.message_id = message_id
        self.error = error
        self.open = False
        self._load = load

    @classmethod
    def stored(cls, m: Message, arguments: str = "") -> ToolCallView:
        status = STORED.get(m.status, m.status)
        if status == "error" and (m.error or "").startswith("denied"):
            status = "denied"
        return cls(m.tool_call_id or "", m.tool_name or "tool",
                   argument_summary(arguments), status=status, excerpt_text=excerpt(m.content or m.error or ""),
                   result=m.content, message_id=m.id, error=m.error)

    @property
    def text(self) -> str:
        """What copying this message copies: the result."""
        return self.result if self.result is not None else self.excerpt_text

    def compose(self):
        yield Static(self._head(), classes="tool-head")
        yield Static(Text(inert(self.excerpt_text)), classes="tool-excerpt")
        yield Static(Text(""), classes="tool-body")

    def on_mount(self) -> None:
        self.set_class(self.status in ("error", "denied"), "-error")

    def _head(self) -> Text:
        took = f" · {self.duration_ms:,.0f} ms" if self.duration_ms is not None else ""
        out = Text()
        out.append("▾ " if self.open else "▸ ")
        out.append(inert(self.tool), style="bold")
        if self.arguments:
            out.append(" " + inert(self.arguments))
        out.append(f"  {MARKS.get(self.status, '?')} {self.status}{took}")
        return out

    def finish(self, status: str, duration_ms: float | None, excerpt_text: str, message_id: int | None) -> None:
        self.status, self.duration_ms, self.excerpt_text = status, duration_ms, excerpt_text
        self.message_id = message_id
        self.set_class(status in ("error", "denied"), "-error")
        # A quick call can finish between this block's compose and its mount: whatever
        # exists is updated, and what is composed later reads the new state.
        if self.query(".tool-head"):
            self.query_one(".tool-head", Static).update(self._head())
            self.query_one(".tool-excerpt", Static).update(Text(inert(excerpt_text)))
            if self.open:
                self._fill()

    def toggle(self) -> None:
        self.open = not self.open
        self.set_class(self.open, "-open")
        self.query_one(".tool-head", Static).update(self._head())
        if self.open:
            self._fill()

    def _fill(self) -> None:
        if self.result is None and self.message_id is not None and self._load is not None:
            self.result = self._load(self.message_id)
        text = self.result if self.result is not None else (self.excerpt_text or "(running)")
        shown = text if len(text) <= RESULT_CHARS else text[:RESULT_CHARS] + f"\n… {len(text) - RESULT_CHARS:,} more characters"
        self.query_one(".tool-body", Static).update(Text(inert(shown) or "(no output)"))

    def on_click(self) -> None:
        self.toggle()
