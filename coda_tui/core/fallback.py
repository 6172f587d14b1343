"""Asking a fallback chain of provider:model targets in turn, with the response cache in front.

The next target is tried when one fails (any provider error: an auth error at one provider
says nothing about the next) or answers nothing. Never once text has reached the user: a
second answer glued to half of a first would be worse than the partial answer, which is
kept and marked as such.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import asdict, dataclass

from coda_tui.config import ConfigError
from coda_tui.core.cache import CachedAnswer, ResponseCache, request_key
from coda_tui.core.choice import label
from coda_tui.providers.base import (
    ChatMessage,
    Provider,
    RetryCallback,
    ToolCall,
    Usage,
)
from coda_tui.providers.errors import (
    ProviderError,
    ProviderUnavailable,
    ToolsUnsupported,
)
from coda_tui.providers.registry import Providers

NO_FALLBACK_AFTER_TEXT = "no fallback: part of the answer had already been shown"


@dataclass
class Attempt:
    provider: str
    model: str
    # answered | cached | error | empty | partial
    outcome: str
    error: str | None = None
    kind: str | None = None
    ms: float = 0.0


class FallbackCall:
    """One llm stage's call: `stream()` yields what the answering target sends; afterwards
    `provider`/`model` name who answered and `attempts` says what happened on the way."""

    def __init__(
        self,
        providers: Providers,
        first: Provider,
        fallback_chain: list[tuple[str, str | None]],
        *,
        cache: ResponseCache | None = None,
        use_cached: bool = True,
        redact: Callable[[str], str] = lambda s: s,
        on_fallback: Callable[[Attempt, str, str], None] | None = None,
    ) -> None:
        self.providers = providers
        self.fallback_chain = fallback_chain
        self.cache = cache
        self.use_cached = use_cached
        self.redact = redact
        self.on_fallback = on_fallback
        self.provider: Provider = first
        self.model = fallback_chain[0][1] or first.default_model
        self.attempts: list[Attempt] = []
        self.load_s = 0.0
        self.cached: CachedAnswer | None = None
        self.note = ""
        # What the answering target was asked to do with the tools, if it had any.
        self.tool_choice: str | None = None

    @property
    def fell_back(self) -> bool:
        return len(self.attempts) > 1

    def _record(self, outcome: str, t0: float, error: ProviderError | None = None) -> Attempt:
        attempt = Attempt(self.provider.name, self.model, outcome, self.redact(error.render()) if error else None,
                          error.kind if error else None, (time.perf_counter() - t0) * 1000)
        self.attempts.append(attempt)
        return attempt

    def _next(self, index: int, attempt: Attempt) -> bool:
        """Move to target `index + 1` if there is one."""
        if index + 1 >= len(self.fallback_chain):
            return False
        name, model = self.fallback_chain[index + 1]
        if self.on_fallback:
            self.on_fallback(attempt, name, model or "")
        return True

    async def stream(
        self, messages: list[ChatMessage], on_retry: RetryCallback | None = None,
        tools: list[dict] | None = None, tool_choice: str | None = None, step: int = 0,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        """As Provider.stream. Without a tool_choice, each target picks its own for tool
        round `step` (Provider.tool_choice_for: the embedded model's plan is not an API's),
        and `tool_choice` afterwards says what the answering one was asked.

        With tools, the response cache is used only for a turn's first
        round (the tools offered in its key) and only ever keeps a reply without calls: a
        cached answer is text only, so a round that ends in tool calls cannot be replayed
        from it, and a round after tool results rests on the project's files as they were
        read, which no key can see. A first round answered without a call needed no file."""
        if any(m.role == "tool" or m.tool_calls for m in messages):
            self.cache = None
        try:
            async with aclosing(self._stream(messages, on_retry, tools or None, tool_choice, step)) as items:
                async for item in items:
                    yield item
        finally:
            # One hit or one miss a request, however many targets were looked up.
            if self.cache is not None and self.use_cached and self.attempts:
                self.cache.count(self.cached)

    async def _stream(
        self, messages: list[ChatMessage], on_retry: RetryCallback | None, tools: list[dict] | None,
        tool_choice: str | None, step: int,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        names = [(t.get("function") or {}).get("name", "") for t in tools or ()]
        for index, (name, model) in enumerate(self.fallback_chain):
            t0 = time.perf_counter()
            if index:
                try:
                    self.provider = self.providers.get(name)
                except ConfigError as exc:  # e.g. no API key for it: a target that cannot answer
                    skipped = Attempt(name, model or "", "error", str(exc), "config")
                    self.attempts.append(skipped)
                    if self._next(index, skipped):
                        continue
                    raise ProviderUnavailable(name, f"cannot be used: {exc}") from None
            self.model = model or self.provider.default_model
            prov = self.provider
            key = None
            if tools:
                self.tool_choice = tool_choice or prov.tool_choice_for(step, names)
            if self.cache is not None:
                options = {"max_tokens": prov.config.max_tokens, "temperature": prov.config.temperature}
                if tools:
                    options["tools"] = sorted(t["function"]["name"] for t in tools)
                    options["tool_choice"] = self.tool_choice
                key = request_key(prov.name, prov.config.endpoint, self.model, messages, options)
                hit = self.cache.get(key, count=False) if self.use_cached else None
                if hit is not None:
                    self.cached = hit
                    self._record("cached", t0)
                    yield hit.text
                    yield Usage(hit.prompt_tokens, hit.completion_tokens)
                    return
            got_text, parts, usage, called = False, [], Usage(), False
            try:
                self.load_s += await prov.warm(self.model)
                asked = time.perf_counter()
                extra = {"tools": tools, "tool_choice": self.tool_choice} if tools else {}
                async with aclosing(prov.stream(messages, model=self.model, on_retry=on_retry, **extra)) as items:
                    async for item in items:
                        if isinstance(item, str):
                            got_text = got_text or bool(item)
                            parts.append(item)
                        elif isinstance(item, ToolCall):
                            got_text = called = True  # a call is an answer: nothing after it may fall back
                        else:
                            usage = item
                        yield item
            except ToolsUnsupported as exc:
                # Not this target's failure but the request's: the loop asks it again
                # without tools, rather than the chain quietly changing model.
                self._record("error", t0, exc)
                raise
            except ProviderError as exc:
                if got_text:
                    self._record("partial", t0, exc)
                    self.note = NO_FALLBACK_AFTER_TEXT
                    raise
                if self._next(index, self._record("error", t0, exc)):
                    continue
                raise
            if not got_text:
                if self._next(index, self._record("empty", t0)):
                    continue
                return  # the last target's empty answer stands
            self._record("answered", t0)
            if key is not None and not called:  # a reply that called tools is never kept
                # Masked like the stored answer: a key a server echoed back is never kept.
                self.cache.put(key, prov.name, self.model, self.redact("".join(parts)), usage.prompt_tokens,
                               usage.completion_tokens, (time.perf_counter() - asked) * 1000)
            return

    def detail(self) -> dict:
        out = {"attempts": [asdict(a) for a in self.attempts]}
        if self.cached is not None:
            out["cached"] = True
            out["saved_ms"] = self.cached.duration_ms
        if self.note:
            out["note"] = self.note
        if self.tool_choice:
            out["tool_choice"] = self.tool_choice
        return out

    def summary(self) -> str:
        """What the trace says about the way to the answer (empty when it was direct)."""
        parts = []
        # Only a failure some later attempt followed is one it fell back after: a lone
        # provider's error is the turn's error, reported as such.
        failed = [a for a in self.attempts[:-1] if a.outcome in ("error", "empty")]
        if failed:
            parts.append("fell back after " + ", ".join(
                f"{label(a.provider, a.model)} {a.kind or 'empty answer'}" for a in failed))
        if self.cached is not None:
            parts.append(f"answered from cache (saved {self.cached.duration_ms:,.0f} ms)")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)
