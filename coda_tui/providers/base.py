"""One async streaming interface for every model backend.

`Provider.stream()` yields text chunks as they arrive and then one `Usage`. Retries with
exponential backoff happen here, once, for every provider — and only before the first
chunk: retrying after text has been shown would repeat it. The provider's circuit breaker
(when the registry gave it one) is consulted here too, so every caller benefits.
"""

from __future__ import annotations

import abc
import asyncio
import random
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import AsyncIterator, Callable

from coda_tui.config import ProviderConfig
from coda_tui.providers.breaker import CircuitBreaker
from coda_tui.providers.errors import ProviderError, RateLimited


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant
    content: str


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


def backoff_delay(attempt: int, error: ProviderError) -> float:
    """Delay before retry number `attempt` (1-based): Retry-After if given, else jittered 2^n."""
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return min(error.retry_after, RETRY_AFTER_CAP)
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    return delay * (0.8 + 0.4 * random.random())


class Provider(abc.ABC):
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.name = config.name
        self.breaker: CircuitBreaker | None = None

    @property
    def default_model(self) -> str:
        return self.config.model or ""

    @property
    def context_window(self) -> int:
        return self.config.context_window or 8192  # registry.DEFAULT_CONTEXT

    async def stream(
        self,
        messages: list[ChatMessage],
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_retry: RetryCallback | None = None,
    ) -> AsyncIterator[str | Usage]:
        breaker = self.breaker
        if breaker is not None and not breaker.allow():
            raise breaker.rejection(self.name)
        # aclosing: a caller that stops reading must stop the generation underneath at once
        # (the embedded model's thread holds the model until it is told to stop).
        try:
            async with aclosing(self._stream_retrying(messages, model, max_tokens, temperature, on_retry)) as items:
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
    ) -> AsyncIterator[str | Usage]:
        model = model or self.default_model
        max_tokens = max_tokens or self.config.max_tokens
        temperature = self.config.temperature if temperature is None else temperature
        attempt = 0
        while True:
            started = False
            try:
                # Closed here when the consumer stops early (Esc, a full disk), not later by
                # the garbage collector, which would find the HTTP stream still open.
                async with aclosing(self._stream_once(messages, model, max_tokens, temperature)) as items:
                    async for item in items:
                        if isinstance(item, str):
                            started = True
                        yield item
                return
            except ProviderError as exc:
                if started or not exc.retryable or attempt >= self.config.max_retries:
                    raise
                attempt += 1
                delay = backoff_delay(attempt, exc)
                if on_retry:
                    on_retry(attempt, delay, exc)
                await asyncio.sleep(delay)

    @abc.abstractmethod
    def _stream_once(
        self, messages: list[ChatMessage], model: str, max_tokens: int, temperature: float | None
    ) -> AsyncIterator[str | Usage]:
        """One attempt; must raise ProviderError subclasses, never library exceptions."""

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
