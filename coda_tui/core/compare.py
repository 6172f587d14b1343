"""Compare: one question, with the same context, put to several models; per model the time
to first token, the model's time, speed, tokens, cost and outcome, and the answer.

Each target's answer is a real turn (core.turn.TurnRunner) answering the same stored
question again in the comparison's own session, so it gets the same history, files and
search hits, and is stored as a message with its trace like any answer (`coda stats`
counts it). Tools are off: an answer that called tools would be timed on the tools too,
and each model would read different files. The response cache is not used (answering a
stored question again never is): the timings are the models'.

Remote targets run at once; local ones (the embedded model, servers on this machine or
the private network) one after another, so that they do not share the CPU while timed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from coda_tui.config import Config, parse_target
from coda_tui.core.events import Event, EventBus
from coda_tui.core.turn import TurnRunner
from coda_tui.errors import CodaError
from coda_tui.providers.pricing import CostTotal, is_private_address, stage_costs
from coda_tui.providers.types import TYPES
from coda_tui.store.comparisons import ComparedAnswer
from coda_tui.store.sessions import Session
from coda_tui.store.traces import TraceRecord

PROMPT_NAME_CHARS = 40


@dataclass(frozen=True)
class Target:
    provider: str
    model: str
    local: bool

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.model}" if self.model else self.provider


@dataclass
class Answer:
    target: Target
    status: str = "running"
    text: str = ""
    error: str | None = None
    message_id: int | None = None
    trace: TraceRecord | None = None
    # When this target's turn started, from the comparison's start: its waterfall's place
    # on the comparison's shared time axis.
    offset_ms: float = 0.0

    @property
    def ttft_ms(self) -> float | None:
        return self.trace.ttft_ms if self.trace else None

    @property
    def model_ms(self) -> float | None:
        """The model's time: its llm stage, from the request to the last token, less the
        client library's import and the model's load (left out of first token too)."""
        if self.trace is None:
            return None
        return sum((s.duration_ms or 0) - (s.detail.get("client_ms") or 0) - (s.detail.get("load_ms") or 0)
                   for s in self.trace.stages if s.name == "llm")

    @property
    def tokens(self) -> int | None:
        return self.trace.tokens if self.trace else None

    @property
    def tokens_per_s(self) -> float | None:
        return self.trace.tokens_per_s if self.trace else None

    @property
    def cost(self) -> CostTotal:
        return CostTotal.of(stage_costs(self.trace.stages)) if self.trace else CostTotal()

    @property
    def outcome(self) -> str:
        return f"{self.status}: {self.error}" if self.error else self.status

    def to_dict(self) -> dict:
        return {"provider": self.target.provider, "model": self.target.model, "local": self.target.local,
                "status": self.status, "error": self.error, "ttft_ms": self.ttft_ms, "model_ms": self.model_ms,
                "tokens": self.tokens, "tokens_per_s": self.tokens_per_s, "cost": self.cost.to_dict(),
                "message_id": self.message_id, "trace_id": self.trace.id if self.trace else None,
                "offset_ms": self.offset_ms, "answer": self.text}


@dataclass
class Comparison:
    prompt: str
    answers: list[Answer]
    session: Session | None = None
    user_message_id: int | None = None
    id: int | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "prompt": self.prompt, "session_id": self.session.id if self.session else None,
                "user_message_id": self.user_message_id, "tools": False,
                "answers": [a.to_dict() for a in self.answers]}


def targets(config: Config, providers, specs: list[str]) -> list[Target]:
    """`provider[:model]` texts as targets, each model named (the provider's default when
    none is given) and marked local or not. An unknown provider is a ConfigError here,
    before anything is asked."""
    out = []
    for spec in specs:
        provider, model = parse_target(spec.strip())
        pc = config.provider(provider)
        name, default_model, _ = providers.describe(pc.name)
        local = TYPES[pc.type].endpoint_field == "model_path" or is_private_address(pc.address)
        out.append(Target(name, model or default_model, local))
    return out


# The columns of the comparison table (CLI and app): (heading, cell of an Answer).
def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


COLUMNS: list[tuple[str, Callable[[Answer], str]]] = [
    ("provider:model", lambda a: a.target.label),
    ("first token ms", lambda a: _ms(a.ttft_ms)),
    ("total ms", lambda a: _ms(a.model_ms)),
    ("tok/s", lambda a: "-" if a.tokens_per_s is None else f"{a.tokens_per_s:.1f}"),
    ("tokens", lambda a: "-" if a.tokens is None else str(a.tokens)),
    ("cost", lambda a: a.cost.label() or "-"),
    ("outcome", lambda a: a.outcome),
]


def table_rows(answers: list[Answer]) -> list[list[str]]:
    return [[cell(a) for _, cell in COLUMNS] for a in answers]


class Comparer:
    """Runs comparisons over a runtime's config, store, providers and project."""

    def __init__(self, turns: TurnRunner) -> None:
        self.turns = turns

    def _runner(self, bus: EventBus) -> TurnRunner:
        # Each target its own runner and event bus: their events interleave, and must not
        # reach the app's own chat and pipeline panes. No response cache: see the docstring.
        t = self.turns
        return TurnRunner(t.config, t.store, t.providers, bus, project=t.project, search=t.search)

    def question_session(self, prompt: str) -> tuple[Session, int]:
        """A new session holding the question (`coda compare`)."""
        sessions = self.turns.store.sessions
        short = " ".join(prompt.split())[:PROMPT_NAME_CHARS]
        session = sessions.create(f"compare: {short}", system_prompt=self.turns.config.general.system_prompt)
        return session, sessions.add_message(session.id, "user", prompt)

    def branch_session(self, session_id: int, question_id: int) -> tuple[Session, int]:
        """A branch of a session up to a question (the app's compare): the answers come with
        that session's history, and the user's own conversation is left as it was."""
        sessions = self.turns.store.sessions
        branch = sessions.branch(session_id, question_id, name=f"compare #{question_id}")
        return branch, sessions.messages(branch.id)[-1].id

    async def run(self, prompt: str, chosen: list[Target], session: Session, question_id: int,
                  on_event: Callable[[int, Event], None] | None = None) -> Comparison:
        answers = [Answer(t) for t in chosen]
        t0 = time.perf_counter()

        async def one(i: int) -> None:
            answer = answers[i]
            bus = EventBus()
            if on_event is not None:
                bus.subscribe(lambda event: on_event(i, event))
            answer.offset_ms = (time.perf_counter() - t0) * 1000
            try:
                result = await self._runner(bus).run(prompt, session=session, provider=answer.target.provider,
                                                     model=answer.target.model, answer_to=question_id, tools=False)
            except CodaError as exc:  # a target that cannot be asked (no key, too small a window)
                answer.status, answer.error = "error", exc.render()
                return
            answer.status, answer.text, answer.message_id, answer.trace = (
                result.status, result.text, result.message_id, result.trace)
            if result.error is not None:
                answer.error = result.error.kind

        async def in_turn(indexes: list[int]) -> None:
            for i in indexes:
                await one(i)

        local = [i for i, t in enumerate(chosen) if t.local]
        await asyncio.gather(in_turn(local), *(one(i) for i, t in enumerate(chosen) if not t.local))
        comparison = Comparison(prompt, answers, session, question_id)
        comparison.id = self.turns.store.comparisons.add(prompt, session.id, question_id, [
            ComparedAnswer(a.target.provider, a.target.model, a.status, a.message_id,
                           a.trace.id if a.trace else None, a.error) for a in answers])
        return comparison
