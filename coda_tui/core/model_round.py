"""One model round of a turn: the request through the fallback chain, the answer streamed
to the subscribers (at most once a frame) and into the database as it arrives, the tool
calls and usage collected, and the whole kept as one "llm" stage of the trace.

A cancel (Esc, Ctrl+C), a cut stream or a provider's error ends the round with what had
arrived kept; the round's status says how it ended, and the turn's store stage writes the
last round's row with it. core.tool_loop asks for the rounds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coda_tui.core import memory
from coda_tui.core.choice import label
from coda_tui.core.events import (
    CacheLookup,
    Event,
    FallingBack,
    Retrying,
    TokenChunk,
    UsageReported,
)
from coda_tui.core.fallback import FallbackCall
from coda_tui.core.tracer import Tracer
from coda_tui.providers.base import ChatMessage, ToolCall, Usage
from coda_tui.providers.errors import ProviderError, StreamInterrupted, ToolsUnsupported
from coda_tui.providers.pricing import turn_cost
from coda_tui.providers.registry import Providers
from coda_tui.redact import Redactor, StreamScrubber
from coda_tui.store.sessions import SessionStore
from coda_tui.tokens import estimate_tokens

if TYPE_CHECKING:
    from coda_tui.core.cache import ResponseCache

# How often a streaming answer is written to the database. Frequent enough that a
# kill -9 loses under half a second of text; rare enough to stay off the per-token path.
FLUSH_INTERVAL_S = 0.5
# Each write re-indexes the whole answer for full-text search, on the app's event loop: the
# interval grows with the answer (1 MB: every 10 s), so a long answer costs a bounded
# number of rewrites, not one per half second.
FLUSH_PER_CHAR_S = 1 / 100_000
# Streamed text goes to subscribers at most once a frame: a fast server sends thousands of
# chunks a second, and each event costs every subscriber (the TUI lays text out) more
# than the chunk itself. Text held back waits no longer than this.
PUBLISH_INTERVAL_S = 1 / 60


class AnswerWriter:
    """Keeps the streaming answer in the database: the row appears with the first token as
    'partial' and is rewritten at most every FLUSH_INTERVAL_S."""

    def __init__(self, sessions: SessionStore, session_id: int, provider: str, model: str) -> None:
        self.sessions = sessions
        self.session_id = session_id
        self.provider = provider
        self.model = model
        self.parts: list[str] = []
        self.message_id: int | None = None
        self._flushed_at = 0.0
        self._flushed_len = 0

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        if time.monotonic() - self._flushed_at >= FLUSH_INTERVAL_S + self._flushed_len * FLUSH_PER_CHAR_S:
            self.flush("partial")

    def flush(self, status: str, **extra) -> None:
        text = self.text
        if self.message_id is None:
            self.message_id = self.sessions.add_message(
                self.session_id, "assistant", text, status=status, provider=self.provider, model=self.model
            )
            if extra:
                self.sessions.update_message(self.message_id, **extra)
        elif len(text) != self._flushed_len or extra or status != "partial":
            self.sessions.update_message(self.message_id, content=text, status=status, **extra)
        self._flushed_at = time.monotonic()
        self._flushed_len = len(text)


class _Batch:
    """Streamed text on its way to the subscribers: kept by the writer at once, published
    as one TokenChunk at most every PUBLISH_INTERVAL_S (what waits goes out on a timer)."""

    def __init__(self, publish: Callable[[Event], None], writer: AnswerWriter) -> None:
        self.publish = publish
        self.writer = writer
        self.ttft_ms: float | None = None  # set by the round with its first token
        self._loop = asyncio.get_running_loop()
        self._parts: list[str] = []
        self._published_at = 0.0
        self._later: asyncio.TimerHandle | None = None

    def take(self, text: str) -> bool:
        """Keep `text`; True when a batch went out now."""
        if not text:
            return False
        self.writer.add(text)
        self._parts.append(text)
        wait = self._published_at + PUBLISH_INTERVAL_S - time.perf_counter()
        if wait <= 0:
            self.flush()
            return True
        if self._later is None:
            self._later = self._loop.call_later(wait, self.flush)
        return False

    def flush(self) -> None:
        if self._later is not None:
            self._later.cancel()
            self._later = None
        if self._parts:
            text = "".join(self._parts)
            self._parts.clear()
            self._published_at = time.perf_counter()
            self.publish(TokenChunk(text, len(self.writer.parts), self.ttft_ms))


@dataclass
class Round:
    """What one model round came to. `writer` holds its stored assistant row."""

    text: str
    calls: list[ToolCall]
    usage: Usage
    status: str  # complete | partial | error | cancelled
    error: ProviderError | None
    writer: AnswerWriter
    ttft_ms: float | None = None
    tokens: int = 0
    tokens_per_s: float | None = None
    provider: str = ""
    model: str = ""
    unsupported: ToolsUnsupported | None = None


class ModelRounds:
    """The model rounds of one turn. Each asks the first target of the fallback chain (or the
    provider alone); once a target has answered, later rounds go straight to it."""

    def __init__(
        self,
        *,
        providers: Providers,
        sessions: SessionStore,
        session_id: int,
        provider: str,
        model: str,
        chain: list[tuple[str, str | None]] | None,
        tracer: Tracer,
        publish: Callable[[Event], None],
        redact: Redactor,
        cache: ResponseCache | None,
        use_cached: bool,
    ) -> None:
        self.providers = providers
        self.sessions = sessions
        self.session_id = session_id
        self.provider, self.model = provider, model
        self.chain = chain
        self.tracer = tracer
        self.publish = publish
        self.redact = redact
        self.cache = cache
        self.use_cached = use_cached

    async def ask(self, msgs: list[ChatMessage], schemas: list[dict] | None, step: int) -> Round:
        """One round: stream it, store it, trace it. A provider's error, a cut stream, a
        model that takes no tools or a cancel ends the round with that status and what had
        arrived; only a failure to store (a full disk) goes up."""
        writer = AnswerWriter(self.sessions, self.session_id, self.provider, self.model)
        status, error, usage = "complete", None, Usage()
        unsupported = choice = None
        calls: list[ToolCall] = []
        ttft_ms = first_call_ms = None
        with self.tracer.stage("llm") as st:
            retries: list[str] = []
            client_t0 = time.perf_counter()
            prov = self.providers.get(self.chain[0][0] if self.chain else self.provider)
            client_ms = (time.perf_counter() - client_t0) * 1000
            call = FallbackCall(
                self.providers, prov, self.chain or [(prov.name, self.model)],
                cache=self.cache,
                use_cached=self.use_cached,
                redact=self.redact,
                on_fallback=lambda a, p, m: self.publish(FallingBack(a.provider, a.model, a.error or "empty answer", p, m)),
            )
            llm_t0 = time.perf_counter()
            last_token_at = llm_t0

            # A server can echo the key it was sent; it is masked before anything keeps or shows it.
            scrubber = StreamScrubber(self.redact)

            batch = _Batch(self.publish, writer)

            def on_retry(attempt: int, delay: float, exc: ProviderError) -> None:
                retries.append(f"{exc.kind} (waited {delay:.1f}s)")
                self.publish(Retrying(attempt, delay, self.redact(exc.render())))

            try:
                # aclosing: when the database fails mid-answer (a full disk), the stream is
                # closed here, in this task, before the error goes up.
                # What the model may do this round is the provider's plan (the embedded
                # model: search first, then answer; others: their setting, then "auto").
                choice = prov.tool_choice_for(step - 1, [t["function"]["name"] for t in schemas]) if schemas else None
                async with aclosing(call.stream(msgs, on_retry=on_retry, tools=schemas, tool_choice=choice)) as stream:
                    async for item in stream:
                        if isinstance(item, str):
                            last_token_at = time.perf_counter()
                            if ttft_ms is None:
                                # A model load is shown on its own, not hidden inside time to first token.
                                ttft_ms = batch.ttft_ms = (last_token_at - llm_t0 - call.load_s) * 1000
                                writer.provider, writer.model = call.provider.name, call.model  # no fallback from here on
                            if batch.take(scrubber.feed(item)):
                                # A stream already buffered never waits on the socket:
                                # let keys and frames in between batches.
                                await asyncio.sleep(0)
                        elif isinstance(item, ToolCall):
                            last_token_at = time.perf_counter()
                            if first_call_ms is None:
                                first_call_ms = (last_token_at - llm_t0 - call.load_s) * 1000
                            calls.append(item)
                        else:
                            usage = item
            except asyncio.CancelledError:
                status = "cancelled"
            except ToolsUnsupported as exc:
                status, unsupported = "error", exc
            except StreamInterrupted as exc:
                status, error = "partial", exc
            except ProviderError as exc:
                status, error = "error", exc
            batch.take(scrubber.flush())
            batch.flush()
            load_s = call.load_s
            prov, answered_by = call.provider, call.model
            writer.provider, writer.model = prov.name, answered_by  # who answered, or failed last
            if call.attempts:
                # Later rounds go straight to the target that answered this one.
                self.chain = (self.chain or [(self.provider, self.model)])[len(call.attempts) - 1:]
            if self.cache is not None and call.attempts and call.cache is not None:
                stats = self.cache.stats()
                self.publish(CacheLookup(call.cached is not None, stats.hits, stats.misses, stats.saved_ms))
            round_tokens = estimate_tokens("".join(m.content for m in msgs)) + memory.MESSAGE_OVERHEAD * len(msgs)
            completion = usage.completion_tokens or len(writer.parts) + len(calls)
            if usage.completion_tokens is None:
                usage = Usage(usage.prompt_tokens or round_tokens, completion, estimated=True)
            gen_s = last_token_at - llm_t0 - load_s - (ttft_ms or first_call_ms or 0) / 1000
            tps = (completion - 1) / gen_s if completion > 1 and gen_s > 0 else None
            st.summary = f"{label(prov.name, answered_by)}: {completion} tokens"
            if step > 1:
                st.summary = f"step {step}, " + st.summary
            if client_ms >= 1:
                st.summary += f", client import {client_ms:.0f} ms"
            if load_s:
                st.summary += f", model loaded in {load_s * 1000:.0f} ms"
            if ttft_ms is not None:
                st.summary += f", first token {ttft_ms:.0f} ms"
            if calls:
                st.summary += f", {len(calls)} tool call{'s' if len(calls) > 1 else ''} ({', '.join(c.name for c in calls)})"
            if tps:
                st.summary += f", {tps:.1f} tok/s"
            if retries:
                st.summary += f"; retried {len(retries)}×: " + ", ".join(retries)
            if unsupported:
                st.summary += f"; no tools: {unsupported.message}"
            if error:
                st.summary += f"; {error.kind}"
            if call.summary():
                st.summary += f"; {call.summary()}"
            cost = turn_cost(prov.config, answered_by, usage, cached=call.cached is not None)
            st.summary += f"; {cost.label()}"
            st.detail = {"step": step, "ttft_ms": ttft_ms, "client_ms": client_ms, "load_ms": load_s * 1000,
                         "tokens": completion, "tokens_per_s": tps,
                         "prompt_tokens": usage.prompt_tokens, "estimated": usage.estimated, "retries": len(retries),
                         "tools_offered": len(schemas or ()), "tool_choice": choice, "tool_calls": len(calls),
                         "first_call_ms": first_call_ms, "cost": cost.to_dict(), **call.detail()}
        if calls and schemas and status == "complete":
            # A round that called tools is kept now, with its calls: a kill -9 while they
            # run loses none of it.
            writer.flush("complete", prompt_tokens=usage.prompt_tokens, completion_tokens=completion,
                         tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls])
            self.publish(UsageReported(usage.prompt_tokens, usage.completion_tokens, usage.estimated))
        return Round(writer.text, calls, usage, status, error, writer, ttft_ms, completion, tps,
                     prov.name, answered_by, unsupported)

