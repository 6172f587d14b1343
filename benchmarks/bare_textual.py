"""The floor for coda's start-up: a bare Textual app of coda's shape.

Four bordered panes titled as coda's (Context, Chat, Code, Pipeline), a TextArea in the
chat pane with the focus, and a status line: no database, no config, no provider. What
Textual alone costs to import, compose and paint such a screen and echo a key.
"""

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TextArea


class Bare(App):
    CSS = """
    .pane { border: round $primary; }
    #left { width: 1fr; } #middle { width: 2fr; } #right { width: 1fr; }
    #status { dock: bottom; height: 1; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            context = Vertical(Static("files"), id="left", classes="pane")
            context.border_title = "Context"
            yield context
            chat = Vertical(Static("", id="log"), TextArea(id="input"), id="middle", classes="pane")
            chat.border_title = "Chat"
            yield chat
            with Vertical(id="right"):
                code = Vertical(Static(""), classes="pane")
                code.border_title = "Code"
                yield code
                pipeline = Vertical(Static(""), classes="pane")
                pipeline.border_title = "Pipeline"
                yield pipeline
        yield Static("session: new", id="status")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()


if __name__ == "__main__":
    Bare().run()
