"""The context pane: the project tree, a filter (files, or code search after '/'), and what
is attached to the next question, with its tokens against the budget."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DirectoryTree, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from coda_tui.context.attachments import Attachment
from coda_tui.context.fuzzy import rank
from coda_tui.textsafe import inert
from coda_tui.ui.keys import bind


# How long the typing must pause before the filter looks for files or code.
FILTER_PAUSE_S = 0.08


class OpenPath(Message):
    def __init__(self, path: Path, line: int = 1) -> None:
        super().__init__()
        self.path, self.line = path, line


class AttachPath(Message):
    def __init__(self, path: Path, lines: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.path, self.lines = path, lines


class FilterInput(Input):
    """The filter box. ↓/↑ move the highlight in the results while typing goes on here."""

    BINDINGS = [Binding("down", "step(1)", show=False), Binding("up", "step(-1)", show=False)]

    class Step(Message):
        def __init__(self, by: int) -> None:
            super().__init__()
            self.by = by

    async def _on_key(self, event: events.Key) -> None:
        # Textual's Input types a character as it reads the key, but runs an editing key's
        # binding (backspace, ←, ↓, Enter) only once the key has bubbled through the pane's and
        # the screen's queues up to the app. In a burst the characters after a Backspace were
        # typed before it ran, and it then deleted them ("termui", 6×BS, "core" gave "term").
        # Running this widget's own bindings here keeps every key in the order it came.
        if not event.is_printable:
            for binding in self._bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority:
                    event.stop()
                    event.prevent_default()
                    await self.run_action(binding.action)
                    return
        await super()._on_key(event)

    def action_step(self, by: int) -> None:
        # Through the pane's queue, after the Changed messages of the keys typed before it.
        self.post_message(self.Step(by))


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
        self.query_text = ""  # the filter text these results answer
        self.root = Path(".")

    def show(self, query_text: str, results: list[Result], labels: list[str]) -> None:
        self.query_text = query_text
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
        opening = self.opening()
        if opening:
            self.post_message(opening)

    def opening(self) -> OpenPath | None:
        """The message that opens the highlighted result, for whoever posts it."""
        r = self._current()
        return OpenPath(self.root / r.path, r.first) if r else None

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
        self._pending: Timer | None = None

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder="filter · /search", id="context-filter")
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
        if self._pending is not None:
            self._pending.stop()
        # Ranking every file or searching the index on each key of a burst is wasted work on
        # the event loop: it waits for a pause in the typing, then runs in a thread.
        self._pending = self.set_timer(FILTER_PAUSE_S, self._start_finding) if text else None

    def _start_finding(self) -> None:
        self._pending = None
        text = self._text()
        if text and text != self.query_one(ResultList).query_text:
            # The file list is read here: the app fills its cache on the event loop.
            files = self.list_files() if not text.startswith("/") else []
            self.run_worker(partial(self._find, text, files), thread=True, exclusive=True,
                            group="context-filter", exit_on_error=False)

    def _find(self, text: str, files: list[str]) -> tuple[str, list[Result], list[str]]:
        if text.startswith("/"):
            hits = self.search(text[1:]) if text[1:].strip() else []
            return (text, [Result(h.path, h.start_line, h.end_line) for h in hits],
                    [f"{h.path}:{h.start_line}-{h.end_line}  {h.name}" for h in hits])
        paths = rank(text, files, limit=200)
        return text, [Result(p) for p in paths], paths

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "context-filter" and event.state == WorkerState.SUCCESS:
            text, results, labels = event.worker.result
            shown = self.query_one(ResultList)
            # Neither an answer to what was typed before, nor one already shown (by ↓ or Enter,
            # found at once) whose highlight the user may have moved since.
            if text == self._text() and text != shown.query_text:
                shown.show(text, results, labels)

    def _text(self) -> str:
        return self.query_one("#context-filter", Input).value.strip()

    def _results(self) -> ResultList:
        """The results of what the box holds now, found at once if the pause has not come."""
        results = self.query_one(ResultList)
        text = self._text()
        if text and results.query_text != text:
            files = self.list_files() if not text.startswith("/") else []
            results.show(*self._find(text, files))
        return results

    def on_filter_input_step(self, event: FilterInput.Step) -> None:
        event.stop()
        results = self._results()
        if results.results:
            if event.by > 0:
                results.action_cursor_down()
            else:
                results.action_cursor_up()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        # Posted by the pane: a message a child posts from the pane's handler does not bubble
        # back up to the pane that is its sender.
        opening = self._results().opening() if self._text() else None
        if opening:
            self.post_message(opening)

    def show_attachments(self, items: list[Attachment], budget: int, window: int) -> None:
        total = sum(a.tokens for a in items)
        self.query_one("#attach-title", Static).update(f"attached: {len(items)}" if items else "attached: none")
        self.query_one(BudgetBar).show(total, budget, window)
        options = self.query_one(AttachmentList)
        options.clear_options()
        options.add_options([Option(inert(f"{a.label}  ~{a.tokens:,} tok")) for a in items])
        if items:
            options.highlighted = len(items) - 1
