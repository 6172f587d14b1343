"""The memory explorer: what a turn's model got from memory and what was left out, with
token bars; the session's turns one after another, to watch memory evolve; two turns
compared. It draws what `coda memory show|diff` prints (core/memory_report.py)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from coda_tui.core.memory import compare
from coda_tui.core.memory_report import (
    MemoryTurns,
    Section,
    diff_sections,
    headline,
    most_tokens,
    snapshot_sections,
)
from coda_tui.textsafe import inert
from coda_tui.ui.keys import bind

BAR_WIDTH = 20
LABEL_WIDTH = 44
NOTE_WIDTH = 14  # "  (unpaired)": the previews after it line up
# Sections about what did not reach the model, drawn in the "out" colour.
OUT_TITLES = ("left", "not in")


class MemoryBody(Static):
    COMPONENT_CLASSES = {"memory--in", "memory--out", "memory--dim"}
    DEFAULT_CSS = """
    MemoryBody { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    MemoryBody > .memory--in { color: $primary; }
    MemoryBody > .memory--out { color: $warning; }
    MemoryBody > .memory--dim { color: $text-muted; }
    """


class MemoryExplorer(ModalScreen[None]):
    BINDINGS = [
        bind("cancel", "dismiss(None)", "Close", show=True),
        bind("memory_previous", "step(-1)"),
        bind("memory_next", "step(1)"),
        bind("memory_mark", "mark"),
        bind("memory_compare", "compare"),
    ]
    DEFAULT_CSS = """
    MemoryExplorer { align: center middle; }
    MemoryExplorer > Vertical { width: 95%; height: 90%; border: thick $accent; background: $surface; padding: 0 1; }
    MemoryExplorer #memory-title { text-style: bold; }
    MemoryExplorer VerticalScroll { height: 1fr; }
    MemoryExplorer .hint { color: $text-muted; height: 1; }
    """

    def __init__(self, turns: MemoryTurns, keys: dict[str, str]) -> None:
        super().__init__()
        self.turns = turns
        self.marked: list[int] = []  # positions, at most two
        self.comparing = False
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("", id="memory-title")
            yield Label("", id="memory-headline")
            with VerticalScroll(id="memory-scroll"):
                yield MemoryBody("", id="memory-body")
            k = self.keys
            yield Label(f"{k['memory_previous']}/{k['memory_next']} previous/next turn · {k['memory_mark']} mark · "
                        f"{k['memory_compare']} compare · Esc close", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#memory-scroll").focus()
        self.draw()

    # --- keys ----------------------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        if not self.turns.step(delta):
            self.notify("That is the session's " + ("first" if delta < 0 else "last") + " turn.", timeout=2)
        self.draw()

    def action_mark(self) -> None:
        here = self.turns.position
        if here in self.marked:
            self.marked.remove(here)
        else:
            self.marked = (self.marked + [here])[-2:]
        self.draw()

    def action_compare(self) -> None:
        if self.comparing:
            self.comparing = False
        elif not self.marked or self.marked == [self.turns.position]:
            self.notify("Mark a turn (or two) to compare first.", severity="warning", timeout=3)
        else:
            self.comparing = True
        self.draw()

    # --- drawing -------------------------------------------------------------------------

    def _pair(self) -> tuple[int, int]:
        """The two turns compared, older first: the marked two, or the marked one and this one."""
        a, b = (self.marked if len(self.marked) == 2 else [self.marked[0], self.turns.position])
        return min(a, b), max(a, b)

    def draw(self) -> None:
        turns = self.turns
        trace, snap = turns.turn()
        marks = ", ".join(f"trace {turns.ids[p]}" for p in sorted(self.marked))
        title = f"Memory · turn {turns.position + 1} of {len(turns.ids)} of the session"
        self.query_one("#memory-title", Label).update(title + (f" · marked: {marks}" if marks else ""))
        body = self.query_one(MemoryBody)
        if trace is None or (self.comparing and None in (turns.turn(p)[0] for p in self._pair())):
            # Deleted meanwhile (coda sessions delete, in another terminal).
            self.query_one("#memory-headline", Label).update("")
            body.update(Text("this turn is gone: its session was deleted"))
            return
        if self.comparing:
            a, b = self._pair()
            (ta, sa), (tb, sb) = turns.turn(a), turns.turn(b)
            if sa is None or sb is None:
                missing = ta if sa is None else tb
                self.query_one("#memory-headline", Label).update(f"memory from trace {ta.id} to trace {tb.id}")
                body.update(Text(f"trace {missing.id} has no memory snapshot: nothing to compare"))
                return
            self.query_one("#memory-headline", Label).update(f"memory from trace {ta.id} to trace {tb.id} "
                                                             f"(turns {a + 1} and {b + 1})")
            body.update(self._sections_text(diff_sections(compare(sa, sb)), with_part=True))
            return
        if snap is None:
            self.query_one("#memory-headline", Label).update(f"trace {trace.id}")
            body.update(Text(f"trace {trace.id} has no memory snapshot (it predates them, "
                             f"or never reached the memory stage)"))
            return
        self.query_one("#memory-headline", Label).update(headline(trace, snap))
        body.update(self._sections_text(snapshot_sections(snap)))

    def _sections_text(self, sections: list[Section], with_part: bool = False) -> Text:
        body = self.query_one(MemoryBody)
        styles = {name: body.get_component_rich_style(f"memory--{name}") for name in ("in", "out", "dim")}
        most = most_tokens(sections)
        out = Text(no_wrap=True, overflow="ellipsis")
        for section in sections:
            outside = section.title.startswith(OUT_TITLES)
            out.append(section.title + "\n", style="bold")
            for row in section.rows:
                name = (f"{row.part:<12} " if with_part else "") + inert(row.label)
                out.append(f"  {name[:LABEL_WIDTH]:<{LABEL_WIDTH}} {row.tokens:>6} ")
                size = max(1, round(BAR_WIDTH * row.tokens / most)) if row.bar and most else 0
                out.append("█" * size, style=styles["out" if outside else "in"])
                out.append(" " * (BAR_WIDTH - size) + f"{inert(row.note):<{NOTE_WIDTH}}")
                preview = self.turns.preview(row)
                if preview:
                    out.append("  " + inert(preview), style=styles["dim"])
                out.append("\n")
        out.rstrip()
        return out
