"""Ctrl+O: open a file by typing a few letters of its path."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from coda_tui.context.fuzzy import rank
from coda_tui.textsafe import inert
from coda_tui.ui.keys import bind


class FileFinder(ModalScreen[str | None]):
    """Dismisses with a path relative to the project (or None)."""

    BINDINGS = [
        bind("cancel", "dismiss(None)", "Close", show=True),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("up", "move(-1)", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    FileFinder { align: center top; }
    FileFinder > Vertical { width: 80%; max-width: 120; height: 70%; margin-top: 2; border: thick $accent; background: $surface; padding: 0 1; }
    FileFinder OptionList { height: 1fr; }
    FileFinder .hint { color: $text-muted; height: 1; }
    """

    def __init__(self, paths: list[str]) -> None:
        super().__init__()
        self.paths = paths
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Open file ({len(self.paths):,} in the project)", markup=False)
            yield Input(placeholder="type part of a path, e.g. pipe.py or core/pl")
            yield OptionList()
            yield Label("Enter opens · ↑↓ choose · Esc closes · a path with :N opens at line N", classes="hint")

    def on_mount(self) -> None:
        self.show("")

    def show(self, query: str) -> None:
        self.shown = rank(query.split(":")[0], self.paths)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(inert(p)) for p in self.shown])
        if self.shown:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show(event.value)

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = max(0, min(options.option_count - 1, (options.highlighted or 0) + delta))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        index = self.query_one(OptionList).highlighted
        line = event.value.split(":")[1] if ":" in event.value else ""
        if index is not None and index < len(self.shown):
            self.dismiss(self.shown[index] + (f":{line}" if line.isdigit() else ""))
        elif event.value.strip():
            self.dismiss(event.value.strip())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.shown[event.option_index])
