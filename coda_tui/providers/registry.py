"""Build a provider from its [providers.NAME] entry."""

from __future__ import annotations

from collections.abc import Callable

from coda_tui.config import Config, ProviderConfig
from coda_tui.providers.base import Provider
from coda_tui.providers.breaker import CircuitBreaker

DEFAULT_CONTEXT = 8192  # Provider.context_window's default


def make_provider(pc: ProviderConfig) -> Provider:
    # Each backend's module is imported only when that backend is used.
    if pc.type == "llama_cpp":
        from coda_tui.providers.llama_cpp import LlamaCppProvider

        return LlamaCppProvider(pc)
    if pc.type == "ollama":
        from coda_tui.providers.ollama import OllamaProvider

        return OllamaProvider(pc)
    if pc.type == "openai":
        from coda_tui.providers.openai_compat import OpenAIProvider

        return OpenAIProvider(pc)
    raise ValueError(f"unknown provider type {pc.type!r}")  # config validation prevents this


class Providers:
    """The providers of one process, created on first use and reused (a loaded model is
    expensive to load twice)."""

    def __init__(self, config: Config, on_breaker: Callable[[str, str], None] | None = None) -> None:
        self.config = config
        self._made: dict[str, Provider] = {}
        # (provider name, new state) whenever a provider's circuit changes state.
        self.on_breaker = on_breaker

    def describe(self, name: str | None = None) -> tuple[str, str, int]:
        """(name, default model, context window) without creating the provider, whose client
        library (openai: ~350 ms to import) the app's first frame should not wait for."""
        pc = self.config.provider(name)
        if pc.name in self._made:
            made = self._made[pc.name]
            return pc.name, made.default_model, made.context_window
        if pc.type == "llama_cpp":
            made = make_provider(pc)  # cheap: llama_cpp itself is imported on first load
            return pc.name, made.default_model, made.context_window
        if pc.type == "ollama":
            from coda_tui.providers.ollama import DEFAULT_CONTEXT_WINDOW, DEFAULT_MODEL

            return pc.name, pc.model or DEFAULT_MODEL, pc.context_window or DEFAULT_CONTEXT_WINDOW
        return pc.name, pc.model or "", pc.context_window or DEFAULT_CONTEXT

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
        import importlib

        kind = self.config.providers[name].type
        if kind in ("openai", "ollama"):
            importlib.import_module(kind)
            importlib.import_module(f"coda_tui.providers.{'openai_compat' if kind == 'openai' else kind}")

    def made(self, name: str) -> Provider | None:
        """The provider if this process has created it (its breaker has a history), else None."""
        return self._made.get(name)

    async def aclose(self) -> None:
        for p in self._made.values():
            await p.aclose()
        self._made.clear()
