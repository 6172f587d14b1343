"""An answer as `coda shell` writes it: raw text to a pipe; on a terminal, Markdown
rendered by Rich one block at a time.

On a terminal each block (a paragraph, a list, a heading, a fenced code block) streams as
plain text while it arrives, and once it closes — a blank line outside a fence, or the
fence's end, or the answer's end — the rows it took are cleared and it is drawn again,
rendered. So a long answer streams as it comes, and what stays on screen is the rendered
text. Everything from the model is made inert first; links are shown as text, never as
terminal hyperlinks (whose target could differ from what they say).
"""

from __future__ import annotations

import re

from coda_tui.textsafe import inert

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
TAB = 8


class RawAnswer:
    """A pipe's: the model's text as it came (inert), nothing else."""

    def __init__(self, out) -> None:
        self.out = out
        self.ends_line = True

    def write(self, text: str) -> None:
        if text:
            self.out.write(inert(text))
            self.out.flush()
            self.ends_line = text.endswith("\n")

    def finish(self) -> None:
        if not self.ends_line:
            self.out.write("\n")
        self.out.flush()
        self.ends_line = True


class MarkdownAnswer:
    """A terminal's: blocks streamed plain, then replaced by their rendering as they close."""

    def __init__(self, out, width: int, height: int) -> None:
        from rich.console import Console

        self.out = out
        self.width = max(20, width)
        self.height = height
        self.console = Console(file=out, width=self.width, force_terminal=True, highlight=False, soft_wrap=False)
        self.block = ""  # the open block's text
        self.line = ""  # the open block's unfinished last line
        self.fence: str | None = None  # the open fence's marker, inside a code block
        self.rows = 0  # terminal rows below the block's first, where the cursor is
        self.col = 0
        self.drawn = False  # a block was rendered: the next one is a blank line below it

    def write(self, text: str) -> None:
        for piece in inert(text).splitlines(keepends=True):
            if not self.block and not piece.strip():
                continue  # blank lines between blocks: rendering spaces them
            if not self.block and self.drawn:
                self.out.write("\n")
            self._plain(piece)
            self.block += piece
            self.line += piece
            if piece.endswith("\n"):
                self._line_done(self.line[:-1])
                self.line = ""
        self.out.flush()

    def finish(self) -> None:
        """The answer ended (or was stopped): its last block is drawn rendered."""
        self._render()
        self.out.flush()

    # --- blocks ---------------------------------------------------------------------------

    def _line_done(self, line: str) -> None:
        marker = _FENCE.match(line)
        if self.fence is None:
            if marker:
                self.fence = marker.group(1)[0] * len(marker.group(1))
            elif not line.strip() and self.block.strip():
                self._render()
        elif marker and marker.group(1).startswith(self.fence) and not line.strip()[len(marker.group(1)):]:
            self.fence = None
            self._render()

    def _render(self) -> None:
        from rich.markdown import Markdown

        text = self.block
        if not text.strip():
            return
        if self.rows >= self.height - 1:
            # Taller than the screen: its first rows have scrolled out of reach of the
            # cursor, so it cannot be cleared and redrawn. It stays as it streamed.
            self.out.write("" if text.endswith("\n") else "\n")
            self.block, self.line, self.rows, self.col = "", "", 0, 0
            self.drawn = True
            return
        # Back to the block's first row, and clear from there down.
        self.out.write("\r" + (f"\x1b[{self.rows}A" if self.rows else "") + "\x1b[J")
        self.console.print(Markdown(text, hyperlinks=False, code_theme="monokai"))
        self.block, self.line, self.rows, self.col = "", "", 0, 0
        self.drawn = True

    def _plain(self, text: str) -> None:
        """Write streamed text and follow the cursor: which row of the block it is on."""
        from rich.cells import cell_len

        self.out.write(text)
        for ch in text:
            if ch == "\n":
                self.rows, self.col = self.rows + 1, 0
                continue
            w = TAB - self.col % TAB if ch == "\t" else cell_len(ch)
            if self.col + w > self.width:  # the terminal wraps the line here
                self.rows, self.col = self.rows + 1, 0
            self.col += w


def answer_for(out) -> RawAnswer | MarkdownAnswer:
    """Rendered Markdown on a terminal that can show it; raw text on a pipe or a dumb terminal."""
    import os
    import shutil

    if not (hasattr(out, "isatty") and out.isatty()) or os.environ.get("TERM") == "dumb":
        return RawAnswer(out)
    size = shutil.get_terminal_size()
    return MarkdownAnswer(out, size.columns, size.lines)
