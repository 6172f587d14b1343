"""One Markdown document of a streamed answer, which remembers its height once written.

Imported when the first answer is drawn: it brings in the Markdown parser (markdown-it),
which the first frame, with no answer on it, does not need.

Textual measures a container by arranging its children in a box as tall as the container's
own parent (layout.get_content_height), and caches the result under that size. A streaming
answer grows with every update, so each of its earlier documents is measured again in a
taller box, which misses every cache below it: every block of the whole answer is
arranged again at each update (py-spy on tui_stream: 70 % of Compositor.reflow).
Block heights are `auto`, so the box's height never changes the result; a finished
document's height depends only on the width it is laid out at.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widgets import Markdown


class AnswerDocument(Markdown):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.written = False  # set once no more text will be appended
        self._height: tuple[object, int] = (None, 0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self.written:
            return super().get_content_height(container, viewport, width)
        # The children count too: a block mounted late (the stream's last append) changes it.
        key = (width, self._nodes._updates)
        if self._height[0] != key:
            self._height = (key, super().get_content_height(container, viewport, width))
        return self._height[1]
