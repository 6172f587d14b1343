"""The code pane: a file with line numbers and Pygments highlighting, live from disk.

Lines are drawn on demand (the line API), so a 20,000-line file costs only the lines on
screen. Highlighting runs in a thread after the first frame; until it lands the file
shows as plain text. When the file changes on disk it is reloaded, scroll position kept.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pygments.lexers import get_lexer_for_filename, guess_lexer
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from coda_tui.textsafe import inert

MAX_BYTES = 8 * 1024 * 1024
SNIFF = 8192


class CodeView(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up", "scroll_up", show=False),
        Binding("down", "scroll_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home", "scroll_home", show=False),
        Binding("end", "scroll_end", show=False),
    ]
    DEFAULT_CSS = "CodeView { height: 1fr; }"
    COMPONENT_CLASSES = {"code--gutter"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path: Path | None = None
        self.lines: list[str] = []
        self.styled: list[list[tuple[str, Style]]] | None = None
        self.style_name = "monokai"
        self._highlight_task: asyncio.Task | None = None

    # --- content -----------------------------------------------------------------------

    def show_text(self, text: str, language_hint: str = "", path: Path | None = None) -> None:
        self.path = path
        self.lines = [inert(line) for line in text.splitlines()] or [""]
        self.styled = None
        width = max((len(line) for line in self.lines), default=0) + self._gutter_width() + 1
        self.virtual_size = Size(width, len(self.lines))
        self.refresh()
        self._highlight_later(text, language_hint)

    def set_style(self, name: str) -> None:
        if name != self.style_name:
            self.style_name = name
            if self.lines:
                self._highlight_later("\n".join(self.lines), self.path.name if self.path else "")

    def _highlight_later(self, text: str, hint: str) -> None:
        if self._highlight_task is not None:
            self._highlight_task.cancel()
        self._highlight_task = asyncio.create_task(self._highlight(text, hint))

    async def _highlight(self, text: str, hint: str) -> None:
        styled = await asyncio.to_thread(_highlight, text, hint, self.style_name)
        if styled is not None and len(styled) == len(self.lines):
            self.styled = styled
            self.refresh()

    def _gutter_width(self) -> int:
        return len(str(len(self.lines))) + 2

    # --- drawing -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        if index >= len(self.lines):
            return Strip.blank(self.size.width)
        gutter = self.get_component_rich_style("code--gutter")
        gw = self._gutter_width()
        number = Strip([Segment(f"{index + 1:>{gw - 1}} ", gutter)])
        if self.styled is not None:
            code = Strip([Segment(text, style) for text, style in self.styled[index]])
        else:
            code = Strip([Segment(self.lines[index])])
        code = code.crop(scroll_x, scroll_x + max(0, self.size.width - gw))
        return Strip.join([number, code]).extend_cell_length(self.size.width)

    def go_to_line(self, line: int) -> None:
        self.scroll_to(y=max(0, line - 1 - self.size.height // 3), animate=False)


def _highlight(text: str, hint: str, style_name: str) -> list[list[tuple[str, Style]]] | None:
    """Per-line (text, style) runs for the whole file; runs in a worker thread."""
    try:
        lexer = get_lexer_for_filename(hint, stripnl=False, ensurenl=False) if hint else guess_lexer(text)
    except ClassNotFound:
        return None
    try:
        pstyle = get_style_by_name(style_name)
    except ClassNotFound:
        pstyle = get_style_by_name("default")
    cache: dict = {}

    def rich_style(ttype) -> Style:
        if ttype not in cache:
            s = pstyle.style_for_token(ttype)
            cache[ttype] = Style(color=f"#{s['color']}" if s["color"] else None, bold=s["bold"] or None,
                                 italic=s["italic"] or None, underline=s["underline"] or None)
        return cache[ttype]

    lines: list[list[tuple[str, Style]]] = [[]]
    for ttype, value in lexer.get_tokens(text):
        style = rich_style(ttype)
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                lines[-1].append((inert(part), style))
    if lines and not lines[-1] and text.endswith("\n"):
        lines.pop()
    return lines


class CodePane(Vertical):
    BORDER_TITLE = "Code"
    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    CodePane #code-path { height: 1; color: $text-muted; }
    CodeView > .code--gutter { color: $text-muted; }
    """

    def compose(self):
        yield Static("no file open: ctrl+o opens one; code from the chat shows here too", id="code-path", markup=False)
        yield CodeView(id="code-view")

    @property
    def view(self) -> CodeView:
        return self.query_one(CodeView)

    def show_snippet(self, code: str, label: str) -> None:
        self.query_one("#code-path", Static).update(label)
        self.view.show_text(code)

    def open_file(self, path: Path) -> str | None:
        """Show a file; returns an error message instead of showing garbage."""
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                return f"{path}: {size:,} bytes is too large to show"
            data = path.read_bytes()
        except OSError as exc:
            return f"{path}: {exc.strerror}"
        if b"\0" in data[:SNIFF]:
            return f"{path}: binary file, not shown"
        self.query_one("#code-path", Static).update(inert(str(path)))
        self.view.show_text(data.decode("utf-8", errors="replace"), path.name, path)
        return None

    def reload(self) -> None:
        view = self.view
        if view.path is None:
            return
        y = view.scroll_offset.y
        self.open_file(view.path)
        view.scroll_to(y=y, animate=False)
