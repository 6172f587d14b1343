"""Typed events the core publishes while a turn runs. The TUI and the CLI subscribe and
render; the core never calls a widget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

from coda_tui.store.traces import TraceRecord


@dataclass(frozen=True)
class TurnStarted:
    session_id: int
    provider: str
    model: str
    prompt: str
    # Where the turn's clock stands as it starts: above 0 when stages before it (the
    # recording and transcription of a spoken question) are on the same clock.
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class StageStarted:
    name: str
    start_ms: float


@dataclass(frozen=True)
class StageFinished:
    name: str
    start_ms: float
    duration_ms: float
    summary: str
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TokenChunk:
    text: str
    # Chunks so far, and milliseconds since the llm stage began for the first one.
    count: int
    ttft_ms: float


@dataclass(frozen=True)
class Retrying:
    attempt: int
    delay_s: float
    reason: str


@dataclass(frozen=True)
class UsageReported:
    prompt_tokens: int | None
    completion_tokens: int | None
    estimated: bool


@dataclass(frozen=True)
class TurnFinished:
    status: str  # complete | partial | error | cancelled
    session_id: int
    message_id: int | None
    trace: TraceRecord
    error: str | None = None
    error_kind: str | None = None


@dataclass(frozen=True)
class VoiceStarted:
    """Recording began; `loading` when the speech model is still loading alongside it."""

    model: str
    loading: bool


@dataclass(frozen=True)
class VoiceFinished:
    # A core.listen.Utterance; typed loosely so this module stays free of voice imports.
    utterance: object


@dataclass(frozen=True)
class VoiceFailed:
    error: str
    kind: str


@dataclass(frozen=True)
class FallingBack:
    """A target of the fallback chain failed (or answered nothing); the next one is asked."""

    provider: str
    model: str
    reason: str
    next_provider: str
    next_model: str


@dataclass(frozen=True)
class CacheLookup:
    hit: bool
    # The cache's running totals, for the pipeline pane.
    hits: int
    misses: int
    saved_ms: float


@dataclass(frozen=True)
class ProviderStatus:
    """A provider's health (from the watchdog) and circuit state (from its breaker)."""

    provider: str
    health: str  # ok | down | unknown
    detail: str
    breaker: str  # closed | open | half_open
    retry_in_s: float = 0.0


@dataclass(frozen=True)
class ToolCallStarted:
    """The model asked for a tool and it is about to run (or to ask for consent)."""

    call_id: str
    name: str
    arguments: str  # a one-line summary (tools.base.summarize_arguments)
    step: int  # the model round (1-based) that asked for it
    start_ms: float


@dataclass(frozen=True)
class ToolCallFinished:
    call_id: str
    name: str
    status: str  # ok | error | denied | cancelled
    duration_ms: float
    result_chars: int
    excerpt: str  # the start of the result (or the error), one line
    message_id: int | None = None  # the stored tool message


@dataclass(frozen=True)
class ToolsUnavailable:
    """Tools were wanted but this provider or model cannot take them: said once, and the
    turn goes on without tools."""

    provider: str
    model: str
    reason: str


Event = Union[TurnStarted, StageStarted, StageFinished, TokenChunk, Retrying, UsageReported, TurnFinished,
              VoiceStarted, VoiceFinished, VoiceFailed, FallingBack, CacheLookup, ProviderStatus,
              ToolCallStarted, ToolCallFinished, ToolsUnavailable]
Subscriber = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out: subscribers must be quick (a TUI posts a message and returns)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn)

    def publish(self, event: Event) -> None:
        for fn in list(self._subscribers):
            fn(event)
