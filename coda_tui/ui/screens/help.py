"""F1: every action and its keys, from the keymap in force; /help: the slash commands."""

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

    def __init__(self, title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        super().__init__()
        self.title_text = title
        self.columns = columns
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, markup=False)
            table = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns(*self.columns)
            for row in self.rows:
                table.add_row(*row)
            yield table
