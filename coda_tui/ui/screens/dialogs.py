"""Small modal dialogs: ask for a line of text, or a yes/no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from coda_tui.ui.keys import bind


class Ask(ModalScreen[str | None]):
    """One line of text; Enter gives it, Esc gives None."""

    BINDINGS = [bind("cancel", "dismiss(None)", "Cancel", show=True)]
    DEFAULT_CSS = """
    Ask { align: center middle; }
    Ask > Vertical { width: 70%; max-width: 90; height: auto; border: thick $accent; background: $surface; padding: 1 2; }
    Ask Label { margin-bottom: 1; }
    """

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question, self.value, self.placeholder = question, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, markup=False)
            yield Input(self.value, placeholder=self.placeholder)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class Confirm(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "dismiss(True)", "Yes"),
        Binding("n", "dismiss(False)", "No"),
        bind("cancel", "dismiss(False)", "No", show=False),
    ]
    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical { width: auto; max-width: 80; height: auto; border: thick $error; background: $surface; padding: 1 2; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, markup=False)
            yield Label("y: yes   n / Esc: no", classes="hint")
