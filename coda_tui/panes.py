"""The main screen's panes as plain facts, declared once: everything else about a pane is
derived from its row here — its focus and show/hide actions (coda_tui.actions), whether it
is shown (ui.state.UIState), the layout, the Tab order and the focus keys' targets (ui/).

Why the declaration sits here and not in ui/: the action registry (coda_tui.actions) makes
each pane's focus_<id> and toggle_<id> rows from it, and nothing below ui/ may import ui/.
Only what needs Textual stays in ui/panes.py: which widget a pane id is. The focus stops are
widget ids, plain strings, so they stay in the row with the rest and the whole list can be
read (or extended, see tests/ui/test_new_pane.py) before anything is derived from it.

A new pane: its widget, one Pane row below plus its widget in ui/panes.py, and keys for
focus_<id> and toggle_<id> in keymaps/default.toml.
"""

from __future__ import annotations

from dataclasses import dataclass

# The layout is a row of columns, left to right; the right one stacks its panes.
LEFT, CENTRE, RIGHT = "left", "centre", "right"
COLUMNS = (LEFT, CENTRE, RIGHT)


@dataclass(frozen=True)
class Pane:
    id: str  # the pane widget's id
    title: str  # also its show/hide action's footer label
    column: str
    # The focusable widgets inside it (their ids), in Tab order; focus_<id> lands on the first.
    stops: tuple[str, ...]
    # False: always shown, with no toggle action (the chat).
    toggles: bool = True
    # Shown until the user hides it.
    shown: bool = True
    # On a narrow terminal, shown only when toggled on for the run.
    hidden_when_narrow: bool = False
    # How the help names it; "the <title> pane" when empty.
    called: str = ""

    def __post_init__(self) -> None:
        # A slip in a new row shows when coda starts, not as a pane that silently never appears.
        if self.column not in COLUMNS:
            raise ValueError(f"pane {self.id!r}: column {self.column!r} is not one of {', '.join(COLUMNS)}")
        if not self.stops:
            raise ValueError(f"pane {self.id!r}: no focus stops, so focus_{self.id} has nowhere to land")

    @property
    def focus_action(self) -> str:
        return f"focus_{self.id}"

    @property
    def toggle_action(self) -> str | None:
        return f"toggle_{self.id}" if self.toggles else None

    @property
    def name(self) -> str:
        return self.called or f"the {self.title.lower()} pane"


# In Tab order (and the order of the focus actions); where each sits is its column.
PANES: tuple[Pane, ...] = (
    Pane("chat", "Chat", CENTRE, ("chat-input", "messages"), toggles=False, called="the chat"),
    Pane("code", "Code", RIGHT, ("code-view",), hidden_when_narrow=True),
    Pane("context", "Context", LEFT, ("context-filter", "project-tree", "context-results", "attachments"),
         hidden_when_narrow=True),
    Pane("pipeline", "Pipeline", RIGHT, ("pipeline-history", "waterfall")),
)


def in_layout_order() -> list[Pane]:
    """The panes as the screen shows them: column by column, left to right, each column's in
    PANES order (top to bottom). Read at call time, so an extended PANES counts."""
    return sorted(PANES, key=lambda p: COLUMNS.index(p.column))
