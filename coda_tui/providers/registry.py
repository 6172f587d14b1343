"""Build a provider from its [providers.NAME] entry, through its type's row in types.TYPES."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from coda_tui.config import Config, ProviderConfig
from coda_tui.providers.base import Provider
from coda_tui.providers.breaker import CircuitBreaker
from coda_tui.providers.types import TYPES


def make_provider(pc: ProviderConfig) -> Provider:
    # Each backend's module is imported only when that backend is used.
    kind = TYPES[pc.type]  # config validation checked the type
    module = importlib.import_module(kind.module)
    return getattr(module, kind.cls)(pc)


class Providers:
    """The providers of one process, created on first use and reused (a loaded model is
    expensive to load twice)."""

    def __init__(self, config: Config, on_breaker: Callable[[str, str], None] | None = None) -> None:
        self.config = config
        self._made: dict[str, Provider] = {}
        # (provider name, new state) whenever a provider's circuit changes state.
        self.on_breaker = on_breaker

    def describe(self, name: str | None = None) -> tuple[str, str, int]:
        """(name, default model, context window) without importing a client library (openai:
        ~350 ms), which the app's first frame should not wait for."""
        pc = self.config.provider(name)
        kind = TYPES[pc.type]
        if pc.name not in self._made and kind.preload:
            return pc.name, pc.model or kind.default_model, pc.context_window or kind.context_window
        # Made already, or cheap to make (the embedded model loads on first use).
        made = self.get(pc.name)
        return pc.name, made.default_model, made.context_window

    def get(self, name: str | None = None) -> Provider:
        pc = self.config.provider(name)
        if pc.name not in self._made:
            made = make_provider(pc)
            res = self.config.resilience
            notify = self.on_breaker
            made.breaker = CircuitBreaker(
                res.breaker_failures,
                res.breaker_cooldown_s,
                on_change=(lambda state, n=pc.name: notify(n, state)) if notify else None,
            )
            self._made[pc.name] = made
        return self._made[pc.name]

    def preload(self, name: str) -> None:
        """Import a backend's client library (openai: ~350 ms) without creating anything: run
        in a thread, then get() on the event loop is quick, and a caller cancelled meanwhile
        leaves no half-made client behind."""
        kind = TYPES[self.config.providers[name].type]
        if kind.preload:
            for library in kind.preload:
                importlib.import_module(library)
            importlib.import_module(kind.module)

    def made(self, name: str) -> Provider | None:
        """The provider if this process has created it (its breaker has a history), else None."""
        return self._made.get(name)

    async def aclose(self) -> None:
        for p in self._made.values():
            await p.aclose()
        self._made.clear()
