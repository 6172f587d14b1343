"""The main screen's panes, declared once, and what is derived from the list: the Tab
order, which pane a focused widget belongs to, the focus and show/hide actions, and which
panes a narrow terminal leaves out.

A new pane is its widget (composed in ui/app.py), one Pane here, and its keys in
keymaps/default.toml (with its actions in coda_tui/actions.py).
"""

from __future__ import annotations

from dataclasses import dataclass

# Below this many columns the screen is narrow: panes marked so hide unless toggled on.
NARROW = 100


@dataclass(frozen=True)
class Pane:
    id: str  # the pane widget's id
    title: str
    focus_action: str
    # None: always shown (the chat).
    toggle_action: str | None
    # The focusable widgets inside it, in Tab order; the first is where focus_action lands.
    stops: tuple[str, ...]
    # On a narrow terminal, shown only when toggled on for the run.
    hidden_when_narrow: bool = False

    @property
    def state_key(self) -> str:
        """Its show/hide field in ui.state.UIState."""
        return f"show_{self.id}"


PANES: tuple[Pane, ...] = (
    Pane("chat", "Chat", "focus_chat", None, ("chat-input", "messages")),
    Pane("code", "Code", "focus_code", "toggle_code", ("code-view",), hidden_when_narrow=True),
    Pane("context", "Context", "focus_context", "toggle_context",
         ("context-filter", "project-tree", "context-results", "attachments"), hidden_when_narrow=True),
    Pane("pipeline", "Pipeline", "focus_pipeline", "toggle_pipeline", ("pipeline-history",)),
)

BY_ID = {p.id: p for p in PANES}
# Tab stops, in order: the chat input, the conversation, then the other panes.
FOCUS_ORDER: tuple[str, ...] = tuple(stop for p in PANES for stop in p.stops)
PANE_OF: dict[str, str] = {stop: p.id for p in PANES for stop in p.stops}
