"""The context pane: the project tree and what is attached to the next question."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DirectoryTree, OptionList, Static
from textual.widgets.option_list import Option

from coda_tui.context.attachments import Attachment
from coda_tui.textsafe import inert


class ProjectTree(DirectoryTree):
    BINDINGS = [Binding("a", "attach", "Attach file", id="attach")]

    class Attach(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def filter_paths(self, paths):
        # Hidden files and folders (.git, .venv) would bury the project's own files.
        return [p for p in paths if not p.name.startswith(".") and p.name not in ("__pycache__", "node_modules")]

    def action_attach(self) -> None:
        node = self.cursor_node
        if node is not None and node.data is not None and Path(node.data.path).is_file():
            self.post_message(self.Attach(Path(node.data.path)))


class AttachmentList(OptionList):
    BINDINGS = [
        Binding("delete,x", "detach", "Remove", id="detach"),
    ]

    class Detach(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def action_detach(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Detach(self.highlighted))


class ContextPane(Vertical):
    BORDER_TITLE = "Context"
    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    ContextPane ProjectTree { height: 2fr; overflow-x: hidden; }
    ContextPane #attach-title { height: 1; color: $text-muted; margin-top: 1; }
    ContextPane AttachmentList { height: 1fr; min-height: 3; }
    """

    def __init__(self, root: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.root = root

    def compose(self) -> ComposeResult:
        yield ProjectTree(self.root, id="project-tree")
        yield Static("attached: none", id="attach-title", markup=False)
        yield AttachmentList(id="attachments")

    def show_attachments(self, items: list[Attachment]) -> None:
        title = self.query_one("#attach-title", Static)
        total = sum(a.tokens for a in items)
        title.update(f"attached: {len(items)} file(s), ~{total:,} tokens" if items else "attached: none")
        options = self.query_one(AttachmentList)
        options.clear_options()
        options.add_options([Option(inert(f"{a.path.name}  ~{a.tokens:,} tok")) for a in items])
