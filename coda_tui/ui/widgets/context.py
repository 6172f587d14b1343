"""The context pane: the project tree, a filter (files, or code search after '/'), and what
is attached to the next question, with its tokens against the budget."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DirectoryTree, Input, OptionList, Static
from textual.widgets.option_list import Option

from coda_tui.context.attachments import Attachment
from coda_tui.context.fuzzy import rank
from coda_tui.textsafe import inert
from coda_tui.ui.keys import bind


class OpenPath(Message):
    def __init__(self, path: Path, line: int = 1) -> None:
        super().__init__()
        self.path, self.line = path, line


class AttachPath(Message):
    def __init__(self, path: Path, lines: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.path, self.lines = path, lines


class IndexFolder(Message):
    """Index the project although the app would not on its own (a big folder outside git)."""


class ProjectTree(DirectoryTree):
    BINDINGS = [bind("attach", label="Attach file"), bind("index_folder", action="index")]
    # Set by the app: the project's rules (.gitignore, .codaignore, denied files).
    admits: Callable[[Path], bool] = staticmethod(lambda path: True)

    def filter_paths(self, paths):
        # Hidden files and folders (.git, .venv) would bury the project's own files, and
        # what the project ignores or protects is not shown.
        return [p for p in paths if not p.name.startswith(".") and p.name != "__pycache__" and self.admits(p)]

    def process_label(self, label) -> Text:
        # A file name may hold escape sequences or bidi controls; show them, do not send them.
        plain = label.plain if isinstance(label, Text) else str(label)
        return super().process_label(Text(inert(plain), style=label.style if isinstance(label, Text) else ""))

    def action_index(self) -> None:
        self.post_message(IndexFolder())

    def action_attach(self) -> None:
        node = self.cursor_node
        if node is not None and node.data is not None and Path(node.data.path).is_file():
            self.post_message(AttachPath(Path(node.data.path)))


@dataclass
class Result:
    path: str  # relative to the project
    first: int = 1
    last: int | None = None  # None: the whole file


class ResultList(OptionList):
    """Files matching the filter, or code search hits; Enter opens, `a` attaches."""

    BINDINGS = [bind("attach")]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.results: list[Result] = []
        self.root = Path(".")

    def show(self, results: list[Result], labels: list[str]) -> None:
        self.results = results
        self.clear_options()
        self.add_options([Option(inert(label)) for label in labels])
        if results:
            self.highlighted = 0

    def _current(self) -> Result | None:
        i = self.highlighted
        return self.results[i] if i is not None and i < len(self.results) else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        r = self._current()
        if r:
            self.post_message(OpenPath(self.root / r.path, r.first))

    def action_attach(self) -> None:
        r = self._current()
        if r:
            self.post_message(AttachPath(self.root / r.path, None if r.last is None else (r.first, r.last)))


class AttachmentList(OptionList):
    BINDINGS = [bind("detach")]

    class Detach(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def action_detach(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Detach(self.highlighted))


class BudgetBar(Static):
    """Attached tokens against the context budget of the current model."""

    def show(self, used: int, budget: int, window: int) -> None:
        width = max(6, self.size.width - 2 if self.size.width else 20)
        filled = min(width, round(width * used / budget)) if budget else 0
        over = used > budget
        bar = Text()
        bar.append("█" * filled, style="red" if over else "green")
        bar.append("░" * (width - filled), style="dim")
        bar.append(f"\n{used:,}/{budget:,} tok" + (" over!" if over else ""), style="red" if over else "")
        bar.append(f" of {window:,}", style="dim")
        self.update(bar)


class ContextPane(Vertical):
    BORDER_TITLE = "Context"
    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    ContextPane #context-filter { height: 3; border: tall $surface-lighten-2; }
    ContextPane #context-filter:focus { border: tall $accent; }
    ContextPane ProjectTree { height: 2fr; overflow-x: hidden; }
    ContextPane ResultList { height: 2fr; display: none; }
    ContextPane.-filtering ProjectTree { display: none; }
    ContextPane.-filtering ResultList { display: block; }
    ContextPane #attach-title { height: 1; color: $text-muted; margin-top: 1; }
    ContextPane BudgetBar { height: 2; }
    ContextPane AttachmentList { height: 1fr; min-height: 3; }
    """

    def __init__(self, root: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.root = root
        # Set by the app: the project's files, and code search.
        self.list_files: Callable[[], list[str]] = lambda: []
        self.search: Callable[[str], list] = lambda q: []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter · /search", id="context-filter")
        yield ProjectTree(self.root, id="project-tree")
        results = ResultList(id="context-results")
        results.root = self.root
        yield results
        yield Static("attached: none", id="attach-title", markup=False)
        yield BudgetBar(id="budget-bar")
        yield AttachmentList(id="attachments")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        text = event.value.strip()
        self.set_class(bool(text), "-filtering")
        results = self.query_one(ResultList)
        if not text:
            return
        if text.startswith("/"):
            hits = self.search(text[1:]) if text[1:].strip() else []
            results.show(
                [Result(h.path, h.start_line, h.end_line) for h in hits],
                [f"{h.path}:{h.start_line}-{h.end_line}  {h.name}" for h in hits],
            )
        else:
            paths = rank(text, self.list_files(), limit=200)
            results.show([Result(p) for p in paths], paths)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        results = self.query_one(ResultList)
        if results.results:
            results.focus()

    def show_attachments(self, items: list[Attachment], budget: int, window: int) -> None:
        total = sum(a.tokens for a in items)
        self.query_one("#attach-title", Static).update(f"attached: {len(items)}" if items else "attached: none")
        self.query_one(BudgetBar).show(total, budget, window)
        options = self.query_one(AttachmentList)
        options.clear_options()
        options.add_options([Option(inert(f"{a.label}  ~{a.tokens:,} tok")) for a in items])
        if items:
            options.highlighted = len(items) - 1
