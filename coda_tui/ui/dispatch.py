"""The app's one subscriber to the core's events: each event goes, by its type, to the
handlers the panes registered for it.

The core publishes synchronously on the app's loop, once per token while a turn streams:
a dict lookup and the handlers' own bookkeeping (append to a buffer, mark for refresh) is
all that happens here, so a fast stream costs one redraw a frame, not one per token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Dispatcher:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], None]]] = {}

    def on(self, kind: type, handler: Callable[[Any], None]) -> None:
        """Call `handler(event)` for each event of type `kind`, after those registered before."""
        self._handlers.setdefault(kind, []).append(handler)

    def __call__(self, event: object) -> None:
        for handler in self._handlers.get(type(event), ()):
            handler(event)
