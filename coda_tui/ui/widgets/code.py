"""The code pane: a file with line numbers and Pygments highlighting, live from disk.

Lines are drawn on demand (the line API), so a 20,000-line file costs only the lines on
screen. Highlighting runs in a thread after the first frame; until it lands the file
shows as plain text. When the file changes on disk it is reloaded, scroll position kept.
The pane is read-only: coda shows code, your editor changes it.
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
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from coda_tui.textsafe import inert
from coda_tui.ui.keys import bind

MAX_BYTES = 8 * 1024 * 1024
SNIFF = 8192

StyledLine = list[tuple[str, Style]]


class CodeView(ScrollView, can_focus=True):
    """The file, drawn line by line. A cursor line moves with the arrows; Shift+arrows
    select a range, which `a` attaches to the next question with its path and lines."""

    BINDINGS = [
        Binding("up", "move(-1)", show=False),
        Binding("down", "move(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "jump(0)", show=False),
        Binding("end", "jump(-1)", show=False),
        Binding("shift+up", "move(-1, True)", show=False),
        Binding("shift+down", "move(1, True)", show=False),
        bind("attach", label="Attach lines"),
    ]
    DEFAULT_CSS = "CodeView { height: 1fr; }"
    COMPONENT_CLASSES = {"code--gutter", "code--cursor", "code--selection"}

    class AttachLines(Message):
        def __init__(self, path: Path, first: int, last: int) -> None:
            super().__init__()
            self.path, self.first, self.last = path, first, last

    class GoToLine(Message):
        pass

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path: Path | None = None
        self.lines: list[str] = []
        self.styled: list[StyledLine] | None = None
        self.style_name = "monokai"
        self.cursor = 0
        self.anchor: int | None = None
        self._highlight_task: asyncio.Task | None = None

    # --- content -----------------------------------------------------------------------

    def show_text(self, text: str, language_hint: str = "", path: Path | None = None, keep_place: bool = False) -> None:
        if not keep_place:
            self.cursor, self.anchor = 0, None
        self.path = path
        self.lines = [inert(line) for line in text.splitlines()] or [""]
        self.styled = None
        self.cursor = min(self.cursor, len(self.lines) - 1)
        width = max((len(line) for line in self.lines), default=0) + self._gutter_width() + 1
        self.virtual_size = Size(width, len(self.lines))
        self.refresh()
        # Colours come after the first frame: lexing in a thread still holds the GIL
        # in turns, and would delay the plain text the reader can already use.
        self.call_after_refresh(self._highlight_later, text, language_hint)

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
        styled = await asyncio.to_thread(highlight, text, hint, self.style_name)
        if styled is not None and len(styled) == len(self.lines):
            self.styled = styled
            self.refresh()

    def _gutter_width(self) -> int:
        return len(str(len(self.lines))) + 2

    # --- cursor and selection ----------------------------------------------------------

    @property
    def selection(self) -> tuple[int, int]:
        """1-based inclusive line range: the selection, or the cursor line."""
        a = self.cursor if self.anchor is None else self.anchor
        first, last = sorted((a, self.cursor))
        return first + 1, last + 1

    def action_move(self, delta: int, select: bool = False) -> None:
        if select and self.anchor is None:
            self.anchor = self.cursor
        elif not select:
            self.anchor = None
        self._set_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.anchor = None
        self._set_cursor(self.cursor + direction * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        self.anchor = None
        self._set_cursor(0 if where == 0 else len(self.lines) - 1)

    def _set_cursor(self, line: int) -> None:
        self.cursor = max(0, min(len(self.lines) - 1, line))
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)
        self.refresh()

    def go_to_line(self, line: int) -> None:
        self.anchor = None
        self.cursor = max(0, min(len(self.lines) - 1, line - 1))
        self.scroll_to(y=max(0, self.cursor - self.size.height // 3), animate=False)
        self.refresh()

    def action_attach(self) -> None:
        if self.path is not None and self.lines:
            first, last = self.selection
            self.post_message(self.AttachLines(self.path, first, last))
            self.anchor = None
            self.refresh()

    def action_go_to_line(self) -> None:
        self.post_message(self.GoToLine())

    # --- drawing -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        if index >= len(self.lines):
            return Strip.blank(self.size.width, self.rich_style)
        gutter = self.get_component_rich_style("code--gutter")
        gw = self._gutter_width()
        number = Strip([Segment(f"{index + 1:>{gw - 1}} ", gutter)])
        view_w = max(0, self.size.width - gw)
        # Only what can reach the screen is measured: a 100,000-character line would be
        # measured cell by cell on every frame. A character is a cell or more, except
        # combining marks, hence the margin.
        limit = 2 * (scroll_x + view_w) + 16
        if self.styled is not None:
            segments, used = [], 0
            for text, style in self.styled[index]:
                if used >= limit:
                    break
                segments.append(Segment(text[: limit - used], style))
                used += len(text)
            code = Strip(segments)
        else:
            code = Strip([Segment(self.lines[index][:limit])])
        code = code.crop(scroll_x, scroll_x + view_w)
        strip = Strip.join([number, code]).extend_cell_length(self.size.width)
        first, last = self.selection
        if self.anchor is not None and first - 1 <= index <= last - 1:
            strip = strip.apply_style(self.get_component_rich_style("code--selection"))
        elif index == self.cursor and self.has_focus:
            strip = strip.apply_style(self.get_component_rich_style("code--cursor"))
        return strip

    def watch_has_focus(self, value: bool) -> None:
        self.refresh()  # the cursor line shows only while focused


def highlight(text: str, hint: str, style_name: str) -> list[StyledLine] | None:
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
            known = ttype
            # Newer lexers emit token types (Name.Builtin.Type) older styles never heard
            # of; the nearest ancestor a style knows stands in for them.
            while not pstyle.styles_token(known) and known.parent is not None:
                known = known.parent
            s = pstyle.style_for_token(known)
            cache[ttype] = Style(color=f"#{s['color']}" if s["color"] else None, bold=s["bold"] or None,
                                 italic=s["italic"] or None, underline=s["underline"] or None)
        return cache[ttype]

    lines: list[StyledLine] = [[]]
    for ttype, value in lexer.get_tokens(text):
        style = rich_style(ttype)
        for i, part in enumerate(value.split("\n")):
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
    CodeView > .code--cursor { background: $boost; }
    CodeView > .code--selection { background: $accent 30%; }
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

    def open_file(self, path: Path, label: str | None = None, keep_place: bool = False) -> str | None:
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
        self.label = label or str(path)
        self.query_one("#code-path", Static).update(inert(self.label) + "  (read-only · shift+↑↓ select · a attach)")
        self.view.show_text(data.decode("utf-8", errors="replace"), path.name, path, keep_place=keep_place)
        return None

    def reload(self) -> None:
        """The file changed on disk: show the new text where the reader was."""
        view = self.view
        if view.path is None:
            return
        y = view.scroll_offset.y
        if self.open_file(view.path, self.label, keep_place=True) is None:
            view.scroll_to(y=y, animate=False)
