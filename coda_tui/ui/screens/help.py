"""F1: every action and its keys, from the keymap in force."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from coda_tui.ui.keys import bind


class HelpScreen(ModalScreen[None]):
    BINDINGS = [bind("cancel", "dismiss", "Close", show=True), Binding("f1", "dismiss", show=False), Binding("q", "dismiss", show=False)]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 80%; height: 85%; border: thick $accent; background: $surface; padding: 0 1; }
    HelpScreen DataTable { height: 1fr; }
    """

    def __init__(self, keymap_name: str, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.keymap_name = keymap_name
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Keys — keymap '{self.keymap_name}' (Esc closes)", markup=False)
            table = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("keys", "action", "what it does")
            for keys, action, description in self.rows:
                table.add_row(keys, action, description)
            yield table
