"""The pipeline pane: a live waterfall of the running turn's stages, and the last turns
with a sparkline of their time to first token. It reads the same trace records as
`coda trace`, so history survives restarts."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Sparkline, Static

from coda_tui.context.report import files_lines
from coda_tui.core import events as ev
from coda_tui.core.choice import label as who
from coda_tui.core.events import CacheLookup, ProviderStatus
from coda_tui.store.traces import TraceRecord
from coda_tui.textsafe import inert
from coda_tui.ui.dispatch import Dispatcher
from coda_tui.ui.widgets.steps import StepsView

NAME_W = 8
MS_W = 9
HISTORY = 30
# The history's provider/model cell: a pipeline's is its whole spec, hundreds of characters.
MODEL_CELL_W = 40


@dataclass
class StageBar:
    name: str
    start_ms: float
    duration_ms: float | None = None  # None while running
    summary: str = ""
    files: tuple[str, ...] = ()  # the context stage's: what went in, a file and its lines a row
    label: str = ""  # what the name column says when not the stage's name: "llm 2", "↳ read_file"
    status: str = ""  # a tool stage's outcome: ok | error | denied | cancelled
    call_id: str = ""  # a tool stage's call, while it runs


# Drawn after a stage's time: how a tool call ended (ok says nothing).
TOOL_MARKS = {"error": "✗", "denied": "⊘", "cancelled": "■"}
# The name column grows for tool names up to this; longer ones are cut.
LABEL_W = 20


def tool_label(tool: str) -> str:
    return f"↳ {tool}"


def _labelled(stages: list[StageBar]) -> list[StageBar]:
    """Number the model rounds of a tool loop: llm, llm 2, llm 3 …"""
    rounds = 0
    for bar in stages:
        if bar.name == "llm":
            rounds += 1
            if rounds > 1 and not bar.label:
                bar.label = f"llm {rounds}"
    return stages


class Waterfall(Widget):
    """Stages on a shared time axis: where this turn's time went, as it happens. A stored
    turn's stages can be stepped through (up/down) once it has focus; Enter on the memory
    row opens the memory explorer on that turn."""

    BINDINGS = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("enter", "open_stage", "Open", show=False),
    ]

    class OpenMemory(Message):
        """Enter on the memory row of a stored turn."""

        def __init__(self, trace_id: int) -> None:
            super().__init__()
            self.trace_id = trace_id

    COMPONENT_CLASSES = {"waterfall--bar", "waterfall--running", "waterfall--llm", "waterfall--dim", "waterfall--error"}
    DEFAULT_CSS = """
    Waterfall { height: auto; min-height: 6; text-wrap: nowrap; text-overflow: ellipsis; }
    Waterfall > .waterfall--bar { color: $primary; }
    Waterfall > .waterfall--running { color: $warning; }
    Waterfall > .waterfall--llm { color: $accent; }
    Waterfall > .waterfall--dim { color: $text-muted; }
    Waterfall > .waterfall--error { color: $error; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stages: list[StageBar] = []
        self.title = "no turn yet: ask something in the chat"
        self.ttft_ms: float | None = None
        self.tokens = 0
        self.tps: float | None = None
        self.status = ""
        self.show_summaries = False
        self.voice = False  # showing a recording and its transcription, not a turn
        self._t0: float | None = None  # perf_counter at the turn's start, while live
        self._first_token_at: float | None = None
        # Tool calls announced before their stage started: (call id, tool name), in order.
        self._waiting_calls: list[tuple[str, str]] = []
        self.trace_id: int | None = None  # the stored turn shown; None while live or before any
        self.cursor = 0
        # Focusable (in the pane's Tab order) only while it shows a stored turn to step through.
        self.can_focus = False

    # --- live turn ---------------------------------------------------------------------

    @property
    def live(self) -> bool:
        return self._t0 is not None

    def start(self, title: str, elapsed_ms: float = 0.0, status: str = "running") -> None:
        """A live view begins; `elapsed_ms` is where its clock already stands."""
        self.stages, self.title = [], title
        self.ttft_ms, self.tokens, self.tps, self.status = None, 0, None, status
        self.show_summaries = False
        self.voice = status != "running"
        self.trace_id, self.can_focus = None, False
        self._t0 = time.perf_counter() - elapsed_ms / 1000
        self._first_token_at = None
        self._waiting_calls = []
        self.refresh(layout=True)

    def settle(self, status: str) -> None:
        """The live view ends without a turn (a transcript waiting in the input): keep its bars."""
        self._t0 = None
        self.status = status
        self.refresh(layout=True)

    def now_ms(self) -> float:
        return (time.perf_counter() - self._t0) * 1000 if self._t0 else 0.0

    def stage_started(self, name: str, start_ms: float) -> None:
        bar = StageBar(name, start_ms)
        if name == "tool" and self._waiting_calls:
            bar.call_id, tool = self._waiting_calls.pop(0)
            bar.label = tool_label(tool)
        self.stages.append(bar)
        _labelled(self.stages)
        self.refresh(layout=True)

    def stage_finished(self, name: str, start_ms: float, duration_ms: float, summary: str) -> None:
        # Stages of one name repeat (a model round after each tool round) and read-only
        # calls run side by side: the bar is the running one of that name and start.
        running = [bar for bar in self.stages if bar.name == name and bar.duration_ms is None]
        bar = next((b for b in running if b.start_ms == start_ms), running[-1] if running else None)
        if bar is not None:
            bar.duration_ms, bar.summary = duration_ms, summary
        self.refresh()

    def tool_started(self, call_id: str, tool: str, start_ms: float) -> None:
        """Name the running tool stage after its tool (the stage may start after this)."""
        unnamed = [b for b in self.stages if b.name == "tool" and b.duration_ms is None and not b.call_id]
        bar = next((b for b in unnamed if b.start_ms == start_ms), unnamed[0] if unnamed else None)
        if bar is None:
            self._waiting_calls.append((call_id, tool))
            return
        bar.call_id, bar.label = call_id, tool_label(tool)
        self.refresh()

    def tool_finished(self, call_id: str, status: str) -> None:
        self._waiting_calls = [c for c in self._waiting_calls if c[0] != call_id]
        # The first of that id still open: a model may reuse an id in every round (call_0).
        bar = next((b for b in self.stages if b.call_id == call_id and not b.status), None)
        if bar is not None:
            bar.status = status
        self.refresh()

    def token(self, count: int, ttft_ms: float) -> None:
        now = time.perf_counter()
        if self._first_token_at is None:
            self._first_token_at = now
        self.ttft_ms, self.tokens = ttft_ms, count
        gen = now - self._first_token_at
        self.tps = (count - 1) / gen if count > 1 and gen > 0.05 else None

    def finish(self, trace: TraceRecord) -> None:
        self._t0 = None
        self.show_trace(trace, summaries=False)

    # --- a stored turn -----------------------------------------------------------------

    def show_trace(self, trace: TraceRecord, summaries: bool = True) -> None:
        self._t0 = None
        self.stages = _labelled([StageBar(s.name, s.start_ms, s.duration_ms or 0.0, s.summary,
                                          tuple(files_lines(s.detail)) if s.name == "context" else (),
                                          tool_label(str(s.detail["tool"])) if s.name == "tool" and s.detail.get("tool") else "",
                                          str(s.detail.get("status", "")) if s.name == "tool" else "")
                                 for s in trace.stages])
        self.title = f"turn {trace.id} · {who(trace.provider, trace.model)}"
        self.ttft_ms, self.tokens, self.tps, self.status = trace.ttft_ms, trace.tokens or 0, trace.tokens_per_s, trace.status
        self.show_summaries = summaries
        self.voice = False
        self.trace_id, self.can_focus = trace.id, True
        self.cursor = min(self.cursor, max(0, len(self.stages) - 1))
        self.refresh(layout=True)

    def action_cursor(self, delta: int) -> None:
        if self.stages:
            self.cursor = max(0, min(len(self.stages) - 1, self.cursor + delta))
            self.refresh()

    def action_open_stage(self) -> None:
        if self.trace_id is not None and self.stages and self.stages[self.cursor].name == "memory":
            self.post_message(self.OpenMemory(self.trace_id))

    def on_focus(self) -> None:
        self.refresh()  # the cursor row shows only while focused

    def on_blur(self) -> None:
        self.refresh()

    # --- drawing -----------------------------------------------------------------------

    def get_content_height(self, container, viewport, width: int) -> int:
        per = 2 if self.show_summaries else 1
        return 2 + per * max(1, len(self.stages)) + sum(len(b.files) for b in self.stages)

    def render(self) -> Text:
        width = max(20, self.size.width)
        # A pipeline's stages are its steps ("2.refactor"), longer than a turn's stage names.
        name_w = max([NAME_W] + [min(LABEL_W, len(b.label or b.name)) + 1 for b in self.stages])
        bar_w = max(4, width - name_w - MS_W - 2)
        now = self.now_ms()
        ends = [b.start_ms + (b.duration_ms if b.duration_ms is not None else now - b.start_ms) for b in self.stages]
        total = max(ends + [1.0])
        bar_style = self.get_component_rich_style("waterfall--bar")
        run_style = self.get_component_rich_style("waterfall--running")
        llm_style = self.get_component_rich_style("waterfall--llm")
        dim = self.get_component_rich_style("waterfall--dim")
        err = self.get_component_rich_style("waterfall--error")
        out = Text(no_wrap=True, overflow="ellipsis")
        # Cut here, with an ellipsis: the Text's own overflow never sees a line wider than the pane.
        out.append(_cut(inert(self.title), width - 1) + "\n", style="bold")
        out.append(_cut(self._headline(total), width - 1) + "\n", style=err if self.status in ("error", "partial") else dim)
        for row, (bar, end) in enumerate(zip(self.stages, ends)):
            running = bar.duration_ms is None
            dur = end - bar.start_ms
            lead = min(bar_w - 1, int(bar.start_ms / total * bar_w))
            size = max(1, round(dur / total * bar_w))
            size = min(size, bar_w - lead)
            failed = bar.status in TOOL_MARKS
            style = run_style if running else err if failed else (llm_style if bar.name in ("llm", "stt") else bar_style)
            label = inert(_cut(bar.label or bar.name, LABEL_W))
            chosen = self.has_focus and row == self.cursor
            out.append(f"{label:<{name_w}}", style="reverse" if chosen else "bold" if running else err if failed else "")
            out.append(" " * lead)
            out.append("█" * size if not running else "▓" * size, style=style)
            out.append(" " * (bar_w - lead - size))
            out.append(_ms(dur).rjust(MS_W))
            out.append(("…" if running else TOOL_MARKS.get(bar.status, " ")) + "\n", style=err if failed else "")
            if self.show_summaries and bar.summary:
                out.append(" " * name_w + _cut(inert(bar.summary), width - name_w - 1) + "\n", style=dim)
            for line in bar.files:
                out.append(" " * name_w + _cut(inert(line), width - name_w - 1) + "\n", style=dim)
        out.rstrip()
        return out

    def _headline(self, total: float) -> str:
        if not self.stages and not self.live:
            return ""
        parts = []
        if self.status:
            parts.append(self.status)
        if self.voice:
            return " · ".join(parts + [f"total {total:,.0f} ms"])
        parts.append(f"first token {self.ttft_ms:,.0f} ms" if self.ttft_ms is not None else "first token …" if self.live else "first token -")
        if self.tps:
            parts.append(f"{self.tps:.1f} tok/s")
        if self.tokens:
            parts.append(f"{self.tokens} tokens")
        parts.append(f"total {total:,.0f} ms")
        return " · ".join(parts)


def _cut(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" if width > 0 else ""


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def _row(t: TraceRecord, model_w: int = MODEL_CELL_W) -> tuple[str, ...]:
    """A turn's cells in the history table."""
    return (
        str(t.id),
        f"{t.ttft_ms:,.0f}" if t.ttft_ms is not None else "-",
        f"{t.total_ms:,.0f}" if t.total_ms is not None else "-",
        f"{t.tokens_per_s:.1f}" if t.tokens_per_s else "-",
        t.status,
        _cut(inert(who(t.provider, t.model)), model_w),
    )


class ProviderLine(Static):
    """The providers in use (health and circuit, from the watchdog) and the response
    cache's hits, misses and time saved: what decides whether the next turn is quick."""

    DEFAULT_CSS = """
    ProviderLine { height: auto; max-height: 2; color: $text-muted; text-wrap: wrap; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.states: dict[str, ProviderStatus] = {}
        self.cache: CacheLookup | None = None
        self.display = False

    def set_status(self, status: ProviderStatus) -> None:
        self.states[status.provider] = status
        self._draw()

    def set_cache(self, lookup: CacheLookup) -> None:
        self.cache = lookup
        self._draw()

    def _draw(self) -> None:
        out = Text()
        if self.states:
            out.append("providers ")
        for name, st in sorted(self.states.items()):
            colour = {"ok": "green", "down": "red"}.get(st.health, "yellow")
            if st.breaker == "open":
                colour = "red"
            out.append("● ", style=colour)
            out.append(inert(name))
            word = st.health if st.breaker == "closed" else f"circuit {st.breaker.replace('_', '-')}"
            out.append(f" {word}  ", style=colour if word != "ok" else "")
        if self.cache is not None:
            c = self.cache
            out.append(f"cache {c.hits} hit{'s' * (c.hits != 1)} · {c.misses} miss{'es' * (c.misses != 1)}"
                       f" · saved {c.saved_ms / 1000:,.1f} s")
        self.update(out)
        self.display = bool(self.states) or self.cache is not None


class ToolStats(Static):
    """One line of the tool calls made since the app started: how many, how many failed or
    were refused, and the median time of a call."""

    DEFAULT_CSS = """
    ToolStats { height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.durations: list[float] = []
        self.failed = 0
        self.denied = 0
        self.display = False

    def add(self, event: ev.ToolCallFinished) -> None:
        self.durations.append(event.duration_ms)
        self.failed += event.status == "error"
        self.denied += event.status == "denied"
        self.update(self.line())
        self.display = True

    def line(self) -> str:
        n = len(self.durations)
        parts = [f"tools {n} call{'s' * (n != 1)}", f"{self.failed} failed"]
        if self.denied:
            parts.append(f"{self.denied} refused")
        parts.append(f"median {_ms(statistics.median(self.durations))} ms")
        return " · ".join(parts) + " (this run)"


class PipelinePane(Vertical):
    """Live per-stage timings of the running turn, and the turns before it."""

    BORDER_TITLE = "Pipeline"
    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    PipelinePane #pipeline-spark { height: 2; margin: 1 0 0 0; }
    PipelinePane #pipeline-spark-label { height: 1; color: $text-muted; }
    PipelinePane DataTable { height: 1fr; min-height: 3; }
    """

    def compose(self) -> ComposeResult:
        yield Waterfall(id="waterfall")
        yield ToolStats(id="pipeline-tools")
        yield ProviderLine(id="pipeline-providers")
        yield StepsView(id="pipeline-steps")
        yield Static("time to first token, last turns", id="pipeline-spark-label")
        yield Sparkline([], id="pipeline-spark")
        table = DataTable(id="pipeline-history", cursor_type="row", zebra_stripes=True)
        # The one column of any length goes last: a pipeline's spec cuts nothing after it.
        for label in ("turn", "ttft ms", "total ms", "tok/s", "status", "provider/model"):
            table.add_column(label, key=label)
        yield table

    def follow(self, events: Dispatcher) -> None:
        """Draw each turn as the core reports it: stages and tokens live, then its row."""
        waterfall, providers = self.waterfall, self.providers_line
        events.on(ev.TokenChunk, lambda e: waterfall.token(e.count, e.ttft_ms))
        events.on(ev.StageStarted, lambda e: waterfall.stage_started(e.name, e.start_ms))
        events.on(ev.StageFinished, lambda e: waterfall.stage_finished(e.name, e.start_ms, e.duration_ms, e.summary))
        events.on(ev.TurnStarted, self._turn_started)
        events.on(ev.ProviderStatus, providers.set_status)
        events.on(ev.CacheLookup, providers.set_cache)
        events.on(ev.TurnFinished, self._turn_finished)
        events.on(ev.ToolCallStarted, lambda e: waterfall.tool_started(e.call_id, e.name, e.start_ms))
        events.on(ev.ToolCallFinished, self._tool_finished)

    def _tool_finished(self, event: ev.ToolCallFinished) -> None:
        self.waterfall.tool_finished(event.call_id, event.status)
        self.query_one(ToolStats).add(event)

    def _turn_started(self, event: ev.TurnStarted) -> None:
        self.waterfall.start(f"turn · {who(event.provider, event.model)}", event.elapsed_ms)
        self._live_timer = self.set_interval(1 / 10, self.waterfall.refresh)

    def _turn_finished(self, event: ev.TurnFinished) -> None:
        timer, self._live_timer = getattr(self, "_live_timer", None), None
        if timer is not None:
            timer.stop()
        self.waterfall.finish(event.trace)
        self.add_trace(event.trace)

    @property
    def waterfall(self) -> Waterfall:
        return self.query_one(Waterfall)

    @property
    def providers_line(self) -> ProviderLine:
        return self.query_one(ProviderLine)

    def load_history(self, traces: list[TraceRecord]) -> None:
        """`traces` newest first, as TraceStore.recent returns them."""
        self._traces = {t.id: t for t in traces}
        self._fill_table()
        self._update_spark()
        if traces:
            self.waterfall.finish(traces[0])

    def add_trace(self, trace: TraceRecord) -> None:
        traces = getattr(self, "_traces", {})
        traces[trace.id] = trace
        self._traces = dict(sorted(traces.items(), reverse=True)[:HISTORY])
        self._fill_table()
        self._update_spark()

    def _fill_table(self) -> None:
        """The table again, newest first, with the cursor kept on the turn it was on.

        Rebuilt rather than changed row by row: DataTable keys its render caches by a
        count of changes, so after each add, sort or remove the old entries are never read
        again, yet stay until the caches' size limits (10,000 cells, 1,000 lines, each
        line a Strip with its own caches): ~8 MiB by turn 120 of a long session. clear()
        is the one public call that empties them."""
        table = self.query_one(DataTable)
        on = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
        newest = table.cursor_row == 0
        table.clear()
        for column in table.columns.values():
            column.content_width = column.label.cell_len  # measured again: a narrower pane, a narrower table
        traces = sorted(self._traces.values(), key=lambda t: t.id, reverse=True)
        # The last column gets the width the others leave, its cells cut with an ellipsis:
        # a table wider than the pane scrolls, and shows a name cut mid-word at the edge.
        room = table.scrollable_content_region.width
        if room > 0:
            rows = [_row(t) for t in traces]
            labels = [str(c.label) for c in table.columns.values()]
            others = sum(max(len(cell) for cell in [label, *cells]) + 2 * table.cell_padding
                         for label, *cells in zip(labels[:-1], *[r[:-1] for r in rows]))
            self._model_w = max(4, min(MODEL_CELL_W, room - others - 2 * table.cell_padding))
        # Keyed by trace id: SQLite handing a deleted session's ids to new traces replaces
        # the stale row instead of adding a second one.
        for t in traces:
            table.add_row(*_row(t, getattr(self, "_model_w", MODEL_CELL_W)), key=str(t.id))
        if on is not None and not newest and on in table.rows:
            table.move_cursor(row=table.get_row_index(on))

    def on_resize(self, event) -> None:
        if getattr(self, "_traces", None) and event.size.width != getattr(self, "_filled_width", None):
            self._filled_width = event.size.width
            self._fill_table()

    def _update_spark(self) -> None:
        values = [t.ttft_ms for t in sorted(self._traces.values(), key=lambda t: t.id) if t.ttft_ms is not None]
        self.query_one(Sparkline).data = values[-HISTORY:]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        trace = self._traces.get(int(event.row_key.value))
        if trace is not None:
            self.waterfall.show_trace(trace, summaries=True)
