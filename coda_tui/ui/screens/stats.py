"""Model statistics: the table `coda stats` prints (core/model_stats.py), as a dialog the
command palette opens, with the span to count over switched by a key."""

from __future__ import annotations

import datetime as dt

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from coda_tui.core.model_stats import COLUMNS, stats_of, table_rows
from coda_tui.store import Store
from coda_tui.textsafe import inert
from coda_tui.ui.keys import bind

# (label, days back; None: all time), stepped through with "s".
SPANS: tuple[tuple[str, int | None], ...] = (("all time", None), ("last 7 days", 7), ("last 24 hours", 1))


def since_days(days: int | None) -> str | None:
    if days is None:
        return None
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="milliseconds")


class StatsScreen(ModalScreen[None]):
    BINDINGS = [bind("cancel", "dismiss", "Close", show=True), Binding("q", "dismiss", show=False),
                Binding("s", "span", "Span", show=True)]
    DEFAULT_CSS = """
    StatsScreen { align: center middle; }
    StatsScreen > Vertical { width: 95%; height: 85%; border: thick $accent; background: $surface; padding: 0 1; }
    StatsScreen #stats-title { text-style: bold; }
    StatsScreen DataTable { height: 1fr; }
    StatsScreen .hint { color: $text-muted; height: 1; }
    """

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.span = 0

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("", id="stats-title", markup=False)
            table = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns(*(heading for heading, _ in COLUMNS))
            yield table
            yield Label("s: all time / 7 days / 24 hours · Esc closes · the same figures as `coda stats`",
                        classes="hint", markup=False)

    def on_mount(self) -> None:
        self.fill()

    def fill(self) -> None:
        label, days = SPANS[self.span]
        found = stats_of(self.store, since_days(days))
        self.query_one("#stats-title", Label).update(f"Model statistics — {label}: {len(found)} models, "
                                                      f"{sum(s.answers for s in found)} answers")
        table = self.query_one(DataTable)
        table.clear()
        for row in table_rows(found):
            table.add_row(*(inert(cell) for cell in row))

    def action_span(self) -> None:
        self.span = (self.span + 1) % len(SPANS)
        self.fill()
