"""The main screen's arrangement of the panes in coda_tui/panes.py: which show (saved in
UIState, or for this run only on a narrow terminal), where focus goes on Tab and on a
pane's focus key, and zoom."""

from __future__ import annotations

from textual.screen import Screen
from textual.widget import Widget

from coda_tui.panes import RIGHT
from coda_tui.ui.panes import BY_ID, FOCUS_ORDER, NARROW, PANE_OF, PANES, Pane
from coda_tui.ui.state import UIState


class Layout:
    def __init__(self, screen: Screen, state: UIState) -> None:
        self.screen = screen
        self.state = state
        # Panes toggled on for this run on a narrow screen; the saved layout is for wide ones.
        self.narrow_shown: set[str] = set()

    @property
    def narrow(self) -> bool:
        return self.screen.size.width < NARROW

    def shown(self, pane: Pane) -> bool:
        if pane.toggle_action is None:
            return True
        wanted = self.state.shown(pane.id)
        return wanted and not (self.narrow and pane.hidden_when_narrow and pane.id not in self.narrow_shown)

    def apply(self) -> None:
        screen = self.screen
        for pane in PANES:
            if pane.toggle_action is not None:  # the others are always shown
                screen.query_one(f"#{pane.id}").display = self.shown(pane)
        # The right column shows while one of its panes does.
        screen.query_one("#right").display = any(
            screen.query_one(f"#{pane.id}").display for pane in PANES if pane.column == RIGHT
        )

    def toggle(self, pane_id: str) -> None:
        pane = BY_ID[pane_id]
        if self.narrow and pane.hidden_when_narrow:
            self.narrow_shown.symmetric_difference_update({pane_id})
            if pane_id in self.narrow_shown and not self.state.shown(pane_id):
                self.state.show(pane_id, True)
        else:
            self.state.show(pane_id, not self.state.shown(pane_id))
            self.state.save()
        self.apply()
        focused = self.screen.focused
        if focused is not None and not self.visible(focused):
            self.screen.query_one(f"#{FOCUS_ORDER[0]}").focus()

    def visible(self, widget: Widget) -> bool:
        node = widget
        while node is not None and node is not self.screen:
            if not node.display:
                return False
            node = node.parent
        return True

    def cycle(self, step: int) -> None:
        focused = self.screen.focused
        start = FOCUS_ORDER.index(focused.id) if focused is not None and focused.id in FOCUS_ORDER else -1
        for k in range(1, len(FOCUS_ORDER) + 1):
            widget = self.screen.query_one(f"#{FOCUS_ORDER[(start + step * k) % len(FOCUS_ORDER)]}")
            # An empty list is no place to stop, nor the waterfall before a turn.
            if self.visible(widget) and widget.focusable and getattr(widget, "option_count", 1):
                widget.focus()
                return

    def focus(self, pane_id: str) -> None:
        target = self.screen.query_one(f"#{BY_ID[pane_id].stops[0]}")
        if not self.visible(target):
            self.toggle(pane_id)
        target.focus()

    def zoom(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = self.screen.focused
        pane_id = PANE_OF.get(focused.id) if focused is not None else None
        if pane_id:
            screen.maximize(self.screen.query_one(f"#{pane_id}"), container=False)
