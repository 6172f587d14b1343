"""Consent before a tool changes something: the diff (highlighted) or the command, the tool
and its arguments; y yes, n / Esc no, a yes for the rest of this session.

`ConsentDialogs` is the app's `tools.base.Consent`: the turn awaits it, and a request that
arrives while a dialog is open (parallel calls, MCP tools) waits for it to close, in order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from rich.syntax import Syntax
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from coda_tui.textsafe import inert
from coda_tui.tools.base import ConsentAnswer, ConsentRequest
from coda_tui.ui.keys import bind

# What the body is, for the highlighter: a unified diff, a shell command, or JSON arguments.
LEXERS = {"edit": "diff", "write": "diff", "command": "bash", "other": "json"}
# The dialog's body shows at most this much (a new file of a megabyte is still one dialog);
# the title line says when it is cut.
BODY_CHARS = 60_000


def arguments_text(arguments: str) -> str:
    """The call's arguments as the model wrote them, laid out when they are JSON."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (ValueError, TypeError):
        return arguments


class ConsentScreen(ModalScreen[ConsentAnswer]):
    BINDINGS = [
        Binding("y", "answer('yes')", "Yes"),
        Binding("n", "answer('no')", "No"),
        Binding("a", "answer('always')", "Always (this session)"),
        bind("cancel", "answer('no')", "No", show=False),
    ]
    DEFAULT_CSS = """
    ConsentScreen { align: center middle; }
    ConsentScreen > Vertical { width: 90%; max-width: 140; height: 90%; border: thick $warning;
                               background: $surface; padding: 0 1; }
    ConsentScreen #consent-title { text-style: bold; color: $warning; }
    ConsentScreen #consent-args { color: $text-muted; max-height: 6; }
    ConsentScreen #consent-body { height: 1fr; border: round $panel-lighten-2; }
    ConsentScreen #consent-body:focus { border: round $accent; }
    ConsentScreen #consent-hint { color: $text-muted; }
    ConsentScreen Horizontal { height: auto; align: right middle; }
    ConsentScreen Button { margin: 0 0 0 1; min-width: 10; }
    """

    def __init__(self, request: ConsentRequest, code_theme: str = "monokai") -> None:
        super().__init__()
        self.request = request
        self.code_theme = code_theme

    def compose(self) -> ComposeResult:
        req = self.request
        preview = req.preview
        body = preview.body
        cut = len(body) > BODY_CHARS
        title = f"{req.spec.name} wants to {preview.title}" + (f" (showing {BODY_CHARS:,} of {len(body):,} characters)" if cut else "")
        with Vertical():
            # Everything here came from the model (or a file it names): inert, no markup.
            yield Static(Text(inert(title)), id="consent-title")
            yield Static(Text(inert(f"{req.call.name} {arguments_text(req.call.arguments)}")), id="consent-args")
            with VerticalScroll(id="consent-body", can_focus=True):
                yield Static(Syntax(inert(body[:BODY_CHARS]), LEXERS.get(preview.kind, "text"), theme=self.code_theme,
                                    word_wrap=False, background_color="default"), id="consent-text")
            yield Label("y yes · n / Esc no · a always for this session · ↑↓ PgUp PgDn scroll", id="consent-hint")
            with Horizontal():
                yield Button("Yes (y)", id="consent-yes", variant="success")
                yield Button("No (n)", id="consent-no", variant="error")
                yield Button("Always (a)", id="consent-always")

    def on_mount(self) -> None:
        # The body, not a button: an Enter typed a moment too late into the chat answers nothing.
        self.query_one("#consent-body").focus()

    def action_answer(self, answer: ConsentAnswer) -> None:
        self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id.removeprefix("consent-"))


class ConsentDialogs:
    """Ask through a ConsentScreen, one request at a time (asyncio.Lock is first come, first
    served). A turn cancelled while it asks takes its dialog away; the answer is then no."""

    def __init__(self, app: App, code_theme: Callable[[], str] = lambda: "monokai") -> None:
        self.app = app
        self.code_theme = code_theme
        self._one_at_a_time = asyncio.Lock()

    async def __call__(self, request: ConsentRequest) -> ConsentAnswer:
        async with self._one_at_a_time:
            answered: asyncio.Future[ConsentAnswer] = asyncio.get_running_loop().create_future()

            def done(answer: ConsentAnswer | None) -> None:
                if not answered.done():
                    answered.set_result(answer or "no")

            screen = ConsentScreen(request, self.code_theme())
            # A callback rather than push_screen(wait_for_dismiss=True), which works only from
            # inside a worker: whoever runs the turn need not be one.
            self.app.push_screen(screen, done)
            try:
                return await answered
            except asyncio.CancelledError:
                stack = self.app.screen_stack  # empty while the app shuts down
                if stack and stack[-1] is screen:
                    screen.dismiss(None)
                raise
