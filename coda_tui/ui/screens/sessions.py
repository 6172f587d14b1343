"""The sessions view: list, search as you type, resume, rename, delete, branch, new."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from coda_tui.core.sessions import SessionError, Sessions
from coda_tui.store.sessions import Session
from coda_tui.textsafe import inert
from coda_tui.ui.keys import bind
from coda_tui.ui.screens.dialogs import Ask, Confirm


class SessionsScreen(ModalScreen[int | None]):
    """Dismisses with the id of the session to open (or None)."""

    BINDINGS = [
        bind("cancel", "dismiss(None)", "Close", show=True),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        # Priority: the search box is focused, and Input keeps ctrl+d for itself.
        bind("rename_session", "rename"),
        bind("delete_session", "delete"),
        bind("branch_session", "branch"),
    ]
    DEFAULT_CSS = """
    SessionsScreen { align: center middle; }
    SessionsScreen > Vertical { width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1; }
    SessionsScreen OptionList { height: 1fr; }
    SessionsScreen .hint { color: $text-muted; height: 1; }
    """

    def __init__(self, actions: Sessions, current: int | None) -> None:
        super().__init__()
        # Through core (core/sessions.py), which makes the same checks for `coda sessions`.
        self.actions = actions
        self.current = current
        self.sessions: list[Session] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Sessions", classes="title")
            yield Input(placeholder="search names and messages…", id="session-search")
            yield OptionList(id="session-list")
            yield Label("Enter open · F2 rename · ctrl+d delete · ctrl+b branch · Esc close", classes="hint")

    def on_mount(self) -> None:
        self.refresh_list("")

    def refresh_list(self, query: str) -> None:
        self.sessions = self.actions.list(query, 50 if query.strip() else 200)
        options = self.query_one(OptionList)
        options.clear_options()
        for s in self.sessions:
            mark = "▶ " if s.id == self.current else "  "
            when = s.updated_at[:16].replace("T", " ")
            options.add_option(Option(inert(f"{mark}{s.name}  ·  {s.message_count} msgs  ·  {when}"), id=str(s.id)))
        if self.sessions:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refresh_list(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._open()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._open()

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = max(0, min(options.option_count - 1, (options.highlighted or 0) + delta))

    def _chosen(self) -> Session | None:
        index = self.query_one(OptionList).highlighted
        return self.sessions[index] if index is not None and index < len(self.sessions) else None

    def _open(self) -> None:
        chosen = self._chosen()
        if chosen:
            self.dismiss(chosen.id)

    def action_rename(self) -> None:
        chosen = self._chosen()
        if chosen is None:
            return

        def done(name: str | None) -> None:
            if name and name.strip():
                self._act(self.actions.rename, chosen.id, name)

        self.app.push_screen(Ask("Rename session", chosen.name), done)

    def action_delete(self) -> None:
        chosen = self._chosen()
        if chosen is None:
            return

        def done(yes: bool | None) -> None:
            if yes:
                self._act(self.actions.delete, chosen.id)

        self.app.push_screen(Confirm(f"Delete '{chosen.name}' and its {chosen.message_count} messages?"), done)

    def action_branch(self) -> None:
        chosen = self._chosen()
        if chosen is None:
            return
        try:
            branch = self.actions.branch(chosen.id)
        except SessionError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.dismiss(branch.id)

    def _act(self, action, *args) -> None:
        """A change to a listed session; one that failed is said, and the list shows what is."""
        try:
            action(*args)
        except SessionError as exc:
            self.notify(str(exc), severity="error")
        self.refresh_list(self.query_one(Input).value)
