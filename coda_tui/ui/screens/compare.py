"""Compare in the app: the last question asked again with other models (picked from the
configured providers, or typed as provider:model), their answers streaming side by side,
each with its timings, and their waterfalls overlaid on one time axis. The comparison is a
branch of the session up to that question (core/compare.py), so the user's conversation
is left as it was; tools are off."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList, Static

from coda_tui.config import ConfigError
from coda_tui.core.compare import COLUMNS as TABLE_COLUMNS
from coda_tui.core.compare import Answer, Comparer, Comparison, table_rows, targets
from coda_tui.core.events import TokenChunk
from coda_tui.errors import CodaError
from coda_tui.textsafe import inert
from coda_tui.ui.keys import bind
from coda_tui.ui.widgets.compare_waterfall import CompareWaterfall


def provider_targets(rt) -> list[str]:
    """Each configured provider with its default model, as provider:model."""
    out = []
    for name in sorted(rt.config.providers):
        try:
            provider, model, _ = rt.providers.describe(name)
        except ConfigError:
            continue  # one that cannot be described (a missing key) is not offered
        out.append(f"{provider}:{model}")
    return out


def timing_line(answer: Answer) -> str:
    cells = dict(zip((h for h, _ in TABLE_COLUMNS), table_rows([answer])[0]))
    return " · ".join(f"{h} {cells[h]}" for h in ("first token ms", "total ms", "tok/s", "tokens", "cost", "outcome"))


class CompareScreen(ModalScreen[None]):
    BINDINGS = [bind("cancel", "dismiss", "Close", show=True)]
    DEFAULT_CSS = """
    CompareScreen { align: center middle; }
    CompareScreen > Vertical { width: 98%; height: 95%; border: thick $accent; background: $surface; padding: 0 1; }
    CompareScreen #compare-title { text-style: bold; height: auto; }
    CompareScreen #compare-pick { height: 1fr; }
    CompareScreen #compare-pick SelectionList { height: 1fr; }
    CompareScreen #compare-answers { height: 1fr; display: none; }
    CompareScreen.-running #compare-pick { display: none; }
    CompareScreen.-running #compare-answers { display: block; }
    CompareScreen .compare-column { width: 1fr; border: round $primary; padding: 0 1; }
    CompareScreen .compare-head { text-style: bold; }
    CompareScreen .compare-timing { color: $text-muted; height: auto; }
    CompareScreen .hint { color: $text-muted; height: auto; }
    """

    def __init__(self, rt, session_id: int, question_id: int, question: str, current: str) -> None:
        super().__init__()
        self.rt = rt
        self.session_id = session_id
        self.question_id = question_id
        self.question = question
        self.current = current
        self.comparison: Comparison | None = None
        self.buffers: list[str] = []

    @classmethod
    def for_session(cls, rt, session, current: str) -> CompareScreen | None:
        """The screen for the session's last question; None when it has none."""
        if session is None:
            return None
        asked = [m for m in rt.store.sessions.messages(session.id) if m.role == "user"]
        if not asked:
            return None
        return cls(rt, session.id, asked[-1].id, asked[-1].content, current)

    def compose(self) -> ComposeResult:
        short = " ".join(self.question.split())
        with Vertical(id="compare-body"):
            yield Label(f"Compare — {short[:100]}", id="compare-title", markup=False)
            with Vertical(id="compare-pick"):
                yield Label("Models to ask (space selects; tools are off):", markup=False)
                choices = provider_targets(self.rt)
                if self.current not in choices:
                    choices.insert(0, self.current)
                yield SelectionList[str](*((inert(c), c, c == self.current) for c in choices), id="compare-list")
                yield Input(placeholder="another model: provider:model, then Enter", id="compare-typed")
                yield Button("Compare", id="compare-start", variant="primary")
            yield Horizontal(id="compare-answers")
            yield Label("", id="compare-note", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        if typed:
            picks = self.query_one(SelectionList)
            picks.add_option((inert(typed), typed, True))
            event.input.value = ""

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "compare-start":
            self.start()

    def note(self, text: str) -> None:
        self.query_one("#compare-note", Label).update(text)

    def start(self) -> None:
        specs = list(self.query_one(SelectionList).selected)
        if len(specs) < 2:
            self.note("Select at least two models.")
            return
        try:
            chosen = targets(self.rt.config, self.rt.providers, specs)
        except CodaError as exc:
            self.note(inert(exc.render()))
            return
        self.buffers = [""] * len(chosen)
        columns = self.query_one("#compare-answers", Horizontal)
        for i, target in enumerate(chosen):
            columns.mount(VerticalScroll(
                Label(inert(target.label) + (" (local)" if target.local else ""), classes="compare-head", markup=False),
                Label("waiting…" if target.local else "asking…", id=f"compare-timing-{i}", classes="compare-timing",
                      markup=False),
                Static("", id=f"compare-answer-{i}"),
                classes="compare-column",
            ))
        self.add_class("-running")
        self.note("Local models answer one after another, remote ones at once.")
        self.run_comparison(chosen)

    def on_token(self, i: int, event) -> None:
        if isinstance(event, TokenChunk):
            self.buffers[i] += event.text
            self.query_one(f"#compare-answer-{i}", Static).update(Text(inert(self.buffers[i])))
            self.query_one(f"#compare-timing-{i}", Label).update("streaming…")

    @work(exclusive=True, group="compare")
    async def run_comparison(self, chosen) -> None:
        comparer = Comparer(self.rt.turns)
        session, question_id = comparer.branch_session(self.session_id, self.question_id)
        try:
            self.comparison = await comparer.run(self.question, chosen, session, question_id, on_event=self.on_token)
        except CodaError as exc:
            self.note(inert(exc.render()))
            return
        for i, answer in enumerate(self.comparison.answers):
            self.query_one(f"#compare-answer-{i}", Static).update(Text(inert(answer.text) or "(no answer)"))
            self.query_one(f"#compare-timing-{i}", Label).update(inert(timing_line(answer)))
        await self.query_one("#compare-body", Vertical).mount(CompareWaterfall(self.comparison.answers), before="#compare-note")
        self.note(f"Comparison #{self.comparison.id} stored (session #{session.id}); coda compare --list shows it. "
                  "Esc closes.")
