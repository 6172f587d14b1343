"""One async streaming interface for every model backend.

`Provider.stream()` yields text chunks as they arrive and then one `Usage`. Retries with
exponential backoff happen here, once, for every provider — and only before the first
chunk: retrying after text has been shown would repeat it. The provider's circuit breaker
(when the registry gave it one) is consulted here too, so every caller benefits. So are
the two bounds a server cannot push past: the wait for the first text (first_byte_timeout,
retries included) and the length of an answer (a multiple of max_tokens, a byte limit).
"""

from __future__ import annotations

import abc
import asyncio
import logging
import random
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import AsyncIterator, Callable, Sequence

from coda_tui.config import ProviderConfig
from coda_tui.providers import errors as E
from coda_tui.providers.breaker import CircuitBreaker
from coda_tui.providers.errors import ProviderError, RateLimited
from coda_tui.providers.transport import map_transport_error
from coda_tui.providers.types import TYPES

# Failed attempts go to logs/coda.log (its handler scrubs keys): an HTTP 500 or a refused
# connection is otherwise only on the screen that showed it.
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolCall:
    """A model's request to run a tool, complete: a provider assembles streamed pieces
    (OpenAI's tool_calls deltas, say) and yields one of these once its arguments are whole.
    `arguments` is the JSON text as the model wrote it — possibly malformed: parsing it is
    the tool loop's job, so a bad call goes back to the model as a tool error."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant | tool
    content: str
    # An assistant message that asked for tools carries its calls; a tool message answers
    # one of them by id (and names the tool: Ollama and Anthropic want it).
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    # True when counted by us rather than reported by the server.
    estimated: bool = False


@dataclass
class Health:
    ok: bool
    detail: str
    latency_ms: float = 0.0


RetryCallback = Callable[[int, float, ProviderError], None]

BACKOFF_BASE = 0.5
BACKOFF_CAP = 20.0
RETRY_AFTER_CAP = 60.0

# A server that ignores max_tokens is stopped here: past this many times max_tokens
# (counting a chunk, or four characters, as a token), or this many bytes whatever max_tokens.
ANSWER_CEILING_FACTOR = 4
ANSWER_CEILING_BYTES = 4 * 1024 * 1024
_END = object()


def backoff_delay(attempt: int, error: ProviderError) -> float:
    """Delay before retry number `attempt` (1-based): Retry-After if given, else jittered 2^n."""
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return min(error.retry_after, RETRY_AFTER_CAP)
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    return delay * (0.8 + 0.4 * random.random())


class Provider(abc.ABC):
    # Whether this type translates `tools` to its wire format; a type that does not is
    # refused tools up front (ToolsUnsupported) rather than silently answering without them.
    takes_tools = False

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.name = config.name
        self.breaker: CircuitBreaker | None = None

    @property
    def default_model(self) -> str:
        return self.config.model or TYPES[self.config.type].default_model

    @property
    def context_window(self) -> int:
        return self.config.context_window or TYPES[self.config.type].context_window

    async def stream(
        self,
        messages: list[ChatMessage],
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_retry: RetryCallback | None = None,
        tools: list[dict] | None = None,
        tool_choice: str | None = None,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        """Text chunks, then any ToolCalls the model made (each complete), then one Usage.

        `tools` are JSON-schema function descriptions in OpenAI's shape
        ({"type": "function", "function": {"name", "description", "parameters"}}); a provider
        translates them to its own wire format. One that cannot offer tools to this model
        raises ToolsUnsupported before anything is yielded.

        `tool_choice` (with tools only): "auto" (the model decides; the default), "required"
        (it must call one of them), "none", or a tool's name (it must call that one). Ollama
        has no such option and always decides itself. A tool loop asks `tool_choice_for(step,
        names)` what to pass on each round."""
        if tools and not self.takes_tools:
            raise E.ToolsUnsupported(self.name, f"the {self.config.type} provider type cannot offer tools to a model")
        breaker = self.breaker
        if breaker is not None and not breaker.allow():
            raise breaker.rejection(self.name)
        # aclosing: a caller that stops reading must stop the generation underneath at once
        # (the embedded model's thread holds the model until it is told to stop).
        try:
            async with aclosing(self._stream_retrying(messages, model, max_tokens, temperature, on_retry,
                                                         tools or None, tool_choice)) as items:
                async for item in items:
                    yield item
        except ProviderError as exc:
            if breaker is not None:
                breaker.failure(exc)
            raise
        except BaseException:
            if breaker is not None:
                breaker.abandon()  # cancelled, or the caller stopped reading: no verdict
            raise
        if breaker is not None:
            breaker.success()

    async def _stream_retrying(
        self,
        messages: list[ChatMessage],
        model: str | None,
        max_tokens: int | None,
        temperature: float | None,
        on_retry: RetryCallback | None,
        tools: list[dict] | None = None,
        tool_choice: str | None = None,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        model = model or self.default_model
        max_tokens = max_tokens or self.config.max_tokens
        temperature = self.config.temperature if temperature is None else temperature
        bound = self.config.first_byte_timeout
        deadline = time.monotonic() + bound
        attempt = 0
        while True:
            ceiling = _Ceiling(self, max_tokens)
            try:
                # Closed here when the consumer stops early (Esc, a full disk), not later by
                # the garbage collector, which would find the HTTP stream still open.
                async with aclosing(self._stream_once(messages, model, max_tokens, temperature,
                                                      tools, tool_choice)) as items:
                    while (item := await self._next(items, None if ceiling.started else deadline)) is not _END:
                        if isinstance(item, str):
                            ceiling.add(item)
                        elif isinstance(item, ToolCall):
                            # A call is answer too: once one is out, a retry would repeat it.
                            ceiling.add(item.arguments)
                        yield item
                return
            except ProviderError as exc:
                log.warning("%s (%s) attempt %d failed: %s", self.name, model, attempt + 1, exc.render())
                if ceiling.started or not exc.retryable or attempt >= self.config.max_retries:
                    raise
                attempt += 1
                delay = backoff_delay(attempt, exc)
                wait = exc.retry_after if isinstance(exc, RateLimited) and exc.retry_after is not None else delay
                if time.monotonic() + wait >= deadline:
                    raise self._waited_enough(exc, attempt) from None
                if on_retry:
                    on_retry(attempt, delay, exc)
                await asyncio.sleep(delay)

    async def _next(self, items: AsyncIterator[str | ToolCall | Usage], deadline: float | None) -> object:
        """The next item, or _END; before the first text, only until `deadline`."""
        if deadline is None:
            return await anext(items, _END)
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())) as cm:
                return await anext(items, _END)
        except TimeoutError:
            if not cm.expired():
                raise
            raise E.NoFirstByte(
                self.name,
                f"no answer from {self.config.endpoint} within {self.config.first_byte_timeout:g} s",
                hint=f"nothing arrived; if it is only slow (loading a model, say), raise first_byte_timeout "
                f"in [providers.{self.name}]",
                endpoint=self.config.endpoint,
            ) from None

    def _waited_enough(self, exc: ProviderError, attempts: int) -> ProviderError:
        """Giving up before the first text: the next try would end past first_byte_timeout."""
        bound = self.config.first_byte_timeout
        if isinstance(exc, RateLimited) and exc.retry_after is not None and exc.retry_after > bound:
            # The message already says how long the server asks to wait.
            why = f"that is longer than coda waits for an answer ({bound:g} s)"
        else:
            why = f"no answer within {bound:g} s ({attempts} attempt{'s' if attempts > 1 else ''})"
        return type(exc)(self.name, f"{exc.message}; gave up: {why}",
                         hint=f"try again later, or raise first_byte_timeout in [providers.{self.name}]",
                         endpoint=exc.endpoint)

    @abc.abstractmethod
    def _stream_once(
        self, messages: list[ChatMessage], model: str, max_tokens: int, temperature: float | None,
        tools: list[dict] | None = None, tool_choice: str | None = None,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        """One attempt; must raise ProviderError subclasses, never library exceptions."""

    def tool_choice_for(self, step: int, tool_names: Sequence[str]) -> str:
        """The tool_choice a tool loop passes on round `step` (0 = the turn's first): the
        provider's `tool_choice` setting on the first round, "auto" otherwise. The embedded
        model has a plan of its own (LlamaCppProvider)."""
        configured = self.config.tool_choice
        if step == 0 and configured and (configured in ("auto", "required", "none") or configured in tool_names):
            return configured
        return "auto"

    @abc.abstractmethod
    async def list_models(self) -> list[str]: ...

    async def warm(self, model: str) -> float:
        """Get ready to answer (load a model, say); returns the seconds that took, 0 if nothing."""
        return 0.0

    async def health(self) -> Health:
        t0 = time.perf_counter()
        try:
            models = await self.list_models()
        except ProviderError as exc:
            return Health(False, exc.render(), (time.perf_counter() - t0) * 1000)
        ms = (time.perf_counter() - t0) * 1000
        model = self.default_model
        if model and models and not self.offers(model, models):
            return Health(False, f"{self.name}: model '{model}' is not offered at {self.config.endpoint}", ms)
        return Health(True, f"{len(models)} model(s) at {self.config.endpoint}", ms)

    def offers(self, model: str, models: list[str]) -> bool:
        return model in models

    async def embed(self, texts: list[str], model: str) -> list[list[float]]:
        """One vector a text, for semantic code search; not every backend offers it."""
        from coda_tui.providers.errors import ProviderUnavailable

        raise ProviderUnavailable(self.name, "this provider type offers no embeddings", hint="use an openai or ollama provider")

    async def aclose(self) -> None:
        """Release connections; the default has nothing to release."""


class _Ceiling:
    """How much of an answer has arrived, and the stop when it is more than any answer
    max_tokens allows (a server that ignores max_tokens would otherwise stream forever)."""

    def __init__(self, provider: Provider, max_tokens: int) -> None:
        self.provider = provider
        self.max_tokens = max_tokens
        self.tokens = ANSWER_CEILING_FACTOR * max_tokens
        self.chunks = 0
        self.chars = 0
        self.bytes = 0

    @property
    def started(self) -> bool:
        return self.chunks > 0

    def add(self, text: str) -> None:
        self.chunks += 1
        self.chars += len(text)
        self.bytes += len(text.encode("utf-8", "surrogatepass"))
        if max(self.chunks, self.chars / 4) <= self.tokens and self.bytes <= ANSWER_CEILING_BYTES:
            return
        why = (f"{ANSWER_CEILING_BYTES:,} bytes" if self.bytes > ANSWER_CEILING_BYTES
               else f"{ANSWER_CEILING_FACTOR} x max_tokens ({self.max_tokens:,})")
        p = self.provider
        raise E.AnswerTooLong(
            p.name,
            f"stopped the answer from {p.config.endpoint} after {self.chars:,} characters: it ran past {why}",
            hint="the server ignores max_tokens; what arrived is kept as a partial answer",
            endpoint=p.config.endpoint,
        )


class RemoteProvider(Provider):
    """A server spoken to over HTTP: one place that ends its streams and maps its errors.

    A subclass yields text and, once the server says the answer is complete, one Usage;
    `_map` turns its client library's exceptions into ProviderErrors.
    """

    @abc.abstractmethod
    def _chunks(
        self, messages: list[ChatMessage], model: str, max_tokens: int, temperature: float | None,
        *, tools: list[dict] | None = None, tool_choice: str | None = None,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        """`tools` and `tool_choice` are passed only when there are tools (and only to a type
        that `takes_tools`)."""

    @abc.abstractmethod
    def _map(self, exc: Exception, model: str, got_text: bool) -> Exception: ...

    # Said when the body ended without a single answer event.
    no_answer_hint = ""

    async def _stream_once(
        self, messages: list[ChatMessage], model: str, max_tokens: int, temperature: float | None,
        tools: list[dict] | None = None, tool_choice: str | None = None,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        got_text = False
        usage = None
        try:
            async with aclosing(self._chunks(messages, model, max_tokens, temperature,
                                             **({"tools": tools, "tool_choice": tool_choice} if tools else {}))) as items:
                async for item in items:
                    if isinstance(item, Usage):
                        usage = item
                        continue
                    got_text = True
                    yield item
        except E.ProviderError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a typed error, or re-raised as is
            raise self._map(exc, model, got_text) from None
        if usage is None:
            # The body ended without the server saying the answer was complete: the
            # connection was cut, or it was never this server's kind of stream.
            endpoint = self.config.endpoint
            if got_text:
                raise E.StreamInterrupted(
                    self.name,
                    f"the answer from {endpoint} ended without finishing",
                    hint="what arrived is kept as a partial answer; retry to get a full one",
                    endpoint=endpoint,
                )
            raise E.BadResponse(self.name, f"{endpoint} sent no answer", hint=self.no_answer_hint, endpoint=endpoint)
        yield usage

    def _map_transport(self, exc: Exception, got_text: bool) -> E.ProviderError | None:
        return map_transport_error(
            exc, provider=self.name, endpoint=self.config.endpoint, got_text=got_text, timeout=self.config.timeout
        )
