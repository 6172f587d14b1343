"""The Textual side of the panes declared in coda_tui/panes.py: the widget each pane id is,
and what is derived from the list: the Tab order, which pane a focused widget belongs to,
and the width below which the screen is narrow.

A new pane is its widget, one Pane row in coda_tui/panes.py, its entry in WIDGETS below, and
its keys in keymaps/default.toml; its actions, state, place and focus stops follow.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen
from textual.widget import Widget

from coda_tui.panes import PANES, Pane
from coda_tui.ui.widgets.chat import ChatPane
from coda_tui.ui.widgets.code import CodePane
from coda_tui.ui.widgets.context import ContextPane
from coda_tui.ui.widgets.pipeline import PipelinePane

__all__ = ["BY_ID", "FOCUS_ORDER", "NARROW", "PANES", "PANE_OF", "WIDGETS", "Pane", "widget"]

# Below this many columns the screen is narrow: panes marked so hide unless toggled on.
NARROW = 100

# Pane id -> its widget, made for the main screen (which knows the project) under that id.
WIDGETS: dict[str, Callable[[Screen, str], Widget]] = {
    "chat": lambda screen, pane_id: ChatPane(id=pane_id),
    "code": lambda screen, pane_id: CodePane(id=pane_id),
    "context": lambda screen, pane_id: ContextPane(screen.project, id=pane_id),
    "pipeline": lambda screen, pane_id: PipelinePane(id=pane_id),
}

BY_ID = {p.id: p for p in PANES}
# Tab stops, in order: the chat input, the conversation, then the other panes.
FOCUS_ORDER: tuple[str, ...] = tuple(stop for p in PANES for stop in p.stops)
PANE_OF: dict[str, str] = {stop: p.id for p in PANES for stop in p.stops}


def widget(screen: Screen, pane: Pane) -> Widget:
    try:
        make = WIDGETS[pane.id]
    except KeyError:
        # A declared pane without a widget is a programming slip: say which, at start-up.
        raise LookupError(f"pane {pane.id!r} is declared in coda_tui/panes.py but has no widget in ui/panes.WIDGETS") from None
    return make(screen, pane.id)
